"""The code's shape as docs/architecture.md states it: each package imports only packages
of its own layer or below, and no module outside the migrations grows past 450 lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
MAX_LINES = 450


def _layers() -> dict[str, int]:
    """Each package's layer, numbered from the foundation up, read from the table."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    layer_of: dict[str, int] = {}
    for number, row in enumerate(rows):
        packages_cell = row.split("|")[2]
        for name in re.findall(r"`([a-z_0-9]+)`", packages_cell):
            layer_of[name] = number
    return layer_of


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("app."))
    return found


def _package_of(path: Path) -> str:
    return path.relative_to(APP).parts[0].removesuffix(".py")


def test_the_architecture_table_names_every_package() -> None:
    layer_of = _layers()
    packages = {_package_of(p) for p in APP.glob("*") if p.suffix == ".py" or p.is_dir()}
    packages -= {"__init__", "__pycache__"}
    assert packages - set(layer_of) == set(), "add the new package to docs/architecture.md"


def test_no_package_imports_a_higher_layer() -> None:
    layer_of = _layers()
    upward = []
    for path in sorted(APP.rglob("*.py")):
        own = _package_of(path)
        if own not in layer_of:
            continue
        for imported in _imported_packages(path):
            if layer_of.get(imported, -1) > layer_of[own]:
                upward.append(f"{path.relative_to(ROOT)} imports app.{imported}")
    assert upward == []


def test_no_module_outside_the_migrations_is_over_450_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in APP.rglob("*.py")
        if "migrations" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_dependency_runs_in_the_thread_pool() -> None:
    """FastAPI runs a plain `def` dependency in its thread pool: a thread hop per request
    for each one. Seven such parameters cost the OGC bbox page a third of its throughput
    (commit "Run the new parameter dependencies in the event loop")."""
    import inspect

    from app.main import create_app

    def runs_in_the_loop(call: object) -> bool:
        method = getattr(call, "__call__", None)  # noqa: B004 (HTTPBearer-style objects)
        return any(
            inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f) for f in (call, method)
        )

    threaded: set[str] = set()

    def walk(dependant: object) -> None:
        for sub in getattr(dependant, "dependencies", []):
            if sub.call is not None and not runs_in_the_loop(sub.call):
                threaded.add(f"{sub.call.__module__}.{sub.call.__qualname__}")
            walk(sub)

    def routes(found: list[object]) -> list[object]:
        flat: list[object] = []
        for route in found:
            if hasattr(route, "original_router"):  # an included router, kept whole
                flat += routes(route.original_router.routes)
            else:
                flat.append(route)
        return flat

    checked = routes(create_app().routes)
    for route in checked:
        walk(getattr(route, "dependant", None))
    assert len(checked) > 50
    assert threaded == set()
