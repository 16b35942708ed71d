"""One file name, one job: no two modules under ``sio_server/`` share a file name (issue 22, item 6).

Two ``feedback.py`` (the LLM chain's writer and the offline scorer's) or two
``registry.py`` (the sessions held and the vendor chains) read alike in a
traceback, an import and a search. Package files (``__init__.py``,
``__main__.py``) are the only names that may repeat; ``devtools/`` counts too.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "sio_server"
MAY_REPEAT = {"__init__.py", "__main__.py"}


def shared_file_names(package: Path = PACKAGE) -> dict[str, list[str]]:
    """Each ``*.py`` file name used by more than one module under ``package``, with their paths."""
    where: dict[str, list[str]] = defaultdict(list)
    for path in sorted(package.rglob("*.py")):
        if path.name not in MAY_REPEAT and "__pycache__" not in path.parts:
            where[path.name].append(str(path.relative_to(package.parent)))
    return {name: paths for name, paths in where.items() if len(paths) > 1}


def test_no_two_modules_share_a_file_name():
    assert shared_file_names() == {}


def test_the_check_finds_a_shared_name(tmp_path: Path):
    """The checker itself: a second ``chains.py`` in another package is named, with both paths."""
    package = tmp_path / "sio_server"
    for path in ("vendors/chains.py", "web/chains.py", "vendors/__init__.py", "web/__init__.py", "__main__.py"):
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text('"""x"""\n')
    assert shared_file_names(package) == {"chains.py": ["sio_server/vendors/chains.py", "sio_server/web/chains.py"]}
