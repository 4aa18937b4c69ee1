"""Layout rules as tests: every module imports on its own, the import graph has no cycle, and tests share
helpers only through `tests/support/`.

An import cycle works or breaks depending on which module of it is imported first, so the suite (which
imports everything in one order) cannot see it. Hence each module is imported first, in a fresh state, and
the graph of `waxos` imports is read from the source and checked for cycles.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"
TESTS = ROOT / "tests"
# Not importable as modules on purpose: Alembic runs the migration scripts from their files (env.py refuses
# to be imported outside a migration), and importing `__main__` runs the CLI.
NOT_MODULES = ("waxos.db.migrations", "waxos.__main__")
# Imports the whole list in one interpreter, dropping every `waxos` module between two imports, so each
# module is the first of ours to load; third-party packages stay loaded (they are not under test).
IMPORT_EACH = """
import importlib, json, sys, traceback
failures = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "waxos" or m.startswith("waxos.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException:
        failures[name] = traceback.format_exc(limit=-3)
print(json.dumps(failures))
"""


def module_name(path: Path, root: Path) -> str:
    """`src/waxos/a/b.py` -> `waxos.a.b`; a package's `__init__.py` is the package."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def waxos_modules() -> dict[str, Path]:
    """Every importable module of `src/waxos`, by dotted name."""
    found = {module_name(path, SOURCE): path for path in sorted((SOURCE / "waxos").rglob("*.py"))}
    return {name: path for name, path in found.items() if not name.startswith(NOT_MODULES)}


def imported(tree: ast.AST, package: str, modules: Collection[str] = ()) -> set[str]:
    """The modules of `package` that the import statements of `tree` load.

    `from a.b import c` loads `a.b.c` when that is one of `modules`, else `a.b` (c is a name in it).
    Imports under `if TYPE_CHECKING:` never run and are left out; imports inside functions count, since
    they run too. Importing `a.b.c` also runs `a/__init__.py` and `a/b/__init__.py`: those implicit parent
    edges are left out, or every package would form a cycle with the modules it re-exports.
    """
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if submodule in modules else node.module)
    return {name for name in names if name == package or name.startswith(f"{package}.")}


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports, read from its source."""
    return {
        name: imported(ast.parse(path.read_text(), str(path)), "waxos", modules.keys()) - {name}
        for name, path in modules.items()
    }


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle of `graph` as `[a, b, ..., a]`, or None when it is acyclic (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_every_module_imports_on_its_own() -> None:
    names = sorted(waxos_modules())
    # Two interpreters share the work on a two-core machine.
    halves = [names[::2], names[1::2]]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", IMPORT_EACH, json.dumps(half)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for half in halves
    ]
    failures: dict[str, str] = {}
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        failures.update(json.loads(out))
    assert not failures, "\n".join(f"{name}:\n{trace}" for name, trace in failures.items())


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph(waxos_modules())
    assert graph["waxos.cli.main"], "the scanner found no imports at all"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles_and_only_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"a"}, "a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_the_scanner_reads_imports_as_python_runs_them() -> None:
    source = (
        "import waxos.a\n"
        "from waxos.b import c\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import waxos.never\n"
        "def later():\n"
        "    from waxos.d import e\n"
    )
    modules = {"waxos.a", "waxos.b", "waxos.b.c", "waxos.d", "waxos.never"}
    assert imported(ast.parse(source), "waxos", modules) == {"waxos.a", "waxos.b.c", "waxos.d"}


def test_a_cycle_in_source_is_reported() -> None:
    modules = {"waxos.x": Path("x.py"), "waxos.y": Path("y.py")}
    sources = {"waxos.x": "from waxos.y import f\n", "waxos.y": "import waxos.x\n"}
    graph = {name: imported(ast.parse(sources[name]), "waxos", modules) for name in modules}
    assert find_cycle(graph) == ["waxos.x", "waxos.y", "waxos.x"]


def helper_import_violations(path: Path, tree: ast.AST) -> list[str]:
    """Imports of `tests.*` that break the rule, as `path: module` strings.

    Helpers shared between test packages live in `tests/support/`; a package may keep its own helper
    modules beside its tests (e.g. `tests/pusher_protocol/helpers.py`). Nothing imports a test module
    (`test_*.py`) or a `conftest.py`: pytest loads those itself.
    """
    package = path.relative_to(ROOT).parent.as_posix().replace("/", ".")
    found = []
    for name in sorted(imported(tree, "tests")):
        leaf = name.rsplit(".", 1)[-1]
        if (
            leaf.startswith("test_")
            or leaf == "conftest"
            or not (name.startswith("tests.support") or name.rsplit(".", 1)[0] == package or name == "tests")
        ):
            found.append(f"{path.relative_to(ROOT)}: {name}")
    return found


def test_tests_share_helpers_only_through_the_support_package() -> None:
    found = [
        violation
        for path in sorted(TESTS.rglob("*.py"))
        for violation in helper_import_violations(path, ast.parse(path.read_text(), str(path)))
    ]
    assert not found, "import shared helpers from tests/support:\n" + "\n".join(found)


def test_the_helper_rule_catches_test_modules_and_other_packages() -> None:
    path = TESTS / "api" / "test_x.py"
    tree = ast.parse(
        "from tests.publisher.test_publisher import make_settings\n"
        "from tests.conftest import free_port\n"
        "from tests.e2e.node import NodeSubscriber\n"
        "from tests.api.helpers import thing\n"
        "from tests.support.settings import make_settings\n"
    )
    assert helper_import_violations(path, tree) == [
        "tests/api/test_x.py: tests.conftest",
        "tests/api/test_x.py: tests.e2e.node",
        "tests/api/test_x.py: tests.publisher.test_publisher",
    ]
