"""``/policy``: the format policy for staff, through Flask's test client against a real ingest of
a sample, on SQLite and PostgreSQL: the holdings by format with files and bytes (as ``kholuu
policy check --json`` counts them), one PUID's fields with where each came from (the override or
the shipped file), the override's changes against the shipped policy, and the page saying the
policy is a data file it does not edit. Reader services may not read it (the CLI's rule)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from repository.actor import Role
from repository.i18n import Translator
from repository.settings import Settings, load_settings
from tests.conftest import SAMPLES, cli_env, run_cli
from tests.web.conftest import client_as, page

VI = Translator("vi")
OVERRIDE = '[formats."fmt/18"]\nrisk = "high"\naccepted = { tt05 = true }\npreservation = "none"\n'


def test_policy_page_shows_holdings_sources_and_the_override(
    settings: Settings, sessions: sessionmaker[Session], staff: dict[Role, str], home: Path, database_url: str
) -> None:
    env = cli_env(home, database_url)
    assert run_cli("init", "--json", env=env).returncode == 0
    ingested = run_cli("ingest", str(SAMPLES / "sip-folder-quyet-dinh"), "--json", env=env)
    assert ingested.returncode == 0, ingested.stderr
    (home / "planning").mkdir()
    (home / "planning" / "formats.toml").write_text(OVERRIDE, encoding="utf-8")
    checked = json.loads(run_cli("policy", "check", "--json", env=env).stdout)
    expected = {r["puid"] or "": (r["files"], r["bytes"], r["risk"]) for r in checked["formats"]}

    settings = load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})
    app = create_app(settings, sessions)
    auditor = client_as(app, staff, Role.AUDITOR)
    shown = page(auditor, "/policy")
    rows = {
        r.get("data-puid"): (
            int(r.xpath("string(./td[@data-files]/@data-files)")),
            int(r.xpath("string(./td[@data-bytes]/@data-bytes)")),
            r.get("data-risk"),
        )
        for r in shown.xpath("//table[@data-holdings]/tbody/tr[@data-puid]")
    }
    assert rows == expected and rows["fmt/18"][2] == "high"
    high = shown.xpath("//table[@data-risks]//tr[@data-risk='high']")[0]
    held_high = [v for v in expected.values() if v[2] == "high"]
    assert int(high.xpath("string(./td[@data-files]/@data-files)")) == sum(v[0] for v in held_high)
    assert int(high.xpath("string(./td[@data-bytes]/@data-bytes)")) == sum(v[1] for v in held_high) > 0
    assert shown.xpath("string(//p[@data-read-only])") == VI.text("web.policy.data_file")
    assert not shown.xpath("//form[@method='post']") or shown.xpath("//form[@method='post']/@class") == [
        "logout"
    ]
    assert shown.xpath("//li[@data-change='fmt/18']")  # the override changes fmt/18's acceptance and action

    entry = page(auditor, "/policy/formats/fmt/18")
    sources = {r.get("data-field"): r.get("data-source") for r in entry.xpath("//tr[@data-field]")}
    assert sources["risk"] == sources["accepted.tt05"] == "override"
    assert sources["name"] == "shipped"
    labels = {r.get("data-field"): r.xpath("string(./th)") for r in entry.xpath("//tr[@data-field]")}
    assert labels["risk"] == VI.text("policy.field.risk")
    assert auditor.get("/policy?puid=fmt/18").location.endswith("/policy/formats/fmt/18")
    assert auditor.get("/policy/formats/fmt/999999").status_code == 404
    assert client_as(app, staff, Role.READER_SERVICES).get("/policy").status_code == 403
