"""A records officer on the command line (``kholuu --role records_officer --agency ORGAN_ID``)
sees and acts on their own agency's transfers only — the rule of the web app
(``workflows.records.agency_scope``): lists narrowed, another agency asked for by name refused
(``transfer.other_agency``), another agency's transfer answered as not existing, and no agency
named refused (``transfer.no_agency``). SQLite and PostgreSQL, in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import cli_env, run_cli

MINE, THEIRS = "H49.09", "H49.20"


@pytest.fixture
def env(home: Path, database_url: str) -> dict[str, str]:
    e = cli_env(home, database_url)
    assert run_cli("init", "--json", env=e).returncode == 0
    for organ, name in ((MINE, "Sở Nội vụ"), (THEIRS, "Sở Tài chính")):
        assert run_cli("records", "agency", "add", organ, name, env=e).returncode == 0
        assert run_cli("transfer", "receive", organ, f"goi-{organ}.zip", env=e).returncode == 0
        assert (
            run_cli("transfer", "plan", organ, f"KH-{organ}", "--planned", "2027-06-01", env=e).returncode
            == 0
        )
    return e


def as_officer(env: dict[str, str], *args: str, agency: str | None = MINE) -> Any:
    options = ("--role", "records_officer", *(("--agency", agency) if agency else ()))
    return run_cli(*options, *args, "--json", env=env)


def code_of(run: Any) -> str:
    return str(json.loads(run.stdout)["error"]["code"])


def test_a_records_officer_is_held_to_their_agency(env: dict[str, str]) -> None:
    everything = json.loads(run_cli("transfer", "list", "--json", env=env).stdout)["transfers"]
    ids = {t["organ_id"]: t["transfer_id"] for t in everything}
    assert set(ids) == {MINE, THEIRS}

    listed = as_officer(env, "transfer", "list")
    assert [t["organ_id"] for t in json.loads(listed.stdout)["transfers"]] == [MINE]
    plans = as_officer(env, "transfer", "list", "--plans")
    assert [p["organ_id"] for p in json.loads(plans.stdout)["plans"]] == [MINE]
    agencies = as_officer(env, "records", "agency", "list")
    assert [a["organ_id"] for a in json.loads(agencies.stdout)["agencies"]] == [MINE]
    assert as_officer(env, "transfer", "show", ids[MINE]).returncode == 0
    assert as_officer(env, "transfer", "confirm", ids[MINE]).returncode == 0

    other = as_officer(env, "transfer", "list", "--agency", THEIRS)
    assert (other.returncode, code_of(other)) == (3, "transfer.other_agency")
    for args in (("transfer", "show", ids[THEIRS]), ("transfer", "confirm", ids[THEIRS])):
        hidden = as_officer(env, *args)
        assert (hidden.returncode, code_of(hidden)) == (4, "transfer.not_found"), args
        assert f"goi-{THEIRS}" not in hidden.stdout
    received = as_officer(env, "transfer", "receive", THEIRS, "la.zip")
    assert (received.returncode, code_of(received)) == (3, "transfer.other_agency")
    deadlines = as_officer(env, "transfer", "deadlines", "--agency", THEIRS)
    assert (deadlines.returncode, code_of(deadlines)) == (3, "transfer.other_agency")
    nobody = as_officer(env, "transfer", "list", agency=None)
    assert (nobody.returncode, code_of(nobody)) == (3, "transfer.no_agency")
    # staff are not narrowed, and --agency means nothing for them
    assert (
        len(json.loads(run_cli("--agency", MINE, "transfer", "list", "--json", env=env).stdout)["transfers"])
        == 2
    )
