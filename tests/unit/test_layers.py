"""The layer contract, read from the code's own imports (every import, also inside functions and TYPE_CHECKING).

Bottom to top (docs/architecture in the README):

    domain, aio                      the session model, ids, errors; generic async helpers
    settings, observability, text, net
    coach, store, cluster            the offline interviewer, the stores, session leases
    vendors                          LLM / TTS / STT providers and their chains
    interview                        the service: sessions, steps, questions, voice
    appkeys                          typed keys of the aiohttp app's state
    transport | web                  the Socket.IO and HTTP edges: never each other
    app, cluster_watch, supervisor, __main__

A module may import its own layer and the layers below, never one above.
``devtools`` (fakes, browser drivers, the process helper) is outside the server:
the server never imports it. ``bench/`` never imports ``tests/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "sio_server"

LAYERS: list[set[str]] = [
    {"domain", "aio"},
    {"settings", "observability", "text", "net"},
    {"coach", "store", "cluster"},
    {"vendors"},
    {"interview"},
    {"appkeys"},
    {"transport", "web"},
    {"app", "cluster_watch", "heap", "supervisor", "__main__", "__init__"},
]
APART = {("transport", "web"), ("web", "transport")}
OUTSIDE = {"devtools"}  # used by tests and benchmarks; never imported by the server


def layer_of(part: str) -> int:
    for i, parts in enumerate(LAYERS):
        if part in parts:
            return i
    raise AssertionError(f"sio_server/{part} has no layer in tests/unit/test_layers.py: add it where it belongs")


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    """Dotted module name of ``path`` and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``path`` (relative ones resolved)."""
    here, is_package = module_name(path, root)
    package = here.split(".") if is_package else here.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from . import rules`` imports a module: count the module, not the package
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def top_part(module: str) -> str | None:
    """The first component under ``sio_server`` (``store`` for ``sio_server.store.files``)."""
    parts = module.split(".")
    if parts[0] != "sio_server":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def layer_violations(package: Path = PACKAGE) -> list[str]:
    """Every import in ``package`` that runs up the layers, across the two edges, or into devtools."""
    root = package.parent
    bad = []
    for path in sorted(package.rglob("*.py")):
        here, _ = module_name(path, root)
        source = top_part(here)
        if source in OUTSIDE:
            continue
        for line, module in imports_of(path, root):
            target = top_part(module)
            if target is None or target == source:
                continue
            where = f"{path.relative_to(root)}:{line} imports {module}"
            if target in OUTSIDE:
                bad.append(f"{where} (the server never imports devtools)")
            elif (source, target) in APART:
                bad.append(f"{where} ({source}/ and {target}/ are separate edges)")
            elif layer_of(target) > layer_of(source):
                bad.append(f"{where} (up from layer {layer_of(source)} to {layer_of(target)})")
    return bad


def import_cycles(package: Path = PACKAGE) -> list[list[str]]:
    """Loops among the package's files (Tarjan's strongly connected components of size > 1)."""
    root = package.parent
    modules = {module_name(p, root)[0]: p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for _, module in imports_of(path, root):
            while module and module not in modules:
                module = module.rpartition(".")[0]
            if module and module != name and not modules[module].name == "__init__.py":
                graph[name].add(module)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_no_import_runs_up_the_layers():
    assert layer_violations() == []


def test_no_import_loop():
    assert import_cycles() == []


@pytest.mark.parametrize("package", ["bench", "sio_server", "client_adapter"])
def test_nothing_outside_the_suite_imports_tests(package):
    """bench/ (and, through it, sio_server/devtools/, which the benchmarks use) never imports tests/."""
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, module in imports_of(path, ROOT)
        if module == "tests" or module.startswith("tests.")
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("where", "line", "expected"),
    [
        ("store/files.py", "from ..interview.service import InterviewService\n", "up from layer 2 to 4"),
        ("domain/model.py", "from ..settings import Settings\n", "up from layer 0 to 1"),
        ("web/report.py", "from ..transport.protocol import NAMESPACE\n", "separate edges"),
        ("interview/service.py", "from ..devtools.process import free_port\n", "never imports devtools"),
    ],
)
def test_the_contract_fails_on_a_forbidden_import(tmp_path: Path, where: str, line: str, expected: str):
    """The checker itself: a copy of the package with one forbidden import added is refused, naming it."""
    import shutil

    copy = tmp_path / "sio_server"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "*.json"))
    target = copy / where
    target.write_text(target.read_text() + "\n" + line)
    violations = layer_violations(copy)
    assert len(violations) == 1 and expected in violations[0], violations


def test_the_cycle_check_finds_a_loop(tmp_path: Path):
    import shutil

    copy = tmp_path / "sio_server"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "*.json"))
    leases = copy / "cluster" / "leases.py"
    leases.write_text(leases.read_text() + "\nfrom .redis_leases import RedisLeases\n")
    assert ["sio_server.cluster.leases", "sio_server.cluster.redis_leases"] in import_cycles(copy)
