"""Where uploaded and generated files live: the local disk (MEDIA_ROOT) by default, or an
S3-compatible object store when STORAGE_URL is set, so that every web server and worker of a
deployment reads what another wrote (docs/decisions/0025-object-storage.md).

Every file the platform keeps is private (submissions, materials, data exports, certificate
PDFs): no URL of the store is ever given out. Views open the file through the storage after
their permission check and stream it (FileResponse), so the store needs no public access and
may sit on a private network.
"""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

LOCAL_DISK = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
S3_BACKEND = "storages.backends.s3.S3Storage"

# A file read back from the store is spooled in memory up to this size, then to a temporary
# file (django-storages' default, 0, would keep a whole data-export ZIP in memory).
SPOOL_MEMORY_BYTES = 2_621_440  # Django's FILE_UPLOAD_MAX_MEMORY_SIZE
# Only a signed URL could reach an object, and the platform issues none; if one were ever made
# (the admin's link to a FileField), it would lapse within a minute.
SIGNED_URL_SECONDS = 60


def storage_from_url(url: str) -> dict:
    """The STORAGES["default"] entry for STORAGE_URL; the local disk when it is empty.

    `s3://ACCESS_KEY:SECRET_KEY@HOST[:PORT]/BUCKET[/PREFIX]?region=REGION&tls=false&acl=private`

    HOST is the store's endpoint (`s3.eu-west-2.amazonaws.com`, a MinIO or Ceph host). Keys
    are URL-encoded; without them boto3 finds credentials as it always does (AWS_* variables,
    an instance role). `tls=false` speaks plain HTTP (tests, a store on the same host).
    `acl=` (empty) sends no ACL, for buckets whose ACLs are turned off (objects are then the
    bucket owner's, private unless a bucket policy says otherwise: give it none).
    """
    if not url:
        return LOCAL_DISK
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise ImproperlyConfigured(f"STORAGE_URL must start with s3://, not {parts.scheme}://")
    bucket, _, prefix = parts.path.strip("/").partition("/")
    if not parts.hostname or not bucket:
        raise ImproperlyConfigured("STORAGE_URL needs a host and a bucket: s3://KEY:SECRET@HOST/BUCKET")
    query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(query) - {"region", "tls", "acl", "addressing"}
    if unknown:
        raise ImproperlyConfigured(f"STORAGE_URL has unknown parameters: {', '.join(sorted(unknown))}")
    tls = query.get("tls", "true").lower() not in {"false", "0", "no", "off"}
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    endpoint = f"{'https' if tls else 'http'}://{host}" + (f":{parts.port}" if parts.port else "")
    # AWS wants virtual-hosted addressing for new buckets; other stores mostly want path style.
    on_aws = parts.hostname.endswith(".amazonaws.com")
    options = {
        "bucket_name": bucket,
        "location": prefix,
        "endpoint_url": endpoint,
        "region_name": query.get("region") or None,
        "addressing_style": query.get("addressing") or ("virtual" if on_aws else "path"),
        "default_acl": query.get("acl", "private") or None,
        # Uploads keep the names they were given: two materials called "notes.pdf" must not
        # overwrite each other, as on the local disk.
        "file_overwrite": False,
        "querystring_auth": True,
        "querystring_expire": SIGNED_URL_SECONDS,
        "max_memory_size": SPOOL_MEMORY_BYTES,
    }
    if parts.username:
        options["access_key"] = unquote(parts.username)
        options["secret_key"] = unquote(parts.password or "")
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
