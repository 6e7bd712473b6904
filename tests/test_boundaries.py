"""The package boundaries of docs/architecture.md, enforced.

``preservation`` is a library: it must not import our application packages or the frameworks
they use, so that it can be tested and reused on its own. ``repository`` must not import
``workflows`` (workflows are composed from it, not the other way round). Only the storage package
may import boto3.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((path, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


ENTRY_POINTS = {"cli.py", "commands", "web"}
"""repository's entry points (command line, later the web app) call workflows; nothing else in
repository may (catalog, storage, settings are what workflows are composed from)."""


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("preservation", ("repository", "workflows", "flask", "sqlalchemy", "boto3", "alembic", "click")),
        ("repository", ("workflows",)),
    ],
)
def test_package_does_not_import(package: str, forbidden: tuple[str, ...]) -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in _imports(package)
        if name.split(".")[0] in forbidden and not ENTRY_POINTS & set(path.relative_to(ROOT / package).parts)
    ]
    assert bad == []


def test_only_storage_imports_boto3() -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package in ("preservation", "repository", "workflows")
        for path, name in _imports(package)
        if name.split(".")[0] in {"boto3", "botocore"} and "storage" not in path.relative_to(ROOT).parts
    ]
    assert bad == []


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
