"""The layers of docs/development.md, enforced, without exceptions.

Imports run one way only: ``entrypoints`` (command line, web) → ``workflows`` → ``repository``
(catalog, storage, settings) → ``preservation`` (a library: no framework, nothing of ours). Only the
storage package may import boto3, and no module takes part in an import circle: a circle means two
modules are one concept split badly, or a lower one reaching up.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("entrypoints", "workflows", "repository", "preservation")
"""From the top down: a package may import only the packages after it."""
FRAMEWORKS = ("flask", "sqlalchemy", "boto3", "botocore", "alembic", "click", "waitress", "apscheduler")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> Iterator[str]:
    """Every absolute import in the file, wherever it stands (a function-local import is still a
    dependency), except those only for type checkers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("package", LAYERS)
def test_imports_run_down_the_layers_only(package: str) -> None:
    above = LAYERS[: LAYERS.index(package) + 1]
    bad = sorted(
        {
            f"{path.relative_to(ROOT)} imports {name}"
            for module, path in MODULES.items()
            if module.split(".")[0] == package
            for name in _imports(path)
            if name.split(".")[0] in above and name.split(".")[0] != package
        }
    )
    assert bad == []


def test_preservation_uses_no_framework() -> None:
    bad = sorted(
        {
            f"{path.relative_to(ROOT)} imports {name}"
            for module, path in MODULES.items()
            if module.startswith("preservation")
            for name in _imports(path)
            if name.split(".")[0] in FRAMEWORKS
        }
    )
    assert bad == []


def test_only_storage_imports_boto3() -> None:
    bad = sorted(
        {
            f"{path.relative_to(ROOT)} imports {name}"
            for module, path in MODULES.items()
            for name in _imports(path)
            if name.split(".")[0] in {"boto3", "botocore"} and not module.startswith("repository.storage")
        }
    )
    assert bad == []


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        deps: set[str] = set()
        for name in _imports(path):
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            # A module importing its own package's __init__ is how Python loads it, not a circle.
            if name and name != module and not module.startswith(name + "."):
                deps.add(name)
        graph[module] = deps
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in graph[node]:
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_circles() -> None:
    assert _circles(_graph()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    """The check above must be able to fail."""
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


OCFL_KEYS = {"ROOT_PREFIX", "DEPOSIT_PREFIX", "INVENTORY", "SIDECAR", "join_key", "digest_key", "read_json"}
"""Names that build or read OCFL storage keys: only repository/storage uses them; workflows go
through CopySet (repository/storage/copyset.py) for every copy of an AIP."""


def test_workflows_build_no_storage_keys() -> None:
    bad = []
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("repository.storage"):
                bad.extend(
                    f"{path.relative_to(ROOT)} imports {a.name}" for a in node.names if a.name in OCFL_KEYS
                )
    assert bad == []


def _storage_imports(tree: ast.AST) -> Iterator[str]:
    """Modules of ``repository.storage`` a file imports (``from repository.storage import ocfl``
    names the module ``repository.storage.ocfl``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("repository.storage"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("repository.storage"):
            yield str(node.module)
            yield from (f"{node.module}.{a.name}" for a in node.names)


def test_workflows_read_no_ocfl_directly() -> None:
    """Workflows reach stored AIPs through CopySet (copies the catalog knows) and StoredObjects
    (what a location holds, for the rebuild): no OCFL module, and no location's OCFL store or
    backend (``location.store.…``, ``location.backend.…``)."""
    bad = []
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(ROOT)
        bad.extend(
            f"{where} imports {name}"
            for name in _storage_imports(tree)
            if name.removeprefix("repository.storage.").startswith("ocfl")
        )
        bad.extend(
            f"{where}:{node.lineno} uses .{node.value.attr}.{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr in ("store", "backend")
        )
    assert bad == []
