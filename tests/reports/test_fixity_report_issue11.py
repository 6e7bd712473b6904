"""Regression tests for issue 11 items 16 and 17: the fixity report reads in the archive's local
time and language with each copy's true state, and no period or date can make it grow without
bound or answer with a traceback (the web route through Flask's test client, and the command)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.reports.fixity_html import render_html
from entrypoints.web import create_app
from repository.actor import Role
from repository.i18n import Translator
from repository.settings import Settings
from tests.accounts import add_staff
from tests.conftest import cli_env, run_cli
from tests.reports.test_fixity_report import C, build, seed
from tests.web.conftest import client_as

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_issue11_item16_report_in_local_time_vietnamese_and_true_copy_state(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    since = datetime(2026, 3, 1, tzinfo=HCM)  # what `--since 2026-03-01` means at the archive
    report = build(sessions, since=since, tz=HCM)
    data = report.as_dict()
    # local time with its offset, to the second: not "2026-02-28T17:00:00+00:00", no microseconds
    assert data["since"] == "2026-03-01T00:00:00+07:00"
    assert data["until"] == "2026-03-10T19:00:00+07:00"
    times = [f["detected_at"] for f in data["failures"]] + [r["started_at"] for r in data["runs"]]
    assert times and all(t.endswith("+07:00") and "." not in t for t in times)

    # a copy whose last check found damage with no good copy to repair from is not "stored"
    states = {(o["aip_id"], c["location"]): c["status"] for o in data["objects"] for c in o["copies"]}
    assert states[(C, "primary")] == "damaged"
    assert list(states.values()).count("damaged") == 1

    page = lxml_html.document_fromstring(render_html(report, language="vi"))
    shown = {e.get("data-figure"): e.text_content() for e in page.xpath("//span[@data-figure]")}
    assert (shown["since"], shown["until"]) == ("2026-03-01", "2026-03-10 19:00")
    assert "Asia/Ho_Chi_Minh" in page.text_content()
    # finding descriptions: a Vietnamese sentence from the message catalog, the English machine
    # text kept as the cell's value (what the CSV and JSON have)
    messages = page.xpath("//table[@data-table='failures']//td[@data-field='message']")
    assert len(messages) == 4
    vi = Translator("vi")
    for td, row in zip(messages, data["failures"], strict=True):
        assert td.get("data-value") == row["message"]
        params = {"path": row["path"], "location": row["location"]}
        assert td.text_content() == vi.text(f"report.finding.{row['kind']}", params)
        assert td.text_content() != row["message"] and "{" not in td.text_content()
    assert "bị hỏng" in messages[0].text_content()
    damaged = page.xpath(
        "//table[@data-table='copies']//td[@data-field='copy_status'][@data-value='damaged']"
    )
    assert [td.text_content() for td in damaged] == [vi.text("report.state.damaged")]


def test_issue11_item17_tables_list_at_most_report_max_rows(sessions: sessionmaker[Session]) -> None:
    """Rows are cut at the limit, the summary still counts all of them, and the page says so."""
    seed(sessions)
    report = build(sessions, max_rows=2)
    assert len(report.failures) == 2 and report.summary.failures == 4
    assert len(report.objects) == 2 and report.summary.holdings_objects == 3
    assert report.as_dict()["row_limit"] == 2
    page = lxml_html.document_fromstring(render_html(report, language="en"))
    cut = sorted(p.get("data-truncated") for p in page.xpath("//p[@data-truncated]"))
    assert cut == ["2/3", "2/4"]
    assert "Only 2 of 4 are listed" in page.text_content()


def _error(response: Any) -> tuple[int, str]:
    page = lxml_html.document_fromstring(response.data)
    (message,) = page.xpath("//p[@class='error-message']")
    return response.status_code, str(message.get("data-code"))


def test_issue11_item17_web_report_period_is_bounded_and_bad_dates_are_400(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    seed(sessions)
    client = client_as(create_app(settings, sessions), add_staff(sessions, settings), Role.AUDITOR)
    for url in ("/reports/fixity", "/reports/fixity.json", "/reports/fixity.csv"):
        r = client.get(f"{url}?since=2026-01-01&until=9999-12-31")  # grew the server past 10 GB
        assert _error(r) == (400, "report.period_too_long"), url
        assert "366" in r.text and "Traceback" not in r.text
        assert _error(client.get(f"{url}?since=2000-01-01")) == (400, "report.period_too_long")
        for bad in ("since=0001-01-01&until=0001-01-03", "since=0001-01-01"):
            code = _error(client.get(f"{url}?{bad}"))
            assert code in {(400, "report.bad_period"), (400, "report.period_too_long")}, bad
        assert _error(client.get(f"{url}?since=0001-01-01&until=0001-01-03")) == (400, "report.bad_period")
    year = client.get("/reports/fixity.json?since=2026-01-01&until=2027-01-01")  # 365 days: allowed
    assert year.status_code == 200
    assert json.loads(year.data)["since"] == "2026-01-01T00:00:00+07:00"


@pytest.fixture
def env(home: Path, database_url: str) -> dict[str, str]:
    e = cli_env(home, database_url)
    assert run_cli("init", env=e).returncode == 0
    return e


@pytest.mark.parametrize(
    ("period", "code"),
    [
        (["--since", "2026-01-01", "--until", "9999-12-31"], "report.period_too_long"),
        (["--since", "0001-01-01"], "report.bad_period"),
        (["--since", "0001-01-01", "--until", "0001-01-03"], "report.bad_period"),
    ],
)
def test_issue11_item17_cli_report_period_is_bounded(
    env: dict[str, str], tmp_path: Path, period: list[str], code: str
) -> None:
    out = tmp_path / "report.json"
    r = run_cli("report", "fixity", "--format", "json", *period, "--out", str(out), "--json", env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert json.loads(r.stdout)["error"]["code"] == code
    assert "Traceback" not in r.stderr and not out.exists()


def test_issue11_item16_cli_report_of_a_local_day(env: dict[str, str], tmp_path: Path) -> None:
    """`--since 2026-12-01` reads as 1 December at the archive, not "2026-11-30T17:00:00+00:00"."""
    out = tmp_path / "report.json"
    day = (datetime.now(HCM) - timedelta(days=6)).date().isoformat()
    r = run_cli("report", "fixity", "--format", "json", "--since", day, "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["since"] == f"{day}T00:00:00+07:00"
    assert data["generated_at"].endswith("+07:00") and "." not in data["generated_at"]
