"""What "kept privately" means for a stored file, on either storage."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def assert_stored_privately(name: str) -> None:
    """On the local disk: under MEDIA_ROOT, outside the static files (no URL serves MEDIA_URL).
    On an object store: no grant to anyone but the owner, and no bucket policy that could
    open it."""
    storage = storages["default"]
    assert storage.exists(name)
    if isinstance(storage, FileSystemStorage):
        # The test may look at the disk; the application never does (tests/storage/test_no_paths.py).
        path = Path(storage.path(name))
        assert path.is_relative_to(Path(settings.MEDIA_ROOT))
        assert not path.is_relative_to(Path(settings.STATIC_ROOT))
        return
    client = storage.connection.meta.client
    acl = client.get_object_acl(Bucket=storage.bucket_name, Key=f"{storage.location}/{name}".lstrip("/"))
    grantees = {grant["Grantee"].get("URI") or grant["Grantee"].get("ID") for grant in acl["Grants"]}
    assert grantees == {acl["Owner"]["ID"]}, acl["Grants"]
    assert not {ALL_USERS, AUTHENTICATED_USERS} & grantees
    with pytest.raises(client.exceptions.ClientError) as no_policy:
        client.get_bucket_policy(Bucket=storage.bucket_name)
    assert no_policy.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
