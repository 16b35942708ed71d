"""Private members of python-socketio / python-engineio are used in ``sio_server/transport/upstream/`` only.

Read from the code with :mod:`ast`, every module of ``sio_server`` outside that
package is checked for:

* an import of a private module or name (``from socketio.base_manager import _x``,
  ``import engineio._y``);
* a private attribute (``._name``, dunders aside) reached from an upstream
  object: a name imported from socketio/engineio (or from ``transport.upstream``,
  whose classes are upstream's), a parameter annotated with such a type, an
  attribute of ``self`` set from one, anything past ``.eio`` or ``.manager``
  (the Socket.IO server's Engine.IO server and client manager), and
  ``getattr``/``setattr``/``hasattr`` with a private name on one of those;
* a subclass of an upstream class that overrides or calls a private member of
  upstream (a ``_name`` its upstream bases define or set on ``self``); its own
  private helpers are its business.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "sio_server"
UPSTREAM_PACKAGE = Path("transport") / "upstream"
LIBRARIES = ("socketio", "engineio")
OURS = "sio_server.transport.upstream"
HELD_BY_SERVER = {"eio", "manager"}  # the Socket.IO server's Engine.IO server and client manager
REFLECTION = {"getattr", "setattr", "hasattr", "delattr"}


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def from_upstream(module: str) -> bool:
    root = module.split(".")[0]
    return root in LIBRARIES or module == OURS or module.startswith(OURS + ".")


def absolute(node: ast.ImportFrom, module_path: Path) -> str:
    """The module an ``ImportFrom`` names, relative ones resolved against ``module_path`` (under ``sio_server``)."""
    if not node.level:
        return node.module or ""
    package = ["sio_server", *module_path.parent.parts]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def chain(node: ast.AST) -> tuple[ast.AST, list[str]]:
    """The root of an attribute chain and its attribute names, root first (calls and subscripts looked through)."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, (ast.Call, ast.Subscript)):
            node = node.func if isinstance(node, ast.Call) else node.value
        else:
            return node, names[::-1]


def root_name(node: ast.AST) -> str | None:
    root, names = chain(node)
    if isinstance(root, ast.Name):
        return ".".join([root.id, *names])
    return None


class Scanner(ast.NodeVisitor):
    """Collects the private upstream accesses of one module."""

    def __init__(self, module_path: Path) -> None:
        self.module_path = module_path
        self.upstream: set[str] = set()  # local names bound to upstream modules, classes and objects
        self.origins: dict[str, str] = {}  # local name -> the dotted name it was imported as
        self.found: list[str] = []

    def report(self, node: ast.AST, what: str) -> None:
        self.found.append(f"sio_server/{self.module_path}:{getattr(node, 'lineno', '?')}: {what}")

    def is_upstream(self, expr: ast.AST | None) -> bool:
        """Whether ``expr`` (a base class, an annotation, a value) starts at an upstream name."""
        if expr is None:
            return False
        if isinstance(expr, ast.BinOp):  # X | None
            return self.is_upstream(expr.left) or self.is_upstream(expr.right)
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name) and expr.value.id in {"Optional", "type"}:
            return self.is_upstream(expr.slice)
        dotted = root_name(expr)
        if dotted is None:
            return False
        parts = dotted.split(".")
        return any(".".join(parts[:i]) in self.upstream for i in range(1, len(parts) + 1))

    # -- imports -------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not from_upstream(alias.name):
                continue
            if any(private(part) for part in alias.name.split(".")):
                self.report(node, f"imports the private module {alias.name}")
            local = alias.asname or alias.name.split(".")[0]
            self.upstream.add(local)
            self.origins[local] = alias.name if alias.asname else local

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = absolute(node, self.module_path)
        if not from_upstream(module):
            return
        if any(private(part) for part in module.split(".")):
            self.report(node, f"imports from the private module {module}")
        for alias in node.names:
            if private(alias.name):
                self.report(node, f"imports the private name {alias.name} from {module}")
            self.upstream.add(alias.asname or alias.name)
            self.origins[alias.asname or alias.name] = f"{module}.{alias.name}"

    # -- objects that are upstream's ------------------------------------------------

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        for arg in args:
            if self.is_upstream(arg.annotation):
                self.upstream.add(arg.arg)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.is_upstream(node.value):
            for target in node.targets:
                dotted = root_name(target)
                if dotted is not None:
                    self.upstream.add(dotted)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if self.is_upstream(node.annotation) or self.is_upstream(node.value):
            dotted = root_name(node.target)
            if dotted is not None:
                self.upstream.add(dotted)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = [base for base in node.bases if self.is_upstream(base)]
        if bases:
            theirs = set().union(*(self.private_members_of(base) for base in bases))
            for item in ast.walk(node):
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in theirs:
                    self.report(item, f"{node.name} overrides upstream's {item.name}")
                elif isinstance(item, ast.Attribute) and item.attr in theirs:
                    root, _ = chain(item.value)
                    if isinstance(root, ast.Name) and root.id in {"self", "cls", "super"}:
                        self.report(item, f"{node.name} uses upstream's .{item.attr}")
        self.generic_visit(node)

    def private_members_of(self, base: ast.AST) -> frozenset[str]:
        """The private members upstream classes in ``base``'s MRO define or set on ``self``."""
        dotted = root_name(base) or ""
        first, _, rest = dotted.partition(".")
        return upstream_private_members(".".join(filter(None, [self.origins.get(first, first), rest])))

    # -- accesses -------------------------------------------------------------------

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if private(node.attr):
            _, names = chain(node.value)
            if self.is_upstream(node.value) or HELD_BY_SERVER & set(names):
                self.report(node, f"reads the private upstream member .{node.attr}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if (
            isinstance(node.func, ast.Name)
            and node.func.id in REFLECTION
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and private(node.args[1].value)
        ):
            _, names = chain(node.args[0])
            if self.is_upstream(node.args[0]) or HELD_BY_SERVER & set(names):
                self.report(node, f"{node.func.id}(…, {node.args[1].value!r}) on an upstream object")
        self.generic_visit(node)


@functools.cache
def upstream_private_members(dotted: str) -> frozenset[str]:
    """Private names of the upstream classes in the MRO of the class importable as ``dotted``."""
    for split in range(dotted.count("."), 0, -1):  # the longest importable module prefix, then attributes
        parts = dotted.split(".")
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            target = getattr(target, attr)
        break
    else:
        raise AssertionError(f"cannot resolve the upstream base class {dotted}")
    names: set[str] = set()
    for cls in inspect.getmro(target):
        if cls.__module__.split(".")[0] in LIBRARIES or cls.__module__.startswith(OURS):
            names |= {n for n in vars(cls) if private(n)}
            for node in ast.walk(ast.parse(inspect.getsource(cls))):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                    names |= {node.attr} if private(node.attr) else set()
    return frozenset(names)


def violations_in(source: str, module_path: Path) -> list[str]:
    scanner = Scanner(module_path)
    scanner.visit(ast.parse(source, str(module_path)))
    return scanner.found


def violations(package: Path) -> list[str]:
    """Every private upstream access in ``package`` outside its ``transport/upstream/``."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.is_relative_to(UPSTREAM_PACKAGE):
            continue
        found += violations_in(path.read_text(), relative)
    return found


def test_no_private_upstream_member_outside_the_upstream_package():
    found = violations(PACKAGE)
    assert not found, "private python-socketio/engineio members belong in transport/upstream/:\n" + "\n".join(found)


def test_the_upstream_package_is_where_the_private_members_are():
    """The check is not vacuous: run over the upstream package itself, it finds the uses it documents."""
    found: list[str] = []
    for path in sorted((PACKAGE / UPSTREAM_PACKAGE).glob("*.py")):
        found += violations_in(path.read_text(), path.relative_to(PACKAGE).with_name("elsewhere.py"))
    text = "\n".join(found)
    for member in ("_handle_eio_message", "_handle_connect", "_listen", "_thread", "_binary_packet", "_async"):
        assert member in text, member


M = Path("transport/namespace.py")


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("from socketio.base_manager import _helper\n", "private name _helper"),
        ("import engineio._private\n", "private module engineio._private"),
        ("from engineio._x import Y\n", "private module engineio._x"),
        ("import socketio\nsocketio.AsyncServer._handle_event\n", "._handle_event"),
        ("from socketio import AsyncServer as S\nS._send_packet\n", "._send_packet"),
        ("import socketio\ndef f(sio: socketio.AsyncServer):\n    return sio._binary_packet\n", "._binary_packet"),
        (
            "import socketio\nclass E:\n    def __init__(self, sio: socketio.AsyncServer | None):\n        self.sio = sio\n"
            "    def f(self):\n        return self.sio._binary_packet\n",
            "._binary_packet",
        ),
        ("def f(app):\n    return app['sio'].manager._thread\n", "._thread"),
        ("def f(sio):\n    return sio.eio._async\n", "._async"),
        ("def f(server):\n    return getattr(server.manager, '_thread')\n", "getattr(…, '_thread')"),
        ("from .upstream import LocalManager\nLocalManager._connect_waiters\n", "._connect_waiters"),
        ("import socketio\nclass M(socketio.AsyncRedisManager):\n    async def _listen(self):\n        yield 1\n", "overrides upstream's _listen"),
        (
            "from socketio import AsyncServer\nclass S(AsyncServer):\n    async def f(self):\n        await super()._handle_connect()\n",
            "uses upstream's ._handle_connect",
        ),
        ("from .upstream.managers import ListenerRedisManager\nclass R(ListenerRedisManager):\n    def g(self):\n        self._listen()\n", "uses upstream's ._listen"),
    ],
)
def test_each_kind_of_private_access_is_found(source: str, what: str):
    found = violations_in(source, M)
    assert found and what in found[0], found


@pytest.mark.parametrize(
    "source",
    [
        "import socketio\nsocketio.AsyncServer.emit\n",
        "class Queue:\n    def __init__(self):\n        self._items = []\n    def f(self):\n        return self._items\n",
        "def f(self):\n    return self._manager.__aenter__()\n",
        "import socketio\nclass N(socketio.AsyncNamespace):\n    async def on_x(self, sid):\n        return self.server.manager.rooms\n",
        "import socketio\nclass N(socketio.AsyncNamespace):\n    def _own_helper(self):\n        return self._own_table\n",
    ],
)
def test_public_members_and_our_own_private_ones_pass(source: str):
    assert violations_in(source, M) == []


def test_the_check_fails_when_a_private_member_is_used_outside_the_package(tmp_path):
    """A temporary copy of the package with one private access added to the namespace module fails the check."""
    copy = tmp_path / "sio_server"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.json", "*.js", "*.css", "*.html"))
    assert violations(copy) == []
    namespace = copy / M
    namespace.write_text(
        namespace.read_text() + "\n\ndef pending_binary(sio: socketio.AsyncServer) -> int:\n    return len(sio._binary_packet)\n"
    )
    found = violations(copy)
    assert len(found) == 1 and "transport/namespace.py" in found[0] and "._binary_packet" in found[0], found
