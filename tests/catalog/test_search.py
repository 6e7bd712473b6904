"""``repository.catalog.search`` on SQLite (FTS5) and PostgreSQL (GIN over tsvector): Vietnamese
folding, quoted phrases, whole words, paging, record titles and what the public may see."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from preservation.planning.text import ExtractedText, TextMethod
from repository.catalog import records_store as store
from repository.catalog.file_text import add_texts
from repository.catalog.search import EVERYTHING, parse_query, search
from tests.catalog.test_records import DECISION_FILE, PHOTO_FILE, add_aip, make_record_set, register
from workflows.access.public import PUBLIC

TEXTS = {
    DECISION_FILE: "QUYẾT ĐỊNH\nvề việc thành lập Ủy ban nhân dân thành phố Đà Nẵng\nnăm 1997",
    PHOTO_FILE: "Quyet dinh (khong dau) ve DONG bang song Cuu Long",
}


def _texts(uuids: dict[tuple[str, str], str]) -> dict[str, ExtractedText]:
    return {
        uuids[("rep1", name)]: ExtractedText(
            body, TextMethod.OCR, "vie", confidence=91.5, pages=1, pages_ocr=1
        )
        for name, body in TEXTS.items()
    }


@pytest.fixture
def holdings(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """One AIP without description holding both texts."""
    with sessions.begin() as s:
        aip_id, uuids = add_aip(s)
        assert add_texts(s, aip_id, 1, _texts(uuids), datetime.now(UTC)) == 2
    return sessions


def found(sessions: sessionmaker[Session], query: str, **kw: object) -> list[str]:
    with sessions() as s:
        page = search(s, query, **kw)  # type: ignore[arg-type]
        return [h.path for h in page.hits]


def test_the_full_text_index_of_each_backend_is_used(holdings: sessionmaker[Session]) -> None:
    with holdings() as s:
        engine = search(s, "nang").engine
        assert engine == ("postgresql" if s.get_bind().dialect.name == "postgresql" else "fts5")


def test_words_ignore_diacritics_case_and_d(holdings: sessionmaker[Session]) -> None:
    assert found(holdings, "da nang") == [DECISION_FILE]
    assert found(holdings, "ĐÀ NẴNG") == [DECISION_FILE]
    assert found(holdings, "dong") == [PHOTO_FILE]
    assert found(holdings, "ĐỒNG bằng") == [PHOTO_FILE]
    assert sorted(found(holdings, "quyet dinh")) == sorted([DECISION_FILE, PHOTO_FILE])
    assert found(holdings, "quyet nang") == [DECISION_FILE]  # every word, anywhere in the file
    assert found(holdings, "dinhs") == []  # whole words


def test_a_quoted_phrase_keeps_its_diacritics_and_order(holdings: sessionmaker[Session]) -> None:
    assert found(holdings, '"Quyết định"') == [DECISION_FILE]  # case aside: "QUYẾT ĐỊNH"
    assert found(holdings, '"Quyet dinh"') == [PHOTO_FILE]
    assert found(holdings, '"định quyết"') == []
    assert found(holdings, '"thành lập ủy ban" 1997') == [DECISION_FILE]
    assert found(holdings, '"thành lập ủy ban" 1998') == []


def test_paging_and_snippets(holdings: sessionmaker[Session]) -> None:
    with holdings() as s:
        first = search(s, "quyet", limit=1)
        second = search(s, "quyet", limit=1, offset=1)
    assert first.more and not second.more
    assert {first.hits[0].path, second.hits[0].path} == {DECISION_FILE, PHOTO_FILE}
    with holdings() as s:
        hit = search(s, "da nang").hits[0]
    assert "Đà Nẵng" in hit.snippet and hit.confidence == 91.5 and hit.method == "ocr"


def test_query_parsing() -> None:
    q = parse_query('"Ủy  ban" nhan dan "chưa đóng')
    assert q.words == ("nhan", "dan")
    assert q.phrases == ("ủy ban", "chưa đóng")  # an unclosed quote runs to the end
    assert q.phrase_words == (("uy", "ban"), ("chua", "dong"))


def test_records_are_found_by_title_and_public_search_hides_what_is_restricted(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        public = register(s)  # its decision (document 3) is public: mode 01
        public_files = {d.doc_code: d.files[0].file_uuid for d in public.documents}
        closed = register(s, make_record_set("H49.64.33.2003.9", doc_mode="03", title="Hồ sơ xây dựng kho"))
        for dossier in (public, closed):
            uuids = {
                ("rep1", name): f.file_uuid for d in dossier.documents for f in d.files for name in [f.path]
            }
            add_texts(s, dossier.aip_id, 1, _texts(uuids), datetime.now(UTC))
        store.restrict(
            s,
            document_id=public.documents[1].id,  # the photo of the public dossier
            decision_number="12/QĐ-LTLS",
            decision_date=date(2025, 1, 10),
            reason="Ảnh có thông tin cá nhân",
            by="lưu trữ viên",
        )
        public_aip, closed_aip = public.aip_id, closed.aip_id
    with sessions() as s:
        titles = search(s, "phe duyet du an")
        assert [(h.kind, h.aip_id) for h in titles.hits] == [
            ("document", public_aip),
            ("document", closed_aip),
        ]
        everything = search(s, "quyet dinh", visible=EVERYTHING)
        assert len([h for h in everything.hits if h.kind == "file"]) == 4
        assert {h.title for h in everything.hits if h.path == DECISION_FILE} == {
            "Quyết định phê duyệt dự án đầu tư xây dựng trụ sở"
        }
        shown = search(s, "quyet dinh", visible=PUBLIC)
        # the second dossier's decision is classified (mode 03) and the first one's photo is
        # restricted: neither is shown; the public decision and the public photo are
        assert sorted((h.aip_id, h.path) for h in shown.hits if h.kind == "file") == sorted(
            [(public_aip, DECISION_FILE), (closed_aip, PHOTO_FILE)]
        )
        assert public_files  # the registered documents carry their files


def test_the_index_follows_deletes(holdings: sessionmaker[Session]) -> None:
    with holdings.begin() as s:
        s.execute(text("DELETE FROM aip"))
    assert found(holdings, "da nang") == []
