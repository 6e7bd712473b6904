"""Holdings for the public catalog tests: open records and closed ones, each closed one carrying a
distinctive word in its title and in its file text, so a leak test can look for the words in every
public response.

Closed, five ways: a hồ sơ of mức độ tiếp cận 02, one of 03, one on the restriction list, a tài
liệu of mode 03 inside an open hồ sơ, a tài liệu on the restriction list inside an open hồ sơ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session, sessionmaker

from preservation.planning.text import ExtractedText, TextMethod
from preservation.tt05.model import RecordSet
from repository.catalog import records_store as store
from repository.catalog.file_text import add_texts
from repository.catalog.records import Dossier
from tests.catalog.test_records import DECISION_FILE, PHOTO_FILE, make_record_set, register

OPEN_CODE = "H49.64.33.2001.160"
OPEN_TEXT = "QUYẾT ĐỊNH\nvề việc thành lập Ủy ban nhân dân thành phố Đà Nẵng\nnăm 1997"
#: word in title → word in file text, for each closed record (lower case, no diacritics)
SECRET_WORDS = {
    "mode02": ("zircontitle", "zircontext"),
    "mode03": ("xenontitle", "xenontext"),
    "listed": ("kryptontitle", "kryptontext"),
    "doc03": ("argontitle", "argontext"),
    "doclisted": ("radontitle", "radontext"),
}
#: codes of the closed hồ sơ (the two closed documents sit in open hồ sơ)
CLOSED_CODES = ("H49.64.33.2002.1", "H49.64.33.2002.2", "H49.64.33.2002.3")


@dataclass(frozen=True)
class Seeded:
    open_codes: tuple[str, ...]
    open_document: str  # mã tài liệu of the public decision


def _with_titles(
    records: RecordSet, doc_title: str | None = None, photo_title: str | None = None
) -> RecordSet:
    docs = list(records.documents)
    for i, title, key in ((0, doc_title, "subject"), (1, photo_title, "imageTitle")):
        if title is not None:
            values = dict(docs[i].description.values)
            values[key] = title
            docs[i] = replace(docs[i], description=replace(docs[i].description, values=values))
    return replace(records, documents=tuple(docs))


def _texts(session: Session, dossier: Dossier, decision: str, photo: str) -> None:
    uuids = {f.path: f.file_uuid for d in dossier.documents for f in d.files}
    texts = {
        uuids[DECISION_FILE]: ExtractedText(decision, TextMethod.TEXT_LAYER, "vie", pages=1),
        uuids[PHOTO_FILE]: ExtractedText(photo, TextMethod.OCR, "vie", confidence=90.0, pages=1, pages_ocr=1),
    }
    add_texts(session, dossier.aip_id, 1, texts, datetime.now(UTC))


def _restrict(session: Session, *, dossier_id: int | None = None, document_id: int | None = None) -> None:
    store.restrict(
        session,
        dossier_id=dossier_id,
        document_id=document_id,
        decision_number="12/QĐ-LTLS",
        decision_date=date(2025, 1, 10),
        reason="Thông tin cá nhân",
        by="lưu trữ viên",
    )


def seed(sessions: sessionmaker[Session], *, extra_open: int = 0) -> Seeded:
    """Two open hồ sơ (one holds a closed document of each kind), three closed hồ sơ, and
    ``extra_open`` more open hồ sơ (for paging)."""
    with sessions.begin() as s:
        store.add_fonds(s, "AG01", "Phông UBND tỉnh An Giang")
        store.add_agency(s, "H49.64.33", "Ủy ban nhân dân tỉnh An Giang", fonds_code="AG01")
        first = register(s, make_record_set(OPEN_CODE))
        _texts(s, first, OPEN_TEXT, "Lễ khởi công đường vào trụ sở")
        second = register(
            s,
            _with_titles(
                make_record_set("H49.64.33.2003.5", title="Hồ sơ hội nghị tổng kết năm 2003", doc_mode="03"),
                doc_title=f"Báo cáo {SECRET_WORDS['doc03'][0]}",
                photo_title=f"Ảnh {SECRET_WORDS['doclisted'][0]}",
            ),
        )
        _texts(s, second, f"Báo cáo {SECRET_WORDS['doc03'][1]}", f"Ảnh {SECRET_WORDS['doclisted'][1]}")
        _restrict(s, document_id=second.documents[1].id)
        for key, code, mode in (
            ("mode02", CLOSED_CODES[0], "02"),
            ("mode03", CLOSED_CODES[1], "03"),
            ("listed", CLOSED_CODES[2], "01"),
        ):
            title, text = SECRET_WORDS[key]
            closed = register(
                s,
                _with_titles(
                    make_record_set(code, title=f"Hồ sơ {title}", dossier_mode=mode),
                    doc_title=f"Quyết định {title}",
                    photo_title=f"Ảnh {title}",
                ),
            )
            _texts(s, closed, f"Quyết định {text}", f"Ảnh {text}")
            if key == "listed":
                _restrict(s, dossier_id=closed.id)
        extra = [register(s, make_record_set(f"H49.64.33.2010.{n}")).code for n in range(1, extra_open + 1)]
        decision = first.documents[0].doc_code
    return Seeded((OPEN_CODE, "H49.64.33.2003.5", *extra), decision)


def secret_words() -> list[str]:
    return [w for pair in SECRET_WORDS.values() for w in pair]


__all__ = ["CLOSED_CODES", "OPEN_CODE", "SECRET_WORDS", "Seeded", "secret_words", "seed"]
