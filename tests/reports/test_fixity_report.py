"""The fixity report: exact figures from a known catalog state (SQLite and PostgreSQL), and the same
figures in the HTML as headless Chromium renders it, in the CSV, the JSON and the PDF."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pikepdf
import pytest
from lxml import html as lxml_html
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.reports.errors import ChromiumNotFound
from entrypoints.reports.fixity import render, render_csv, render_json
from entrypoints.reports.fixity_html import render_html
from repository import i18n
from repository.catalog.db import make_engine, session_factory, upgrade
from repository.catalog.models import (
    Aip,
    AipStatus,
    AuditFinding,
    AuditRun,
    Copy,
    CopyStatus,
    Event,
    Incident,
    Job,
    JobStatus,
)
from repository.settings import load_settings
from repository.storage.backend import join_key
from repository.storage.locations import open_locations
from repository.storage.ocfl import ROOT_PREFIX
from tests.conftest import SAMPLES, write_home_config
from workflows.custody.audit import AuditOptions, run_audit
from workflows.custody.fixity_data import DayRow, FixityReport, Summary, document_digest, raw, report_digest
from workflows.custody.fixity_report import build_fixity_report
from workflows.ingest.pipeline import ingest

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)"
)

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ARCHIVE = "Trung tâm Lưu trữ lịch sử tỉnh An Giang"
A = "uuid-aaaaaaaa-0000-4000-8000-000000000001"
B = "uuid-bbbbbbbb-0000-4000-8000-000000000002"
C = "uuid-cccccccc-0000-4000-8000-000000000003"
D = "uuid-dddddddd-0000-4000-8000-000000000004"


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _aip(aip_id: str, label: str, status: AipStatus, payload_bytes: int, version: int = 1) -> Aip:
    return Aip(
        id=aip_id,
        objid=aip_id,
        label=label,
        status=status,
        package_kind="eark-sip",
        container="dir",
        source_name=label,
        payload_digest="0" * 64,
        file_count=3,
        payload_bytes=payload_bytes,
        created_at=at(1, 5),
        stored_at=at(1, 5) if status is not AipStatus.STORING else None,
        current_version=version,
        job_id="job-" + aip_id[-4:],
    )


def _copy(
    aip_id: str,
    location: str,
    checked: datetime | None,
    outcome: str | None,
    *,
    version: int = 1,
    status: CopyStatus = CopyStatus.STORED,
) -> Copy:
    return Copy(
        aip_id=aip_id,
        version=version,
        location=location,
        status=status,
        object_path=f"{location}/{aip_id}",
        written_at=at(1, 5),
        verified_at=at(1, 5),
        last_checked_at=checked,
        check_outcome=outcome,
    )


def _run(run_id: str, started: datetime, copies: int, files: int, nbytes: int, **counts: Any) -> AuditRun:
    return AuditRun(
        id=run_id,
        started_at=started,
        ended_at=started + timedelta(minutes=30),
        status=counts.pop("status", "completed"),
        trigger=counts.pop("trigger", "scheduler"),
        mode=counts.pop("mode", "due"),
        location=counts.pop("location", None),
        holder="host-1:4242",
        copies_checked=copies,
        files_checked=files,
        bytes_checked=nbytes,
        **counts,
    )


def _finding(
    run_id: str, when: datetime, aip_id: str, version: int, location: str, kind: str, repair: str, **more: Any
) -> AuditFinding:
    return AuditFinding(
        run_id=run_id,
        aip_id=aip_id,
        version=version,
        location=location,
        path=more.pop("path", f"v{version}/content/data/Địa bạ {kind}.pdf"),
        kind=kind,
        code=f"audit.{kind}",
        message=f"{kind} file",
        detected_at=when,
        repair=repair,
        **more,
    )


def _ingest_job(job_id: str) -> Job:
    return Job(
        id=job_id,
        kind="ingest",
        status=JobStatus.RUNNING,
        source="/in/d",
        source_name="d",
        started_at=at(3, 3),
        options={},
    )


def _fixity_event(
    aip_id: str, when: datetime, *, job_id: str | None = None, outcome: str = "success", note: str = "passed"
) -> Event:
    return Event(
        identifier=f"ev-{aip_id[-4:]}-{when:%m%d%H%M}",
        type="fixity check",
        datetime=when,
        outcome=outcome,
        detail="every file re-read",
        outcome_detail=note,
        job_id=job_id,
        aip_id=aip_id,
    )


def seed(sessions: sessionmaker[Session]) -> None:
    """Three held AIPs with two locations each, one being ingested; audit runs before, in and at
    the end of the period; the findings and incidents the brief lists."""
    with sessions.begin() as s:
        s.add_all(
            [
                _aip(A, "Châu bản triều Nguyễn, tập 12", AipStatus.STORED, 1000),
                _aip(B, "Địa bạ thôn Mỹ Phước, 1836", AipStatus.STORED, 2000, version=2),
                _aip(C, "Bản đồ Long Xuyên 1930", AipStatus.DEGRADED, 3000),
                _aip(D, "Hồ sơ đang nộp lưu", AipStatus.STORING, 99999),
                _ingest_job("job-ingest-d"),
            ]
        )
        s.flush()
        s.add_all(
            [
                _copy(A, "primary", at(3, 2, 18, 10), "repaired"),
                _copy(A, "offsite", at(1, 15), "passed"),  # before the period, within the cycle
                _copy(B, "primary", None, None),  # version 1: not the current version
                _copy(B, "offsite", at(10, 1, year=2025), "passed"),
                _copy(B, "primary", at(3, 5, 10, 20), "repaired", version=2),
                _copy(B, "offsite", at(3, 5, 10, 30), "could not check", version=2),
                _copy(C, "primary", at(3, 5, 10, 40), "failed"),
                _copy(C, "offsite", None, None, status=CopyStatus.PENDING),
                _run("run-0", at(2, 20), 5, 50, 5000, failures=1, repaired=1),
                _run(
                    "run-1", at(3, 2, 18, 0), 2, 12, 3000, failures=1, repaired=1, trigger="cli", mode="all"
                ),
                _run("run-2", at(3, 5), 4, 21, 7000, failures=3, repaired=2, incidents=1, could_not_check=1),
                _run("run-3", UNTIL, 1, 3, 100, status="running"),  # starts at `until`: not in the period
                _fixity_event(A, at(3, 2, 18, 10)),
                _fixity_event(B, at(3, 5, 10, 30)),
                _fixity_event(C, at(3, 5, 10, 40)),
                _fixity_event(D, at(3, 3), job_id="job-ingest-d"),  # an ingest's check: not an audit
                _fixity_event(D, at(2, 1)),  # before the period
            ]
        )
        s.flush()
        s.add_all(
            [
                _finding(
                    "run-0", at(2, 20, 10, 5), A, 1, "primary", "corrupt", "repaired", repaired_from="offsite"
                ),
                _finding(
                    "run-1", at(3, 2, 18, 10), A, 1, "primary", "corrupt", "repaired", repaired_from="offsite"
                ),
                _finding(
                    "run-2", at(3, 5, 10, 15), B, 2, "primary", "missing", "repaired", repaired_from="offsite"
                ),
                _finding("run-2", at(3, 5, 10, 20), B, 2, "primary", "unexpected", "moved aside"),
                _finding("run-2", at(3, 5, 10, 40), C, 1, "primary", "corrupt", "no good copy"),
                Incident(
                    aip_id=C,
                    location="primary",
                    path="v1/content/data/Địa bạ corrupt.pdf",
                    kind="corrupt",
                    code="audit.corrupt",
                    message="no good copy anywhere",
                    opened_at=at(3, 5, 10, 40),
                    run_id="run-2",
                    status="open",
                ),
                Incident(
                    aip_id=A,
                    location="primary",
                    path="v1/content/data/a.pdf",
                    kind="corrupt",
                    code="audit.corrupt",
                    message="repaired by hand",
                    opened_at=at(2, 20, 10, 5),
                    run_id="run-0",
                    status="acknowledged",
                    acknowledged_at=at(2, 21),
                    acknowledged_by="Nguyễn Thị Lan",
                ),
            ]
        )


def build(sessions: sessionmaker[Session], **kw: Any) -> FixityReport:
    args: dict[str, Any] = {
        "since": SINCE,
        "until": UNTIL,
        "cycle_days": 90,
        "generated_at": UNTIL,
        "archive_name": ARCHIVE,
    }
    return build_fixity_report(sessions, **(args | kw))


@pytest.fixture
def report(sessions: sessionmaker[Session]) -> FixityReport:
    seed(sessions)
    return build(sessions)


EXPECTED = Summary(
    runs=2,
    copies_checked=6,
    objects_checked=3,
    files_checked=33,
    bytes_checked=10000,
    could_not_check=1,
    holdings_objects=3,
    holdings_bytes=6000,
    holdings_copies=5,
    copies_within_cycle=4,  # all stored current copies but B/offsite (could not check)
    holdings_pct_within_cycle=80.0,
    objects_within_cycle=2,  # A and C (whose only stored copy is checked); not B
    objects_pct_within_cycle=66.67,
    failures=4,
    failures_repaired=2,
    failures_moved_aside=1,
    failures_no_good_copy=1,
    failures_repair_off=0,
    failures_no_repair=0,
    open_incidents=1,
)


def test_figures(report: FixityReport) -> None:
    assert report.summary == EXPECTED
    assert [r.id for r in report.runs] == ["run-1", "run-2"]
    assert [(f.run_id, f.aip_id, f.kind, f.repair, f.repaired_from) for f in report.failures] == [
        ("run-1", A, "corrupt", "repaired", "offsite"),
        ("run-2", B, "missing", "repaired", "offsite"),
        ("run-2", B, "unexpected", "moved aside", None),
        ("run-2", C, "corrupt", "no good copy", None),
    ]
    assert [(i.aip_id, i.kind, i.run_id) for i in report.open_incidents] == [(C, "corrupt", "run-2")]
    copies = {
        (o.aip_id, c.location): (c.check_outcome, c.within_cycle) for o in report.objects for c in o.copies
    }
    assert copies == {
        (A, "offsite"): ("passed", True),
        (A, "primary"): ("repaired", True),
        (B, "offsite"): ("could not check", False),
        (B, "primary"): ("repaired", True),
        (C, "offsite"): (None, False),
        (C, "primary"): ("failed", True),
    }
    assert [(o.aip_id, o.version, o.status) for o in report.objects] == [
        (A, 1, "stored"),
        (B, 2, "stored"),
        (C, 1, "degraded"),
    ]
    assert report.series == tuple(
        DayRow(date(2026, 3, d), {2: 2, 5: 4}.get(d, 0), {2: 1, 5: 3}.get(d, 0)) for d in range(1, 11)
    )
    assert sum(d.copies_checked for d in report.series) == report.summary.copies_checked
    assert sum(d.failures for d in report.series) == report.summary.failures
    assert report.timezone == "UTC" and report.since == SINCE and report.until == UNTIL


def test_series_counts_the_archives_days(sessions: sessionmaker[Session]) -> None:
    """Run 1 started 18:00 UTC on 2 March: 01:00 on 3 March in Hồ Chí Minh City."""
    seed(sessions)
    report = build(sessions, tz=ZoneInfo("Asia/Ho_Chi_Minh"))
    busy = {
        d.day.day: (d.copies_checked, d.failures) for d in report.series if d.copies_checked or d.failures
    }
    assert busy == {3: (2, 1), 5: (4, 3)}
    assert len(report.series) == 10 and report.timezone == "Asia/Ho_Chi_Minh"


def test_objects_checked_counts_checks_that_read_the_object(sessions: sessionmaker[Session]) -> None:
    """An audit's or a verify's event counts (even when the copy was checked again since); an
    ingest's does not, nor a check that could not reach the copy (as workflows/custody/audit.py
    records it)."""
    with sessions.begin() as s:
        s.add_all([_aip(aip, aip[5:9], AipStatus.STORED, 1) for aip in (A, B, C, D)])
        s.add(_ingest_job("j"))
        s.flush()
        s.add_all(
            [
                _fixity_event(A, at(3, 4)),
                _fixity_event(B, at(3, 4), job_id="j"),
                _fixity_event(C, at(3, 4), outcome="warning", note="could not check: location offline"),
                _fixity_event(D, at(3, 4), outcome="failure", note="could not check: timeout"),
            ]
        )
    assert build(sessions).summary.objects_checked == 1


def test_empty_catalog(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    report = build(sessions)
    assert report.summary.holdings_pct_within_cycle is None and report.summary.failures == 0
    assert len(report.series) == 10 and not any(d.copies_checked for d in report.series)
    for fmt in ("html", "csv", "json"):
        render(report, fmt, tmp_path / f"r.{fmt}", language="vi")
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["digest"] == report.digest


def test_digest_is_stable_and_changes_with_any_figure(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    seed(sessions)
    report = build(sessions)
    assert report.digest.startswith("sha256:") and len(report.digest) == 7 + 64
    assert build(sessions).digest == report.digest == report_digest(report)
    # a reader holding only the JSON export can recompute it
    assert document_digest(json.loads(render_json(report))) == report.digest
    out = tmp_path / "out"
    out.mkdir()
    render(report, "html", out / "one.html", language="vi")
    render(report, "html", out / "two.html", language="vi")
    assert (out / "one.html").read_bytes() == (out / "two.html").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["one.html", "two.html"]  # no temp files left

    changed = replace(report, summary=replace(report.summary, copies_checked=7))
    assert report_digest(changed) != report.digest
    with pytest.raises(ValueError, match="digest"):
        render(changed, "json", out / "stale.json", language="vi")
    assert not (out / "stale.json").exists()

    with sessions.begin() as s:
        s.execute(update(AuditRun).where(AuditRun.id == "run-2").values(bytes_checked=7001))
    rebuilt = build(sessions)
    assert rebuilt.summary.bytes_checked == 10001 and rebuilt.digest != report.digest


def read_csv(path: Path) -> dict[str, list[list[str]]]:
    """Sections of the CSV export: ``[name]`` row, header row, data rows, empty row."""
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads Vietnamese as UTF-8
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) == 1 and row[0].startswith("["):
                current = sections.setdefault(row[0].strip("[]"), [])
            elif row:
                current.append(row)
    return sections


def as_records(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def dump_dom(page: Path) -> Any:
    """The DOM after Chromium loaded the page (no script runs: the figures are in the markup)."""
    assert CHROMIUM is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    profile = f"--user-data-dir={page.parent / 'chromium-profile'}"
    done = subprocess.run(
        [CHROMIUM, *flags, profile, "--dump-dom", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    return lxml_html.document_fromstring(done.stdout.decode("utf-8"))


def table_records(dom: Any, name: str) -> list[dict[str, str]]:
    rows = dom.xpath(f"//table[@data-table='{name}']/tbody/tr")
    return [
        {td.get("data-field"): td.get("data-value", td.text_content()) for td in tr.xpath("./td")}
        for tr in rows
    ]


@needs_chromium
def test_html_in_chromium_agrees_with_csv_and_json(report: FixityReport, tmp_path: Path) -> None:
    render(report, "html", tmp_path / "report.html", language="vi")
    render(report, "csv", tmp_path / "report.csv", language="vi")
    render(report, "json", tmp_path / "report.json", language="vi")
    dom = dump_dom(tmp_path / "report.html")

    # the period is shown as local days and times; data-value keeps the value the files have
    marked = dom.xpath("//span[@data-figure]|//p[@data-figure]")
    figures = {el.get("data-figure"): el.get("data-value") or el.text_content() for el in marked}
    expected = {name: raw(value) for name, value in report.figures().items()}
    assert figures == expected
    shown = {el.get("data-figure"): el.text_content() for el in marked}
    assert (shown["since"], shown["until"], shown["generated_at"]) == (
        "2026-03-01",
        "2026-03-10 12:00",
        "2026-03-10 12:00",
    )
    assert figures["copies_checked"] == "6" and figures["bytes_checked"] == "10000"
    assert figures["objects_checked"] == "3" and figures["holdings_pct_within_cycle"] == "80.0"
    assert figures["failures"] == "4" and figures["open_incidents"] == "1"
    assert figures["digest"] == report.digest
    assert len(dom.xpath("//*[@data-figure='digest']")) == 2  # at the top and at the foot of the page

    # the plot: one bar and one failure dot per day, with the series' values
    (svg,) = dom.xpath("//svg[@data-figure='plot']")
    bars = {r.get("data-day"): int(r.get("data-copies-checked")) for r in svg.xpath(".//rect[@data-day]")}
    dots = {c.get("data-day"): int(c.get("data-failures")) for c in svg.xpath(".//circle[@data-day]")}
    assert bars == {d.day.isoformat(): d.copies_checked for d in report.series}
    assert dots == {d.day.isoformat(): d.failures for d in report.series}
    assert float(svg.xpath(".//rect[@data-day='2026-03-05']")[0].get("height")) > 0
    # self-contained: no script, no external resource
    assert not dom.xpath("//script") and not dom.xpath("//*[@src]|//link|//*[@href]")

    sections = read_csv(tmp_path / "report.csv")
    csv_figures = {row[0]: row[1] for row in sections["summary"][1:]}
    assert sections["summary"][0] == ["figure", "value", "label"]
    assert csv_figures == figures
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    json_figures = {k: raw(data[k]) for k in ("archive_name", "generated_at", "since", "until", "cycle_days")}
    json_figures |= {k: raw(v) for k, v in data["summary"].items()} | {"timezone": data["timezone"]}
    assert json_figures | {"digest": data["digest"]} == figures
    assert document_digest(data) == data["digest"] == report.digest

    html_failures = table_records(dom, "failures")
    json_failures = [{k: raw(v) for k, v in row.items()} for row in data["failures"]]
    assert html_failures == as_records(sections["failures"]) == json_failures
    assert [(f["kind"], f["repair"]) for f in html_failures] == [
        ("corrupt", "repaired"),
        ("missing", "repaired"),
        ("unexpected", "moved aside"),
        ("corrupt", "no good copy"),
    ]
    json_incidents = [{k: raw(v) for k, v in row.items()} for row in data["open_incidents"]]
    assert table_records(dom, "open_incidents") == as_records(sections["open_incidents"]) == json_incidents
    assert table_records(dom, "copies") == as_records(sections["copies"])
    assert len(as_records(sections["copies"])) == 6
    assert [r["day"] for r in table_records(dom, "series")] == ["2026-03-02", "2026-03-05"]
    assert [(r["copies_checked"], r["failures"]) for r in as_records(sections["series"])][4] == ("4", "3")


def test_labels_vietnamese_first_english_second(
    report: FixityReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a Vietnamese text in the catalog, the page shows it and the English after it."""
    real = i18n._catalog

    def catalog(language: str) -> dict[str, str]:
        if language != "vi":
            return real(language)
        return real(language) | {
            "report.section.failures": "Lỗi phát hiện và cách khắc phục",
            "report.figure.failures": "Số lỗi",
        }

    monkeypatch.setattr(i18n, "_catalog", catalog)
    vi = lxml_html.document_fromstring(render_html(report, language="vi"))
    (heading,) = [h for h in vi.xpath("//h2") if h.text == "Lỗi phát hiện và cách khắc phục"]
    assert heading.xpath("./span[@class='en']/text()") == ["Failures and their repair"]
    assert vi.get("lang") == "vi"
    en = lxml_html.document_fromstring(render_html(report, language="en"))
    assert [h.text for h in en.xpath("//h2")][2] == "Failures and their repair"
    assert not en.xpath("//span[@class='en']")
    rows = list(csv.reader(render_csv(report, language="vi").splitlines()))
    assert ["failures", "4", "Số lỗi"] in rows


@needs_chromium
def test_pdf(report: FixityReport, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    render(report, "pdf", out, language="vi")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) >= 1


def test_pdf_without_chromium_names_what_is_missing(report: FixityReport, tmp_path: Path) -> None:
    with pytest.raises(ChromiumNotFound) as info:
        render(report, "pdf", tmp_path / "r.pdf", language="vi", chromium="no-such-chromium-kholuu")
    assert info.value.code == "report.chromium_missing"
    assert "no-such-chromium-kholuu" in str(info.value) and "apt-get install chromium" in str(info.value)
    assert not (tmp_path / "r.pdf").exists()


def test_report_of_real_audits(home: Path, database_url: str, tmp_path: Path) -> None:
    """End to end with workflows/custody/audit.py: ingest, a clean audit, a flipped byte and a stray file
    in the second copy, a second audit that repairs them; the report counts exactly that."""
    locations = (
        f'[[storage.locations]]\nname = "{name}"\nrole = "{role}"\nbackend = "local"\n'
        f'path = "storage/{name}"\n'
        for name, role in (("primary", "primary"), ("second", "replica"))
    )
    write_home_config(home, "".join(locations))
    settings = load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})
    engine = make_engine(database_url)
    upgrade(engine)
    open_locations(settings, initialize=True)
    sessions = session_factory(engine)
    try:
        aip_id = ingest(settings, sessions, SAMPLES / "sip-folder-quyet-dinh").aip_id
        assert aip_id is not None
        first = run_audit(settings, sessions, AuditOptions(mode="all", now=at(3, 2)))
        second = open_locations(settings)[1]
        state = second.store.version_state(aip_id, 1)
        flipped = sorted(p for p in state if p.startswith("representations/rep1/data/"))[0]
        key = join_key(ROOT_PREFIX, second.store.object_path(aip_id), state[flipped])
        with second.backend.open_read(key) as fh:
            data = bytearray(fh.read())
        data[len(data) // 2] ^= 0x01
        second.backend.write_atomic(key, io.BytesIO(bytes(data)))
        stray = join_key(ROOT_PREFIX, second.store.object_path(aip_id), "v1/content/stray.txt")
        second.backend.write_atomic(stray, io.BytesIO(b"not part of the AIP"))
        again = run_audit(settings, sessions, AuditOptions(mode="all", now=at(3, 5)))

        report = build(sessions)
        s = report.summary
        assert (s.runs, s.copies_checked, s.objects_checked, s.could_not_check) == (2, 4, 1, 0)
        copies = [*first.copies, *again.copies]
        assert s.files_checked == sum(c.files for c in copies) and s.files_checked > 0
        assert s.bytes_checked == sum(c.bytes for c in copies) and s.bytes_checked > 0
        assert (s.holdings_objects, s.holdings_copies, s.copies_within_cycle) == (1, 2, 2)
        assert (s.holdings_pct_within_cycle, s.objects_pct_within_cycle) == (100.0, 100.0)
        assert sorted((f.location, f.kind, f.repair, f.repaired_from) for f in report.failures) == [
            ("second", "corrupt", "repaired", "primary"),
            ("second", "unexpected", "moved aside", None),
        ]
        assert (s.failures, s.failures_repaired, s.failures_moved_aside, s.open_incidents) == (2, 1, 1, 0)
        busy = {d.day.day: (d.copies_checked, d.failures) for d in report.series if d.copies_checked}
        assert busy == {2: (2, 0), 5: (2, 2)}
        render(report, "csv", tmp_path / "r.csv", language="vi")
        assert len(as_records(read_csv(tmp_path / "r.csv")["failures"])) == 2
    finally:
        engine.dispose()
