"""The biên bản giao nhận of an accepted transfer: printed by real headless Chromium, its SHA-256 kept on
the transfer and stated in the HTML, and the PDF's own text (read back through the fonts' ToUnicode
maps) carrying the dossier codes and Vietnamese titles. Catalog on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.reports.errors import ChromiumNotFound
from entrypoints.reports.handover import ChromiumPrinter, render_html
from repository.catalog.records import Transfer
from repository.catalog.records_store import add_agency
from repository.settings import Settings
from tests.workflows.test_transfers import at, make_aip, make_dossier
from workflows.records import handover as ho
from workflows.records import transfer_lists as tl
from workflows.records import transfers as tr
from workflows.records.handover import Handover, HandoverDossier

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)"
)

ORGAN = "H49.64.33"
DOSSIERS = {
    "H49.64.33.2021.01.TH": "Hồ sơ về việc xây dựng cầu Long Xuyên",
    "H49.64.33.2021.02.TH": "Tập quyết định của Ủy ban nhân dân tỉnh An Giang năm 2021",
}


@pytest.fixture
def accepted(settings: Settings, sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as s:
        add_agency(s, ORGAN, "Ủy ban nhân dân huyện Châu Thành")
        aip = make_aip(s, "uuid-hand0001")
        for n, (code, title) in enumerate(DOSSIERS.items(), start=1):
            make_dossier(s, aip.id, code, title=title, organ_id=ORGAN, end_on=date(2021, 12, n),
                         received=at(2025, 3, 3), transfer=True, number_of_page=10 * n,
                         documents=[{"number_of_page": 5} for _ in range(n + 1)])  # fmt: skip
        t = tr.receive(
            s, settings, organ_id=ORGAN, package_name="SIP.zip", received_at=at(2025, 3, 3), by="Trần Thị Thu"
        )
        tr.link_ingest(s, t.id, None, aip.id)
        tr.decide(s, settings, t.id, accept=True, by="Phạm Văn Quyết", at=at(2025, 3, 20, 14))
        return t.id


def test_handover_data(settings: Settings, sessions: sessionmaker[Session], accepted: str) -> None:
    with sessions() as s:
        data = ho.handover_data(s, settings, accepted)
    assert data.archive_name == "Trung tâm Lưu trữ lịch sử tỉnh An Giang"
    assert (data.organ_id, data.agency_name) == (ORGAN, "Ủy ban nhân dân huyện Châu Thành")
    assert (data.received_by, data.decided_by) == ("Trần Thị Thu", "Phạm Văn Quyết")
    assert [(d.code, d.title, d.documents, d.pages, d.end_date) for d in data.dossiers] == [
        ("H49.64.33.2021.01.TH", DOSSIERS["H49.64.33.2021.01.TH"], 2, 10, "01/12/2021"),
        ("H49.64.33.2021.02.TH", DOSSIERS["H49.64.33.2021.02.TH"], 3, 20, "02/12/2021"),
    ]


@needs_chromium
def test_handover_pdf(
    settings: Settings, sessions: sessionmaker[Session], accepted: str, tmp_path: Path
) -> None:
    out, page = tmp_path / "bien-ban.pdf", tmp_path / "bien-ban.html"
    with sessions.begin() as s:
        issued = ho.issue_handover(
            s,
            settings,
            accepted,
            out,
            printer=ChromiumPrinter(),
            html_out=page,
            by="Trần Thị Thu",
            at=at(2025, 3, 21),
        )
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert issued.sha256 == hashlib.sha256(pdf).hexdigest() and issued.previous_sha256 is None
    with sessions() as s:
        assert s.get_one(Transfer, accepted).handover_digest == issued.sha256

    text = squeeze(pdf_text(out))
    for code, title in DOSSIERS.items():
        assert squeeze(code) in text
        assert squeeze(title) in text
    for words in (
        "BIÊN BẢN GIAO NHẬN",
        "Vĩnh viễn",
        "Công khai",
        "Trần Thị Thu",
        "Phạm Văn Quyết",
        "20/03/2025",
    ):
        assert squeeze(words) in text, words

    doc = lxml_html.document_fromstring(page.read_text(encoding="utf-8"))
    assert doc.xpath("//*[@data-field='pdf_sha256']/text()") == [issued.sha256]
    rows: list[Any] = doc.xpath("//table[@data-table='dossiers']/tbody/tr")  # type: ignore[assignment]
    assert [r.get("data-row") for r in rows] == list(DOSSIERS)
    assert [r.xpath("./td[@data-field='title']/text()")[0] for r in rows] == list(DOSSIERS.values())
    assert doc.xpath("//td[@data-field='documents_total']/text()") == ["5"]
    assert doc.xpath("//td[@data-field='pages_total']/text()") == ["30"]

    with sessions.begin() as s:  # printed again: a new PDF, a new digest, the old one reported
        again = ho.issue_handover(
            s, settings, accepted, out, printer=ChromiumPrinter(), language="en", at=at(2025, 3, 22)
        )
    assert again.previous_sha256 == issued.sha256
    assert again.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    # both printed copies stay provable: every digest is kept, the latest is handover_digest
    with sessions() as s:
        row = s.get_one(Transfer, accepted)
        assert row.handover_digest == again.sha256
        history = tl.transfer_dict(row)["handover_prints"]
    assert history == [
        {
            "sha256": issued.sha256,
            "printed_at": "2025-03-21T03:00:00+00:00",
            "by": "Trần Thị Thu",
            "language": "vi",
        },
        {"sha256": again.sha256, "printed_at": "2025-03-22T03:00:00+00:00", "by": "", "language": "en"},
    ]
    assert [p["sha256"] for p in again.as_dict()["prints"]] == [issued.sha256, again.sha256]


def test_handover_without_chromium_changes_nothing(
    settings: Settings, sessions: sessionmaker[Session], accepted: str, tmp_path: Path
) -> None:
    with sessions.begin() as s, pytest.raises(ChromiumNotFound):
        missing = ChromiumPrinter(chromium="no-such-chromium-kholuu")
        ho.issue_handover(s, settings, accepted, tmp_path / "x.pdf", printer=missing)
    with sessions() as s:
        row = s.get_one(Transfer, accepted)
        assert (row.handover_digest, row.handover_prints) == ("", [])
    assert not (tmp_path / "x.pdf").exists()


def test_english_rendering_and_escaping() -> None:
    data = Handover(
        transfer_id="t-1",
        archive_name="Archive <&>",
        archive_id="A01",
        organ_id=ORGAN,
        agency_name="Agency",
        package_name="p.zip",
        plan_reference=None,
        received_at=at(2025, 1, 1),
        received_by="R",
        decided_at=at(2025, 1, 2),
        decided_by="D",
        aip_id="uuid-x",
        timezone="Asia/Ho_Chi_Minh",
        dossiers=(HandoverDossier("C1", "T <b>", "", "2021", "01", "02", 1, None),),
    )
    page = render_html(data, language="en")
    doc = lxml_html.document_fromstring(page)
    assert doc.xpath("//h1/text()") == ["HANDOVER RECORD OF DIGITAL ARCHIVAL RECORDS"]
    assert doc.xpath("//td[@data-field='title']/text()") == ["T <b>"]  # text, not markup
    assert doc.xpath("//td[@data-field='maintenance']/text()") == ["Permanent"]
    assert doc.xpath("//td[@data-field='mode']/text()") == ["Conditional access"]
    assert not doc.xpath("//*[@data-field='pdf_sha256']")
    assert "Archive &lt;&amp;&gt;" in page


# --------------------------------------------------------------------------- PDF text


def squeeze(text: str) -> str:
    """NFC without white space: line breaks and word spacing differ between HTML and PDF."""
    return "".join(unicodedata.normalize("NFC", text).split())


_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")


def _cmap(stream: pikepdf.Stream) -> dict[int, str]:
    """Glyph code → text from a ToUnicode CMap (bfchar and bfrange, as Chromium's Skia writes them)."""
    data = stream.read_bytes()
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        codes = _HEX.findall(block)
        for src, dst in zip(codes[::2], codes[1::2], strict=True):
            out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for line in block.strip().splitlines():
            parts = _HEX.findall(line)
            if len(parts) == 3 and b"[" not in line:
                lo, hi, dst = int(parts[0], 16), int(parts[1], 16), bytes.fromhex(parts[2].decode())
                first = dst.decode("utf-16-be")
                for offset in range(hi - lo + 1):
                    out[lo + offset] = first[:-1] + chr(ord(first[-1]) + offset)
            elif len(parts) > 3:
                lo = int(parts[0], 16)
                for offset, dst_hex in enumerate(parts[2:]):
                    out[lo + offset] = bytes.fromhex(dst_hex.decode()).decode("utf-16-be")
    return out


def pdf_text(path: Path) -> str:
    """The text of every page in content-stream order (two-byte codes: Identity-H Type0 fonts)."""
    pieces: list[str] = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            fonts: Any = page.Resources.get("/Font", {})
            maps = {name: _cmap(font.ToUnicode) for name, font in fonts.items() if "/ToUnicode" in font}
            current: dict[int, str] = {}
            instructions: Any = pikepdf.parse_content_stream(page)
            for operands, operator in instructions:
                op = str(operator)
                if op == "Tf":
                    current = maps.get(str(operands[0]), {})
                elif op in ("Tj", "TJ"):
                    items = operands[0] if op == "TJ" else [operands[0]]
                    for item in items:
                        if isinstance(item, pikepdf.String):
                            raw = bytes(item)
                            pieces.extend(
                                current.get(int.from_bytes(raw[i : i + 2], "big"), "")
                                for i in range(0, len(raw) - 1, 2)
                            )
                    pieces.append(" ")
    return "".join(pieces)
