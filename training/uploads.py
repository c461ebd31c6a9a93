"""Checks on uploaded files: the real type, read from the content, the name, and the size."""

import filetype
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

MATERIAL_MAX_BYTES = 20 * 1024 * 1024
# Content types we accept (by what the bytes are, not what the name says), each with its
# readable name and the file name endings that may carry it.
MATERIAL_TYPES = {
    "application/pdf": ("PDF", ["pdf"]),
    "image/png": ("PNG", ["png"]),
    "image/jpeg": ("JPEG", ["jpg", "jpeg"]),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("Word", ["docx"]),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("PowerPoint", ["pptx"]),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("Excel", ["xlsx"]),
    "application/vnd.oasis.opendocument.text": ("OpenDocument text", ["odt"]),
}


def material_file_check(upload) -> str:
    """Return the upload's real content type, or raise a ValidationError that says why not."""
    if upload.size > MATERIAL_MAX_BYTES:
        raise ValidationError(
            {
                "upload": _("The file is %(size)s; the most we accept is %(max)s.")
                % {"size": filesizeformat(upload.size), "max": filesizeformat(MATERIAL_MAX_BYTES)}
            }
        )
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in MATERIAL_TYPES:
        raise ValidationError(
            {
                "upload": _("This kind of file is not accepted. Upload one of: %(kinds)s.")
                % {"kinds": ", ".join(sorted({name for name, _ext in MATERIAL_TYPES.values()}))}
            }
        )
    name, extensions = MATERIAL_TYPES[kind.mime]
    if upload.name.rsplit(".", 1)[-1].lower() not in extensions:
        # A name that lies about the content would mislead whoever downloads it.
        raise ValidationError(
            {
                "upload": _(
                    "“%(file)s” is a %(kind)s file, so its name should end in .%(extension)s. "
                    "Upload the file you meant, or rename it."
                )
                % {"file": upload.name, "kind": name, "extension": extensions[0]}
            }
        )
    return kind.mime
