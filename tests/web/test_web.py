"""The web app: status codes, headers and 400 pages through Flask's test client (logged in as an
administrator); the dashboard and the fixity report as headless Chromium (Playwright, logged in
through the form) renders them from a real ``kholuu serve`` (waitress) on loopback, checked
against figures computed by hand and against ``kholuu report fixity``; the downloads byte for
byte equal to the command's files; ``serve --scheduler`` auditing on a one-second schedule while
it serves, and stopping cleanly on SIGTERM. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.reports.printing import run_chromium
from entrypoints.web import create_app
from repository.actor import Role
from repository.catalog.db import make_engine, session_factory, upgrade
from repository.catalog.models import AuditFinding, AuditRun, Copy, CopyStatus, Incident
from repository.catalog.records_store import add_agency, set_declared_total
from repository.i18n import Translator
from repository.settings import Settings, load_settings
from repository.storage.locations import open_locations
from tests.accounts import FAST_ARGON2, PASSWORD
from tests.conftest import KHOLUU, cli_env, run_cli, write_home_config
from tests.web.browser import chromium, dom, fetch, signed_in
from tests.web.test_access import log_in
from tests.workflows.test_transfers import at, make_aip, make_dossier, make_transfer
from workflows.accounts.users import create_user
from workflows.custody.fixity_data import raw

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)"
)
A, B = "H49.01", "H49.02"
YEAR, ON = 2021, date(2025, 6, 30)
ADMIN = "quan.tri"
AIP = "uuid-web00000-0000-4000-8000-000000000001"
AIP_B2 = "uuid-web00000-0000-4000-8000-000000000002"
PERIOD = {"since": "2026-03-01", "until": "2026-03-11"}
VI, EN = Translator("vi"), Translator("en")


def seed(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Cohort 2021, as of 30/6/2025 (a 2021 record is due at the Historical Archive in 2024).

    A (in scope) declared for 2021: records_created 10, records_created_electronic 6,
    online_access 1; nothing about permanent e-records or high-use paper.
      A1 2021-03-01 born digital, received 10/1/2023, accepted 1/2/2023, published; one document.
      A2 2021-06-01 digitized (02), received 1/8/2024, accepted 1/9/2024, not published.
    B (in scope) declared online_access 0 and nothing else.
      B1 2021-01-15 born digital, received 1/6/2023, accepted 1/7/2023, published.
      B2 2021-05-05 digitized, received 1/6/2025 under a transfer not yet decided (its own AIP):
         received, not accepted.
    One stored AIP with one copy; one audit run on 5/3/2026 that found a corrupt file with no
    good copy: one open incident.
    """
    with sessions.begin() as s:
        add_agency(s, A, "Sở Nội vụ tỉnh An Giang")
        add_agency(s, B, "Sở Tài chính tỉnh An Giang")
        for metric, value in (
            ("records_created", 10),
            ("records_created_electronic", 6),
            ("online_access", 1),
        ):
            set_declared_total(s, organ_id=A, year=YEAR, metric=metric, value=value, source="test")
        set_declared_total(s, organ_id=B, year=YEAR, metric="online_access", value=0, source="test")
        make_aip(s, AIP)
        make_dossier(s, AIP, "A1", end_on=date(2021, 3, 1), received=at(2023, 1, 10), accepted=at(2023, 2, 1),
                     published=at(2023, 3, 1), documents=[{"issued_on": date(2021, 1, 5), "mode": "01",
                                                            "confidence_level": ""}])  # fmt: skip
        make_dossier(s, AIP, "A2", end_on=date(2021, 6, 1), confidence="02", received=at(2024, 8, 1),
                     accepted=at(2024, 9, 1))  # fmt: skip
        make_dossier(s, AIP, "B1", organ_id=B, end_on=date(2021, 1, 15), received=at(2023, 6, 1),
                     accepted=at(2023, 7, 1), published=at(2023, 8, 1))  # fmt: skip
        make_aip(s, AIP_B2)
        make_dossier(
            s, AIP_B2, "B2", organ_id=B, end_on=date(2021, 5, 5), confidence="02", received=at(2025, 6, 1),
            transfer=True,
        )  # fmt: skip
        s.flush()
        make_transfer(s, settings, AIP_B2, organ_id=B, received=at(2025, 6, 1))
        checked = datetime(2026, 3, 5, 10, 20, tzinfo=UTC)
        s.add(Copy(aip_id=AIP, version=1, location="primary", status=CopyStatus.STORED, object_path="p/o",
                   written_at=at(2025, 1, 1), verified_at=at(2025, 1, 1), last_checked_at=checked,
                   check_outcome="failed"))  # fmt: skip
        s.add(AuditRun(id="run-web-1", started_at=datetime(2026, 3, 5, 10, tzinfo=UTC), status="completed",
                       ended_at=checked, trigger="scheduler", mode="due", location="primary", holder="h",
                       copies_checked=1, files_checked=4, bytes_checked=1234, failures=1,
                       incidents=1))  # fmt: skip
        s.flush()
        finding = {"aip_id": AIP, "location": "primary", "path": "v1/content/data/Địa bạ.pdf",
                   "kind": "corrupt", "code": "audit.corrupt", "message": "corrupt file",
                   "run_id": "run-web-1"}  # fmt: skip
        s.add(AuditFinding(**finding, version=1, detected_at=checked, repair="no good copy"))
        s.add(Incident(**finding, opened_at=checked, status="open"))


# Hand-computed (see ``seed``): (numerator, denominator, percent, basis, note code) per scope.
EXPECTED: dict[str, dict[tuple[str, str], tuple[Any, ...]]] = {
    A: {
        ("K1", "dossiers"): (6, 10, 60.0, "declared", ""),
        ("K2", "agencies"): (1, 1, 100.0, "declared", ""),
        ("K3", "dossiers"): (1, 1, 100.0, "proxy", "kpi.note.k3_proxy"),  # A1 only: A2 is digitized
        ("K4", "dossiers"): (1, 2, 50.0, "measured", ""),  # A1 and A2 held and public, A1 published
        ("K6", "dossiers"): (None, None, None, "no_data", "kpi.note.k6_no_data"),  # nothing marked high-use
    },
    B: {
        ("K1", "dossiers"): (1, 2, 50.0, "proxy", "kpi.note.k1_proxy"),  # B1 born digital of B1, B2
        ("K2", "agencies"): (0, 1, 0.0, "declared", ""),
        ("K3", "dossiers"): (1, 1, 100.0, "proxy", "kpi.note.k3_proxy"),
        ("K4", "dossiers"): (1, 1, 100.0, "measured", ""),  # B2 not accepted
    },
    "overall": {
        ("K1", "dossiers"): (7, 12, 58.3, "proxy", "kpi.note.overall_mixed"),  # A declared + B proxy
        ("K2", "agencies"): (1, 2, 50.0, "declared", ""),
        ("K3", "dossiers"): (2, 2, 100.0, "proxy", "kpi.note.k3_proxy"),
        ("K4", "dossiers"): (2, 3, 66.7, "measured", ""),
        ("K5", "solution"): (0, 1, 0.0, "measured", "kpi.note.k5_copies"),  # one required location
        ("K6", "dossiers"): (None, None, None, "no_data", "kpi.note.k6_no_data"),  # nothing marked high-use
    },
}


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session]) -> Flask:
    return create_app(settings, sessions)


@pytest.fixture
def client(app: Flask, settings: Settings, sessions: sessionmaker[Session]) -> FlaskClient:
    """A client logged in as an administrator."""
    add_administrator(sessions, settings)
    client = app.test_client()
    assert log_in(client, ADMIN).status_code == 302
    return client


def add_administrator(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions.begin() as s:
        create_user(s, settings.access, login=ADMIN, display_name="Quản trị", role=Role.ADMINISTRATOR,
                    password=PASSWORD)  # fmt: skip


def cli_reports(home: Path, database_url: str, *formats: str) -> dict[str, tuple[bytes, str]]:
    """``kholuu report fixity --format F`` for :data:`PERIOD`, as an operator runs it (in-process):
    format → (file bytes, digest printed)."""
    env = cli_env(home, database_url, KHOLUU_LANG="vi")
    period = ["--since", PERIOD["since"], "--until", PERIOD["until"]]
    out: dict[str, tuple[bytes, str]] = {}
    for fmt in formats:
        target = home / f"cli.{fmt}"
        done = run_cli("report", "fixity", "--format", fmt, *period, "--out", str(target), "--json", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        out[fmt] = (target.read_bytes(), json.loads(done.stdout)["digest"])
    return out


# --------------------------------------------------------------------------- test client


def test_pages_answer_with_safe_headers_and_the_archive_name(client: FlaskClient, settings: Settings) -> None:
    for url in ("/", "/?lang=en", "/reports/fixity", "/reports/fixity?lang=en&since=2026-01-01"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.content_type == "text/html; charset=utf-8"
        page = lxml_html.document_fromstring(r.data)
        assert (
            page.xpath("string(//*[@data-archive-name])")
            == settings.archive.name
            == ("Trung tâm Lưu trữ lịch sử tỉnh An Giang")
        )
        assert page.get("lang") == ("en" if "lang=en" in url else "vi")
        directives = dict(
            d.strip().partition(" ")[::2] for d in r.headers["Content-Security-Policy"].split(";")
        )
        assert (
            not page.xpath("//script") and directives["script-src"] == "'self'"
        )  # /static only, never inline
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Cache-Control"] == "no-store" and r.headers["X-Frame-Options"] == "DENY"
    assert "Tổng quan kho lưu trữ" in client.get("/").text
    assert "Archive dashboard" in client.get("/?lang=en").text
    with client.get("/static/kholuu.css") as css:
        assert css.status_code == 200 and css.content_type.startswith("text/css")


BAD_PARAMETERS: list[tuple[str, str, dict[str, str]]] = [
    ("/?year=20x1", "web.bad_year", {"name": "year", "value": "20x1"}),
    ("/?on=2025-02-30", "web.bad_date", {"name": "on", "value": "2025-02-30"}),
    ("/?on=30/06/2025", "web.bad_date", {"name": "on", "value": "30/06/2025"}),
    ("/reports/fixity?since=yesterday", "web.bad_date", {"name": "since", "value": "yesterday"}),
    ("/reports/fixity.csv?since=2026-03-01&until=2026-3-9", "web.bad_date",
     {"name": "until", "value": "2026-3-9"}),
    ("/reports/fixity?since=2026-03-10&until=2026-03-01", "web.empty_period",
     {"since": "2026-03-10", "until": "2026-03-01"}),
    ("/reports/fixity.json?since=2026-03-10&until=2026-03-10", "web.empty_period",
     {"since": "2026-03-10", "until": "2026-03-10"}),
    ("/reports/fixity?generated_at=2026-03-10T12:00", "web.bad_moment",
     {"name": "generated_at", "value": "2026-03-10T12:00"}),
    ("/reports/fixity?generated_at=2999-01-01T00:00:00%2B07:00", "web.future_moment",
     {"name": "generated_at", "value": "2999-01-01T00:00:00+07:00"}),
    ("/?lang=fr", "web.bad_language", {"value": "fr", "choices": "vi, en"}),
]  # fmt: skip
"""(url, message code, its parameters): each a 400 page naming the parameter and its value."""


def test_bad_parameters_are_a_400_page_that_names_them(client: FlaskClient) -> None:
    for url, code, params in BAD_PARAMETERS:
        for language, t in (("vi", VI), ("en", EN)):
            with_lang = url if "lang=" in url else f"{url}{'&' if '?' in url else '?'}lang={language}"
            r = client.get(with_lang)
            assert r.status_code == 400 and r.content_type == "text/html; charset=utf-8", with_lang
            page: Any = lxml_html.document_fromstring(r.data)
            (message,) = page.xpath("//p[@class='error-message']")
            assert message.get("data-code") == code, with_lang
            expected = (VI if "lang=fr" in url else t).text(code, params)  # "fr": the default, vi
            assert message.text_content() == expected, with_lang
            assert "Traceback" not in r.text and "{" not in expected


def test_unknown_pages_and_formats_are_404_pages(client: FlaskClient) -> None:
    for url in ("/nowhere", "/reports/fixity.xlsx", "/reports/fixity.html/x"):
        r = client.get(url)
        assert r.status_code == 404 and "Không có trang này." in r.text
    assert client.post("/").status_code == 405  # read-only: nothing accepts a write


def test_healthz_queries_the_catalog(client: FlaskClient) -> None:
    r = client.get("/healthz")
    assert (r.status_code, r.json) == (200, {"status": "ok", "catalog": "ok"})


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-kholuu-folder/catalog.sqlite3",
        "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=3",
    ],
)
def test_healthz_is_503_when_the_catalog_cannot_be_reached(settings: Settings, url: str) -> None:
    engine = make_engine(url)
    try:
        client = create_app(settings, session_factory(engine)).test_client()
        with client.session_transaction() as cookie:  # a session: its user is looked up
            cookie["login"], cookie["stamp"] = ADMIN, "2026-01-01T00:00:00+00:00"
            cookie["since"] = int(time.time())
        r = client.get("/healthz")
        assert r.status_code == 503 and r.json is not None
        assert (r.json["status"], r.json["catalog"]) == ("unavailable", "unreachable")
        assert r.json["problem"] == "OperationalError" and "127.0.0.1:1" not in r.text
        page = client.get("/?lang=en")  # a page needs the catalog too: a 503 page, not a traceback
        assert page.status_code == 503 and "The catalog database cannot be queried" in page.text
    finally:
        engine.dispose()


def test_downloads_are_byte_for_byte_the_command_line_files(
    client: FlaskClient,
    settings: Settings,
    sessions: sessionmaker[Session],
    home: Path,
    database_url: str,
) -> None:
    """For the same days and the same moment of making, ``/reports/fixity.<fmt>`` is the file
    ``kholuu report fixity --format <fmt>`` wrote; each carries the same digest as the page."""
    seed(sessions, settings)
    for fmt, (cli_bytes, digest) in cli_reports(home, database_url, "json", "csv", "html").items():
        made_at = _generated_at(fmt, cli_bytes)
        query = PERIOD | {"generated_at": made_at}
        r = client.get(f"/reports/fixity.{fmt}", query_string=query)
        assert r.status_code == 200
        assert r.data == cli_bytes, fmt
        assert r.headers["X-Report-Digest"] == digest
        assert (
            r.headers["Content-Disposition"]
            == f'attachment; filename="fixity-report_2026-03-01_2026-03-11.{fmt}"'
        )
        page = client.get("/reports/fixity", query_string=query)
        assert page.headers["X-Report-Digest"] == digest
        dom: Any = lxml_html.document_fromstring(page.data)
        assert [e.text for e in dom.xpath("//*[@data-figure='digest']")] == [digest, digest]
        links = {a.get("data-format"): a.get("href") for a in dom.xpath("//p[@class='downloads']/a")}
        assert set(links) == {"html", "csv", "json", "pdf"}
        assert client.get(links[fmt]).data == cli_bytes  # the page's own link gives the same file
    content_types = {fmt: client.get(f"/reports/fixity.{fmt}", query_string=PERIOD).content_type
                     for fmt in ("html", "csv", "json")}  # fmt: skip
    assert content_types == {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
                             "json": "application/json"}  # fmt: skip


@needs_chromium
def test_pdf_download_is_the_page_printed(
    client: FlaskClient, settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Not byte for byte (Chromium stamps the time it printed), but the same report: same digest."""
    seed(sessions, settings)
    html = client.get("/reports/fixity.html", query_string=PERIOD | {"lang": "en"})
    pinned = PERIOD | {"lang": "en", "generated_at": _generated_at("html", html.data)}
    r = client.get("/reports/fixity.pdf", query_string=pinned)
    assert r.status_code == 200 and r.content_type == "application/pdf" and r.data.startswith(b"%PDF-")
    assert r.headers["X-Report-Digest"] == html.headers["X-Report-Digest"]
    assert (
        r.headers["Content-Disposition"] == 'attachment; filename="fixity-report_2026-03-01_2026-03-11.pdf"'
    )
    (tmp_path / "r.pdf").write_bytes(r.data)
    with pikepdf.open(tmp_path / "r.pdf") as pdf:
        assert len(pdf.pages) >= 1


def test_pdf_without_chromium_is_a_503_page_naming_it(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where Chromium is not installed
    r = client.get("/reports/fixity.pdf", query_string=PERIOD | {"lang": "en"})
    assert r.status_code == 503 and r.content_type == "text/html; charset=utf-8"
    page: Any = lxml_html.document_fromstring(r.data)
    (message,) = page.xpath("//p[@class='error-message']")
    assert message.get("data-code") == "report.chromium_missing"
    assert "apt-get install chromium" in message.text_content()


def _generated_at(fmt: str, data: bytes) -> str:
    if fmt == "json":
        return str(json.loads(data)["generated_at"])
    if fmt == "csv":
        rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
        return next(row[1] for row in rows if row and row[0] == "generated_at")
    found = re.search(rb'data-figure="generated_at" data-value="([^"]+)"', data)  # the text is local time
    assert found is not None
    return found.group(1).decode()


# --------------------------------------------------------------------------- a real server


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base: str
    stderr: list[str]

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base + path.lstrip("/"), timeout=30) as r:
                return int(r.status), bytes(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def dom(self, path: str) -> Any:
        """The DOM headless Chromium built from a public page (no login, no script)."""
        out = run_chromium(["--dump-dom", self.base + path.lstrip("/")], timeout=60)
        return lxml_html.document_fromstring(out.decode("utf-8"))


@contextmanager
def serving(env: dict[str, str], *options: str) -> Iterator[Served]:
    """``kholuu serve --port 0`` on loopback; ready once /healthz answers; SIGTERM afterwards."""
    proc = subprocess.Popen(
        [KHOLUU, "serve", "--port", "0", *options],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    urls: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if found := re.search(r"http://127\.0\.0\.1:\d+/", line):
                urls.put(found.group(0))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        try:
            base = urls.get(timeout=30)
        except queue.Empty:
            pytest.fail("kholuu serve did not start:\n" + "".join(lines))
        served = Served(proc, base, lines)
        deadline = time.monotonic() + 15
        while served.get("/healthz")[0] != 200:
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(timeout=5)
        if proc.stderr is not None:
            proc.stderr.close()


def _rows(dom: Any, scope: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The KPI table of one scope as Chromium rendered it: (kpi, unit) → figures, basis, note."""
    out: dict[tuple[str, str], tuple[Any, ...]] = {}
    (section,) = dom.xpath(f"//section[@data-scope='{scope}']")
    for tr in section.xpath(".//tr[@data-kpi]"):

        def field(name: str, tr: Any = tr) -> Any:
            (td,) = tr.xpath(f"./td[@data-field='{name}']")
            return td

        def value(name: str) -> Any:
            text_value = field(name).get("data-value")
            return None if text_value == "" else float(text_value) if "." in text_value else int(text_value)

        (marker,) = field("basis").xpath("./span[@data-basis]")
        out[(tr.get("data-kpi"), tr.get("data-unit"))] = (
            value("numerator"),
            value("denominator"),
            value("percent"),
            marker.get("data-basis"),
            field("note").text_content().strip(),
            marker.text_content(),
            field("percent").text_content().strip(),
        )
    return out


@needs_chromium
def test_dashboard_and_fixity_page_in_chromium_from_kholuu_serve(
    settings: Settings, sessions: sessionmaker[Session], home: Path, database_url: str
) -> None:
    seed(sessions, settings)
    add_administrator(sessions, settings)
    with (
        serving(cli_env(home, database_url, KHOLUU_LANG="vi")) as served,
        chromium() as browser,
        signed_in(browser, served.base, ADMIN, PASSWORD) as page,
    ):
        dashboard = dom(page, served.base, f"/?year={YEAR}&on={ON.isoformat()}")
        data = json.loads(cli_reports(home, database_url, "json")["json"][0])
        query = "&".join(f"{k}={v}" for k, v in PERIOD.items())
        pinned = urllib.parse.quote(data["generated_at"])
        report = dom(page, served.base, f"/reports/fixity?{query}&generated_at={pinned}")
        status, body = fetch(page, served.base, "/reports/fixity.csv?since=bad")
        assert status == 400 and "không phải một ngày" in body.decode("utf-8")

    assert dashboard.xpath("string(//*[@data-archive-name])") == settings.archive.name
    kpis = dashboard.xpath("//section[@data-year]")[0]
    assert (kpis.get("data-year"), kpis.get("data-on")) == ("2021", "2025-06-30")
    for scope, expected in EXPECTED.items():
        shown = _rows(dashboard, scope)
        for key, (num, den, pct, basis, note) in expected.items():
            got = shown[key]
            assert got[:4] == (num, den, pct, basis), (scope, key)
            years = {"years": settings.records.programme_deadline_years}
            assert got[4].startswith(VI.text(note, years) if note else ""), (scope, key)
            assert got[5] == VI.text(f"kpi.basis.{basis}")  # the visible marker: "ước tính" for a proxy
            shown_pct = "—" if pct is None else f"{pct:g}".replace(".", ",") + " %"
            assert got[6] == shown_pct, (scope, key)
    assert _rows(dashboard, A)[("K1", "dossiers")][5] == "cơ quan kê khai"
    assert _rows(dashboard, "overall")[("K1", "dossiers")][5] == "ước tính"
    proxies = dashboard.xpath("//section[@data-scope='overall']//tr[@data-basis='proxy']/@data-kpi")
    assert sorted(set(proxies)) == ["K1", "K3"]
    counts = {dd.get("data-count"): int(dd.get("data-value")) for dd in dashboard.xpath("//dd[@data-count]")}
    assert counts == {"aips": 2, "aips_degraded": 0, "dossiers": 4, "documents": 1, "open_incidents": 1}

    # the fixity page: the same figures and digest as the command's JSON for the same period
    marked = report.xpath("//span[@data-figure]|//p[@data-figure]")
    figures = {e.get("data-figure"): e.get("data-value") or e.text_content() for e in marked}
    shown = {e.get("data-figure"): e.text_content() for e in marked}
    assert (shown["since"], shown["until"]) == ("2026-03-01", "2026-03-10")  # local days, the last one
    expected_figures = {
        k: raw(data[k]) for k in ("archive_name", "generated_at", "since", "until", "cycle_days")
    }
    expected_figures |= {k: raw(v) for k, v in data["summary"].items()}
    expected_figures |= {"timezone": data["timezone"], "digest": data["digest"]}
    assert figures == expected_figures
    assert (figures["runs"], figures["failures"], figures["open_incidents"]) == ("1", "1", "1")
    assert figures["archive_name"] == settings.archive.name
    assert [e.text for e in report.xpath("//*[@data-figure='digest']")] == [data["digest"]] * 2
    assert report.xpath("//svg[@data-figure='plot']")
    downloads = [urllib.parse.urlsplit(h) for h in report.xpath("//p[@class='downloads']/a/@href")]
    assert [u.path for u in downloads] == [f"/reports/fixity.{f}" for f in ("html", "csv", "json", "pdf")]
    for u in downloads:  # the files are pinned to the page's moment, so they carry its digest
        assert urllib.parse.parse_qs(u.query) == {k: [v] for k, v in PERIOD.items()} | {
            "generated_at": [data["generated_at"]]
        }


@pytest.mark.timeout(120)
def test_serve_with_scheduler_audits_while_serving_and_stops_on_sigterm(
    home: Path, database_url: str
) -> None:
    write_home_config(home, FAST_ARGON2 + '[[audit.schedules]]\nlocation = "primary"\ninterval_seconds = 1\n')
    env = cli_env(home, database_url)
    settings = load_settings(home, environ=env)
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        open_locations(settings, initialize=True)
        sessions = session_factory(engine)
        with serving(env, "--scheduler") as served:
            deadline = time.monotonic() + 30
            runs: list[AuditRun] = []
            while not runs:
                assert time.monotonic() < deadline, "no scheduled audit ran:\n" + "".join(served.stderr)
                assert served.get("/healthz")[0] == 200 and served.get("/login")[0] == 200  # still answering
                with sessions() as s:
                    runs = list(s.scalars(select(AuditRun).where(AuditRun.trigger == "scheduler")))
                time.sleep(0.2)
            assert served.get("/reports/fixity")[0] == 200  # the login page it is sent to
            with sessions() as s:
                assert s.execute(text("select id from apscheduler_jobs")).scalars().all() == ["audit:primary"]
            started = time.monotonic()
            served.proc.send_signal(signal.SIGTERM)
            assert served.proc.wait(timeout=10) == 0
            assert time.monotonic() - started < 5
        log = "".join(served.stderr)
        assert EN.text("cli.serve.stopped") in log and "audit:primary" in log
        with sessions() as s:
            assert all(r.status != "running" for r in s.scalars(select(AuditRun)))  # no audit cut off
    finally:
        engine.dispose()


def test_serve_names_a_port_it_cannot_listen_on(home: Path, database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [KHOLUU, "serve", "--port", str(port)],
            env=cli_env(home, database_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"Cannot listen on 127.0.0.1:{port}:" in done.stderr
