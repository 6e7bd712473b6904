"""Regression tests for issue 11 items 6 and 12, as an operator meets them: the README's first run
on an offline machine, and a submission that holds the archive's own data folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.cli.test_cli import kholuu
from tests.conftest import SAMPLES, cli_env


@pytest.fixture
def env(home: Path, database_url: str) -> dict[str, str]:
    e = cli_env(home, database_url)
    assert kholuu("init", env=e).returncode == 0
    return e


def test_issue11_item12_ingesting_the_data_folder_is_refused_at_once(
    env: dict[str, str], home: Path, tmp_path: Path
) -> None:
    """Ingesting the data folder (or a folder holding it) used to copy the quarantine into itself
    until the depth limit; now it is refused before anything is copied."""
    (home / "note.txt").write_text("not a submission", encoding="utf-8")
    outer = tmp_path  # holds the data folder
    for source in (home, outer, home / ".", home / "quarantine"):
        started = time.monotonic()
        r = kholuu("ingest", str(source), "--json", env=env)
        assert r.returncode == 3, r.stdout + r.stderr
        out = json.loads(r.stdout)
        assert out["status"] == "refused"
        assert out["error"]["code"] == "ingest.own_data_folder"
        assert str(home) in out["error"]["message"]
        assert time.monotonic() - started < 60
        quarantine = home / "quarantine" / out["job_id"]
        assert not quarantine.exists() or not any(quarantine.iterdir())
    vi = {k: v for k, v in env.items() if k != "KHOLUU_LANG"}
    human = kholuu("ingest", str(home), env=vi)
    assert human.returncode == 3 and "thư mục mà kho ghi vào" in human.stderr
    # a folder beside the data folder is still an ordinary submission
    assert kholuu("ingest", str(SAMPLES / "sip-folder-quyet-dinh"), env=env).returncode == 0


def test_issue11_item6_readme_first_run_on_a_machine_without_clamav_signatures(
    tmp_path: Path, database_url: str
) -> None:
    """README "Using it" (init, then ingest) on an offline machine: ``init`` says there are no
    signatures and exactly what to do; ``init --test-signatures`` makes the first run work the way
    scripts/demo does, and the scan is recorded as made with test signatures only."""
    empty = tmp_path / "no-signatures"
    empty.mkdir()
    home = tmp_path / "home"  # no kholuu.toml: what a newcomer has
    offline = cli_env(home, database_url, KHOLUU_VIRUS_CHECK__DATABASE=empty)
    r = kholuu("init", "--json", env=offline)
    assert r.returncode == 0, r.stderr
    ready = json.loads(r.stdout)["virus_check"]
    assert (ready["ready"], ready["kind"], ready["problem"]["code"]) == (False, "none", "virus.no_database")
    human = kholuu("init", env=offline)
    assert "freshclam" in human.stderr and "--test-signatures" in human.stderr and str(empty) in human.stderr
    failed = kholuu("ingest", str(SAMPLES / "sip-folder-quyet-dinh"), "--json", env=offline)
    assert failed.returncode == 1
    error = json.loads(failed.stdout)["error"]
    assert error["code"] == "virus.no_database" and "kholuu init" in error["message"]

    online = cli_env(home, database_url)
    r = kholuu("init", "--test-signatures", "--json", env=online)
    assert r.returncode == 0, r.stdout + r.stderr
    ready = json.loads(r.stdout)["virus_check"]
    assert (ready["ready"], ready["kind"], ready["test_signatures"]) == (True, "local", True)
    assert "database" in (home / "kholuu.toml").read_text(encoding="utf-8")
    warned = kholuu("init", "--test-signatures", env=online)  # a second run changes nothing
    assert warned.returncode == 0 and "EICAR" in warned.stderr
    stored = kholuu("ingest", str(SAMPLES / "sip-folder-quyet-dinh"), "--json", env=online)
    assert stored.returncode == 0, stored.stdout + stored.stderr
    # On PostgreSQL a newcomer's ingest would go to the job queue; with no worker running it runs
    # in the command itself and says so, instead of waiting for a worker that is not there.
    assert ("kholuu worker" in stored.stderr) == database_url.startswith("postgresql")
    aip_id = json.loads(stored.stdout)["aip_id"]
    show = json.loads(kholuu("aip", "show", aip_id, "--json", env=online).stdout)
    scans = [e for e in show["events"] if e["type"] == "virus check"]
    assert scans and all("LOCAL SIGNATURES ONLY" in json.dumps(e, ensure_ascii=False) for e in scans)

    other = tmp_path / "mirror"
    (home / "kholuu.toml").write_text(f'[virus_check]\ndatabase = "{other}"\n', encoding="utf-8")
    refused = kholuu("init", "--test-signatures", "--json", env=online)  # never overwrite a choice
    assert refused.returncode == 2
    assert json.loads(refused.stdout)["error"]["code"] == "cli.init.database_configured"
