"""No code reaches a stored file through the local disk or a public address.

An object store has no `.path` (django-storages raises NotImplementedError) and every file the
platform keeps is private, so the application opens stored files through the storage
(`storage.open`, `FieldFile.open`) and serves them from its own views after the permission
check. This reads the source: a `.path`, `.url` or `temporary_file_path` on a stored file or a
storage fails here, before it fails on the object store in production.
"""

import ast
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SKIPPED = {".venv", "tests", "node_modules", "var", ".git", "static", "staticfiles"}
# `x.file.path`, `default_storage.path(...)`, `upload.url`, `storages["default"].url(...)`.
FORBIDDEN_ATTRIBUTES = {"path", "url", "temporary_file_path"}
STORED_FILE_NAME = re.compile(r"(file|storage|upload|stored|pdf|export)s?$", re.IGNORECASE)
TEMPLATE_FILE_URL = re.compile(r"\{\{[^}]*\b\w*file\w*\.(url|path)\b")


def _python_sources():
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIPPED & set(path.relative_to(ROOT).parts):
            yield path


def _trailing_name(node: ast.expr) -> str:
    """The last name of the expression an attribute is read from: `file` in `upload.file`,
    `default_storage` in `default_storage`, `storages` in `storages["default"]`."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def stored_file_paths(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or node.attr not in FORBIDDEN_ATTRIBUTES:
            continue
        if node.attr == "temporary_file_path" or STORED_FILE_NAME.search(_trailing_name(node.value)):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_check_finds_what_it_looks_for():
    """The patterns this test refuses are found (so an empty result below means something)."""
    source = (
        "a = upload.file.path\n"
        "b = default_storage.path(name)\n"
        "c = storages['default'].url(name)\n"
        "d = form.cleaned_data['file'].temporary_file_path()\n"
        "e = export.file.url\n"
        "ok = request.path + material.url + parts.path\n"
    )
    assert len(stored_file_paths(source)) == 5


def test_no_code_uses_a_path_or_url_of_a_stored_file():
    offences = []
    for path in _python_sources():
        offences += [f"{path.relative_to(ROOT)} {hit}" for hit in stored_file_paths(path.read_text())]
    assert offences == []


def test_no_template_links_to_a_stored_file():
    offences = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        offences += [
            f"{path.relative_to(ROOT)}: {hit.group(0)}"
            for hit in TEMPLATE_FILE_URL.finditer(path.read_text())
        ]
    assert offences == []
