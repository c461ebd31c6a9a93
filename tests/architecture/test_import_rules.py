"""The import rules of docs/architecture.md ("Imports"), read from the source with `ast`.

1. A module imports at its top. An import inside a function is allowed only in an
   AppConfig's ready() (apps.py), for a heavy optional library on a cold path (HEAVY_LIBRARIES),
   or where ALLOWED names the place with its reason.
2. The apps form layers (LAYERS): a module imports only its own app and the apps of lower
   layers, at any level (module, function, ready(), TYPE_CHECKING). A lower app tells a higher
   one something by sending a signal from its signals module.
3. Nothing imports a tasks module but its app's ready() (which registers the tasks): each tasks
   module imports its services, so services enqueue by the task's name
   (config.celery.task_named), and every name they use is a registered task.
"""

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. A module of one layer imports only its own app and those of lower layers;
# the apps of one layer do not import each other.
LAYERS: list[set[str]] = [
    # Settings, URLs, the Celery app and small helpers (emails, forms, ids, JSON, caches):
    # settings and URLs name the apps as strings, so config imports none of them.
    {"config"},
    # The trail every app records into.
    {"audit"},
    {"members"},
    # The outbox of events sent to other systems: training and certification record into it.
    {"webhooks"},
    {"training"},
    # Members imported from a spreadsheet, with their places in cohorts.
    {"imports"},
    # Its integrity check also counts stuck imports.
    {"certification"},
    # The read model and the dashboard, fed by the lower apps' signals (decision 0024).
    {"reporting"},
    # The REST API reads every app; the scale generator writes every app's rows at once.
    {"api", "scale"},
]
APP_LAYER = {app: level for level, apps in enumerate(LAYERS) for app in apps}

# Folders whose modules the rules read. bench/ is not among them: its scripts configure Django
# in main() before they may import an app, and they stand above every layer.
CHECKED = sorted(APP_LAYER)

# Imported inside the function that needs them, with a comment saying so: libraries heavy to
# load that only a few cold paths use.
HEAVY_LIBRARIES = {"weasyprint", "openpyxl"}

# (file, function, imported module): why the import is inside that function.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("certification/models.py", "Certificate.standing", "certification.standing"): (
        "A model's property that hands over to the one definition of a certificate's standing, "
        "a module whose queries read this model: the one circle between a model and its rules."
    ),
    ("certification/pdf.py", "certificate_pdf", "certification.pdf_fetcher"): (
        "The URL fetcher subclasses WeasyPrint's, so its module loads WeasyPrint (half a second): "
        "a heavy library's, imported by the render that needs it, as WeasyPrint itself is."
    ),
}


@dataclass(frozen=True)
class ImportSite:
    path: str  # relative to the repository, with forward slashes
    line: int
    module: str  # the module named, absolute
    function: str  # the enclosing function's qualified name; "" at module level
    in_ready: bool  # inside an AppConfig's ready() in apps.py

    @property
    def app(self) -> str:
        return self.path.split("/")[0]

    @property
    def imported_app(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        where = f" in {self.function}()" if self.function else ""
        return f"{self.path}:{self.line}{where} imports {self.module}"


def _package(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] != "__init__" else parts[:-1])


class _Collector(ast.NodeVisitor):
    def __init__(self, path: Path):
        self.path = path
        self.relative = path.relative_to(ROOT).as_posix()
        self.scope: list[tuple[str, str]] = []  # ("class" | "function", name)
        self.sites: list[ImportSite] = []

    def _visit_scope(self, kind: str, node) -> None:
        self.scope.append((kind, node.name))
        self.generic_visit(node)
        self.scope.pop()

    def visit_ClassDef(self, node):
        self._visit_scope("class", node)

    def visit_FunctionDef(self, node):
        self._visit_scope("function", node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def _add(self, node, module: str) -> None:
        in_function = any(kind == "function" for kind, _name in self.scope)
        in_ready = (
            self.relative.endswith("/apps.py")
            and len(self.scope) >= 2
            and self.scope[0][0] == "class"
            and self.scope[1] == ("function", "ready")
        )
        self.sites.append(
            ImportSite(
                path=self.relative,
                line=node.lineno,
                module=module,
                function=".".join(name for _kind, name in self.scope) if in_function else "",
                in_ready=in_ready,
            )
        )

    def visit_Import(self, node):
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node):
        if node.level:  # relative: resolve against this file's package
            base = _package(self.path).split(".")
            base = base[: len(base) - (node.level - 1)]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module
        # `from training import tasks` imports the module training.tasks: name it so.
        for alias in node.names:
            submodule = f"{module}.{alias.name}"
            spec_path = ROOT.joinpath(*submodule.split("."))
            named = submodule if spec_path.with_suffix(".py").exists() or spec_path.is_dir() else module
            self._add(node, named)


def _sites() -> list[ImportSite]:
    sites = []
    for app in CHECKED:
        for path in sorted((ROOT / app).rglob("*.py")):
            collector = _Collector(path)
            collector.visit(ast.parse(path.read_text(), filename=str(path)))
            sites.extend(collector.sites)
    return sites


SITES = _sites()


def test_the_rules_read_every_app():
    """Every app folder is in a layer, so no new app escapes the rules."""
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(APP_LAYER), f"Place these apps in LAYERS: {sorted(apps - set(APP_LAYER))}"
    assert len(SITES) > 500  # the walk read the source


def test_modules_import_at_their_top():
    """No import inside a function, but in ready(), of a heavy optional library, or allowed."""
    wrong = [
        str(site)
        for site in SITES
        if site.function
        and not site.in_ready
        and site.module.split(".")[0] not in HEAVY_LIBRARIES
        and (site.path, site.function, site.module) not in ALLOWED
    ]
    assert not wrong, "Import at the module's top (docs/architecture.md, Imports):\n" + "\n".join(wrong)


def test_allowed_entries_still_exist():
    """An allow-list entry whose import has gone is removed with it."""
    present = {(site.path, site.function, site.module) for site in SITES if site.function}
    assert not set(ALLOWED) - present, sorted(set(ALLOWED) - present)


def test_lower_apps_never_import_higher_ones():
    wrong = [
        f"{site} ({site.app} is layer {APP_LAYER[site.app]}, {site.imported_app} layer "
        f"{APP_LAYER[site.imported_app]})"
        for site in SITES
        if site.imported_app in APP_LAYER
        and site.imported_app != site.app
        and APP_LAYER[site.imported_app] >= APP_LAYER[site.app]
    ]
    assert not wrong, "A lower app sends a signal (docs/architecture.md, Layers):\n" + "\n".join(wrong)


def test_only_ready_imports_a_tasks_module():
    """Services enqueue by the task's name: a tasks module imports its services."""
    tasks_modules = {f"{app}.tasks" for app in APP_LAYER}
    wrong = [
        str(site)
        for site in SITES
        if site.module in tasks_modules
        and not (site.in_ready and site.module == f"{site.app}.tasks")
        and (site.path, site.function, site.module) not in ALLOWED
    ]
    assert not wrong, "Enqueue with config.celery.task_named(name):\n" + "\n".join(wrong)


def _task_names_enqueued() -> list[tuple[str, str]]:
    names = []
    for app in CHECKED:
        for path in sorted((ROOT / app).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "task_named"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    names.append((path.relative_to(ROOT).as_posix(), node.args[0].value))
    return names


def _answer_of_a_fresh_process(script: str, *args: str):
    """What `script` prints last (JSON), run with `args` in a new interpreter that starts Django:
    nothing a test module imported first is there."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", "import django, json, sys; django.setup(); " + script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_tasks_enqueued_by_name_are_registered_at_start_up():
    """Each name a service enqueues is a task a web process knows once Django has started
    (its app's ready() imported the tasks module): asked in a fresh process, where no test
    module has imported a tasks module first."""
    names = sorted({name for _path, name in _task_names_enqueued()})
    assert len(names) >= 4
    script = (
        "from config.celery import app; "
        "print(json.dumps([name for name in json.loads(sys.argv[1]) if name not in app.tasks]))"
    )
    assert _answer_of_a_fresh_process(script, json.dumps(names)) == []


def test_no_heavy_library_is_loaded_as_a_process_starts():
    """A fresh process that starts Django and loads every URL's view and every task (as a web
    server or a worker does) has loaded none of HEAVY_LIBRARIES: each is half a second or more
    of every start, for the few requests and tasks that use it."""
    script = (
        "from django.urls import get_resolver; get_resolver().url_patterns; "
        "from config.celery import app; app.loader.import_default_modules(); "
        "print(json.dumps(sorted(name for name in sys.modules if name.split('.')[0] in sys.argv[1:])))"
    )
    assert _answer_of_a_fresh_process(script, *sorted(HEAVY_LIBRARIES)) == []


def test_a_process_that_serves_no_url_loads_no_url_library():
    """Django started alone, its URLs not loaded (`manage.py shell`, a script), loads none of
    the API's schema library: a tenth of a second of every start, which only the schema's own
    view needs, through the URLs."""
    schema_library = ["drf_spectacular.openapi", "drf_spectacular.plumbing"]  # its app and checks are light
    script = "print(json.dumps(sorted(name for name in sys.argv[1:] if name in sys.modules)))"
    assert _answer_of_a_fresh_process(script, *schema_library) == []
