"""SIGKILL at seeded points of every workflow that writes: ingest, metadata update, audit with
repair, storage sync (replication), migration and the DIP build of a reader's request.

Each case starts from a copy of the same small data folder (:mod:`tests.faults.harness`), runs the
workflow's command in a real ``kholuu`` process that kills itself at the point the seed picked
(``KHOLUU_KILL_AT``), then:

1. right after the kill, ``kholuu check --consistency`` may find only what a dead job leaves,
   repaired by ``kholuu job clean`` (no AIP half-visible, no catalog row that disagrees with
   storage);
2. the same command again (which rolls the dead job back first) finishes its work;
3. the check is clean, every AIP verifies in both locations, none is lost, and the killed job is
   ``interrupted``.

``KHOLUU_FAULT_SEED`` picks the points (default 15, so CI is reproducible; ``make soak`` passes a
fresh one and prints it) and ``KHOLUU_FAULT_KILLS`` how many (10 in CI, 50 under ``make soak``).
The workflows are taken in turn, so every 6 consecutive cases cover all six.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from repository.catalog.db import make_engine
from repository.catalog.models import Job, JobStatus
from tests.cli.test_cli_migrate import TIFF_PNG
from tests.conftest import HeadSchema, cli_env, run_cli, write_home_config
from tests.data_folder import DataFolders, data_folders
from tests.faults import harness
from tests.faults.harness import cli_json, killed_at, nothing_lost, settled, stored_aips, tiny_sip

READER = ("--name", "Trần Văn Minh", "--contact", "0912 345 678", "--purpose", "cong vu")

POINTS: dict[str, list[str]] = {
    "ingest": [
        "in quarantine@2",
        "in package validation",
        "in virus check",
        "in format identification@2",
        "in information package creation",
        "in storage",
        "after storage",
        "in catalog registration",
    ],
    "update": ["update: read", "update: built", "update: published"],
    "audit": ["audit: damage found", "audit: repaired"],
    "sync": ["sync: landing", "sync: landed"],
    "migration": [
        "in read",
        "in migration@1",
        "in information package creation",
        "after storage",
        "in catalog registration",
    ],
    "dip": ["export: fetched", "export: zip written", "dip: exported"],
}


def _cases() -> list[tuple[str, str, str]]:
    rng = random.Random(harness.seed())
    chosen = harness.choose([(w, p) for w, ps in POINTS.items() for p in ps], harness.kills(), rng)
    # mostly SQLite (cheap to copy); PostgreSQL, the production catalog, about one case in three
    return [(w, p, "postgresql" if rng.random() < 0.3 else "sqlite") for w, p in chosen]


CASES = _cases()


@dataclass(frozen=True)
class Folder:
    home: Path
    database_url: str
    aip_id: str

    def env(self) -> dict[str, str]:
        return cli_env(self.home, self.database_url)


def _build(home: Path, database_url: str) -> str:
    write_home_config(home, harness.LOCATIONS)
    (home / "planning").mkdir()
    (home / "planning" / "formats.toml").write_text(TIFF_PNG, encoding="utf-8")
    env = cli_env(home, database_url)
    assert run_cli("init", env=env).returncode == 0
    return str(cli_json(env, "ingest", str(tiny_sip(home.parent)))["aip_id"])


@pytest.fixture(scope="session")
def fault_folders(
    tmp_path_factory: pytest.TempPathFactory, head_schema: HeadSchema
) -> Iterator[DataFolders[str]]:
    yield from data_folders(tmp_path_factory, head_schema, "faults", _build)


@pytest.fixture
def folder(fault_folders: DataFolders[str], database_url: str, tmp_path: Path) -> Folder:
    copy = fault_folders.copy(database_url, tmp_path / "home")
    return Folder(copy.home, database_url, copy.value)


# ------------------------------------------------------------------------- the six workflows


@dataclass(frozen=True)
class Scenario:
    """A workflow's command, what it needs first, and how to tell it finished on retry."""

    prepare: Callable[[Folder, Path], list[str]]  # -> the command's arguments
    retry: Callable[[Folder, list[str]], list[str]]  # -> the retry's arguments
    finished: Callable[[Folder, dict[str, int], dict[str, int]], None]  # (folder, before, after)


def _ingest(f: Folder, tmp: Path) -> list[str]:
    return ["ingest", str(tiny_sip(tmp, "-new"))]


def _update(f: Folder, tmp: Path) -> list[str]:
    extra = tmp / "bổ sung.xml"
    extra.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<ghi-chu>Bổ sung</ghi-chu>\n', encoding="utf-8")
    return ["aip", "add-metadata", f.aip_id, str(extra)]


def _audit(f: Folder, tmp: Path) -> list[str]:
    """A content file of the AIP damaged in ``second``: the audit repairs it from ``primary``."""
    (damaged,) = [
        p for p in (f.home / "storage" / "second").rglob("*.txt") if "content" in p.parts and p.is_file()
    ]
    damaged.write_bytes(b"bit rot " + damaged.read_bytes()[8:])
    return ["audit", "--all"]


def _sync(f: Folder, tmp: Path) -> list[str]:
    """A third location added: a copy of the AIP is queued (pending) for it."""
    third = ("--backend", "local", "--path", "storage/third", "--optional")
    cli_json(f.env(), "storage", "add", "third", *third)
    return ["storage", "sync"]


def _dip(f: Folder, tmp: Path) -> list[str]:
    """A reader's request, submitted; approving it builds the DIP."""
    request_id = cli_json(f.env(), "request", "submit", f.aip_id, *READER)["request"]["id"]
    return ["request", "approve", request_id, "--decision", "27/QĐ-TTLT"]


def _same(f: Folder, args: list[str]) -> list[str]:
    return args


def _ingest_again(f: Folder, args: list[str]) -> list[str]:
    return args  # the same folder: the killed ingest stored nothing, so it is no duplicate


def _dip_build(f: Folder, args: list[str]) -> list[str]:
    return ["request", "build", args[2]]


def _one_more(f: Folder, before: dict[str, int], after: dict[str, int]) -> None:
    assert len(after) == len(before) + 1


def _next_version(f: Folder, before: dict[str, int], after: dict[str, int]) -> None:
    assert after[f.aip_id] == before[f.aip_id] + 1


def _unchanged(f: Folder, before: dict[str, int], after: dict[str, int]) -> None:
    assert after == before


def _ready(f: Folder, before: dict[str, int], after: dict[str, int]) -> None:
    assert after == before
    (request,) = cli_json(f.env(), "request", "list")["requests"]
    assert request["status"] == "ready", request
    assert list((f.home / "dips").iterdir()) == [f.home / "dips" / f"{request['id']}.zip"]


def _third_stored(f: Folder, before: dict[str, int], after: dict[str, int]) -> None:
    assert after == before
    shown = cli_json(f.env(), "aip", "show", f.aip_id)
    assert {c["location"]: c["status"] for c in shown["copies"]}["third"] == "stored", shown["copies"]


SCENARIOS = {
    "ingest": Scenario(_ingest, _ingest_again, _one_more),
    "update": Scenario(_update, _same, _next_version),
    "audit": Scenario(_audit, _same, _unchanged),
    "sync": Scenario(_sync, _same, _third_stored),
    "migration": Scenario(lambda f, tmp: ["migrate"], _same, _next_version),
    "dip": Scenario(_dip, _dip_build, _ready),
}


@pytest.mark.parametrize(
    ("workflow", "point", "database_url"),
    CASES,
    ids=[f"{i:02d}-{w}-{p.replace(' ', '_')}-{b}" for i, (w, p, b) in enumerate(CASES)],
    indirect=["database_url"],
)
def test_killed_then_retried(workflow: str, point: str, folder: Folder, tmp_path: Path) -> None:
    scenario = SCENARIOS[workflow]
    env = folder.env()
    before = stored_aips(folder.database_url)
    args = scenario.prepare(folder, tmp_path)

    killed_at(env, point, *args, "--json")
    settled(env)  # only a dead job's leftovers: nothing half-visible
    assert stored_aips(folder.database_url) == before  # nothing the killed run did is visible

    retried = run_cli(*scenario.retry(folder, args), "--json", env=env)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    after = nothing_lost(env, folder.database_url, before)
    scenario.finished(folder, before, after)
    engine = make_engine(folder.database_url)
    with engine.connect() as conn:
        statuses = conn.execute(select(Job.kind, Job.status)).all()
    engine.dispose()
    if point != "dip: exported":  # there the export job had ended; only the request was not ready
        assert (workflow_kind(workflow), JobStatus.INTERRUPTED) in statuses, statuses
    assert not [s for s in statuses if s[1] is JobStatus.RUNNING], statuses


def workflow_kind(workflow: str) -> str:
    return {"sync": "replication", "dip": "export"}.get(workflow, workflow)
