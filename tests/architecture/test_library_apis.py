"""Libraries are used through their documented APIs only (docs/architecture.md): no project
module imports, calls or overrides a private (underscore) name of drf-spectacular, whose private
methods change between releases without notice. Read from the source with `ast`."""

import ast
import importlib
from pathlib import Path

from tests.architecture.test_import_rules import CHECKED, ROOT

LIBRARY = "drf_spectacular"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _python_files() -> list[Path]:
    """The apps' modules (as the import rules read them) and the tests'."""
    return [path for folder in [*CHECKED, "tests"] for path in sorted((ROOT / folder).rglob("*.py"))]


def _library_names(tree: ast.Module) -> dict[str, object]:
    """The names a module binds to drf-spectacular modules and objects, with what they are."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == LIBRARY:
                    if alias.asname:  # import drf_spectacular.openapi as openapi
                        names[alias.asname] = importlib.import_module(alias.name)
                    else:  # import drf_spectacular.openapi binds drf_spectacular
                        names[LIBRARY] = importlib.import_module(LIBRARY)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == LIBRARY:
            module = importlib.import_module(node.module)
            for alias in node.names:
                names[alias.asname or alias.name] = getattr(module, alias.name, None)
    return names


def _private_uses(source: str, where: str) -> list[str]:
    tree = ast.parse(source, filename=where)
    library_names = _library_names(tree)
    if not library_names:
        return []
    found = []
    for node in ast.walk(tree):
        # from drf_spectacular.x import _private, or from drf_spectacular._private import y
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == LIBRARY:
            if any(_is_private(part) for part in node.module.split(".")):
                found.append(f"{where}:{node.lineno} imports {node.module}")
            found += [
                f"{where}:{node.lineno} imports {node.module}.{alias.name}"
                for alias in node.names
                if _is_private(alias.name)
            ]
        # drf_spectacular.openapi._private or AutoSchema._private
        elif (
            isinstance(node, ast.Attribute)
            and _is_private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in library_names
        ):
            found.append(f"{where}:{node.lineno} uses {node.value.id}.{node.attr}")
        # A subclass of a drf-spectacular class: overriding, or reaching through self or
        # super(), a private attribute of that class.
        elif isinstance(node, ast.ClassDef):
            bases = [
                library_names[base.id]
                for base in node.bases
                if isinstance(base, ast.Name) and isinstance(library_names.get(base.id), type)
            ]
            for inner in ast.walk(node):
                if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                    name = inner.name
                elif isinstance(inner, ast.Attribute) and (
                    (isinstance(inner.value, ast.Name) and inner.value.id == "self")
                    or (isinstance(inner.value, ast.Call) and getattr(inner.value.func, "id", "") == "super")
                ):
                    name = inner.attr
                else:
                    continue
                if _is_private(name) and any(hasattr(base, name) for base in bases):
                    found.append(f"{where}:{inner.lineno} {node.name} uses the library's {name}")
    return found


def test_no_module_uses_a_private_name_of_drf_spectacular():
    """Overriding AutoSchema's documented methods (get_operation and the like) is how the
    schema is customised; its underscore methods are not an API."""
    files = _python_files()
    assert len(files) > 300  # the walk read the source
    found = [use for path in files for use in _private_uses(path.read_text(), str(path.relative_to(ROOT)))]
    assert found == []


def test_the_check_finds_private_uses():
    """The check is not blind: a private override, a call through super() and a private
    import are each found; a public override and the class's own private helper are not."""
    sample = (
        "from drf_spectacular.openapi import AutoSchema\n"
        "from drf_spectacular.plumbing import _get_type_hint_origin\n"
        "class Schema(AutoSchema):\n"
        "    def _get_response_bodies(self, direction='response'):\n"
        "        return super()._get_response_bodies(direction)\n"
        "    def get_operation(self, *args):\n"
        "        return self._own_helper(super().get_operation(*args))\n"
        "    def _own_helper(self, operation):\n"
        "        return operation\n"
    )
    assert _private_uses(sample, "sample.py") == [
        "sample.py:2 imports drf_spectacular.plumbing._get_type_hint_origin",
        "sample.py:4 Schema uses the library's _get_response_bodies",
        "sample.py:5 Schema uses the library's _get_response_bodies",
    ]
