"""Checks on uploaded files: the real type, read from the content, the name, and the size."""

from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

MATERIAL_MAX_BYTES = 20 * 1024 * 1024
SUBMISSION_MAX_BYTES = 10 * 1024 * 1024
SUBMISSION_MAX_FILES = 5


@dataclass(frozen=True)
class FileType:
    key: str  # what assignments store in accepted_file_types
    label: str
    extensions: tuple[str, ...]


# Content types we accept (by what the bytes are, not what the name says).
FILE_TYPES = {
    "application/pdf": FileType("pdf", "PDF", ("pdf",)),
    "image/png": FileType("png", "PNG", ("png",)),
    "image/jpeg": FileType("jpg", "JPEG", ("jpg", "jpeg")),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileType(
        "docx", "Word", ("docx",)
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": FileType(
        "pptx", "PowerPoint", ("pptx",)
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": FileType("xlsx", "Excel", ("xlsx",)),
    "application/vnd.oasis.opendocument.text": FileType("odt", "OpenDocument text", ("odt",)),
}
FILE_TYPE_CHOICES = [(file_type.key, file_type.label) for file_type in FILE_TYPES.values()]
FILE_TYPE_KEYS = {file_type.key for file_type in FILE_TYPES.values()}


def file_type_labels(keys) -> str:
    """'PDF, Word' for the given keys, in a stable order."""
    wanted = set(keys)
    return ", ".join(sorted(t.label for t in FILE_TYPES.values() if t.key in wanted))


def file_check(upload, *, accepted_keys=None, max_bytes: int, field: str = "upload") -> str:
    """Return the upload's real content type, or raise a ValidationError on `field` that says why not.

    `accepted_keys` narrows FILE_TYPES (None accepts them all).
    """
    if upload.size > max_bytes:
        raise ValidationError(
            {
                field: _("“%(file)s” is %(size)s; the most we accept is %(max)s.")
                % {"file": upload.name, "size": filesizeformat(upload.size), "max": filesizeformat(max_bytes)}
            }
        )
    accepted = {mime: t for mime, t in FILE_TYPES.items() if accepted_keys is None or t.key in accepted_keys}
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in accepted:
        raise ValidationError(
            {
                field: _("“%(file)s” is not a kind of file accepted here. Upload one of: %(kinds)s.")
                % {"file": upload.name, "kinds": file_type_labels(t.key for t in accepted.values())}
            }
        )
    file_type = accepted[kind.mime]
    if upload.name.rsplit(".", 1)[-1].lower() not in file_type.extensions:
        # A name that lies about the content would mislead whoever downloads it.
        raise ValidationError(
            {
                field: _(
                    "“%(file)s” is a %(kind)s file, so its name should end in .%(extension)s. "
                    "Upload the file you meant, or rename it."
                )
                % {"file": upload.name, "kind": file_type.label, "extension": file_type.extensions[0]}
            }
        )
    return kind.mime


def material_file_check(upload) -> str:
    return file_check(upload, max_bytes=MATERIAL_MAX_BYTES)
