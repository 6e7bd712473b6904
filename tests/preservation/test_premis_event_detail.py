"""Issue 11 item 16: an event's language-neutral detail (code and values) is in the AIP's PREMIS.

It sits in ``eventDetailExtension`` in our own namespace, so the document stays valid PREMIS 3 and
the English ``eventDetail`` stays for readers of the XML; ``premis_read`` gives both back, so a
catalog rebuilt from storage shows the event in Vietnamese again.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree

from preservation import xsd
from preservation.events import Agent, Event, EventType, Outcome
from preservation.premis import EXT_NS, PremisDocument, PremisIntellectualEntity, premis_document
from preservation.premis_read import read_premis

AIP_ID = "uuid-6f1c2d3e-0000-4000-8000-000000000001"
AGENT = Agent("kholuu", "1.0")


def _document(*events: Event) -> bytes:
    entity = PremisIntellectualEntity(AIP_ID, "Hồ sơ số 12")  # PREMIS needs an object first
    doc = PremisDocument(entity, [], [], list(events), [AGENT], ZoneInfo("Asia/Ho_Chi_Minh"))
    tree = premis_document(doc)
    assert xsd.validate(tree, "premis") == []
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def test_code_and_params_are_written_valid_and_read_back() -> None:
    coded = Event(
        EventType.FIXITY_CHECK,
        Outcome.SUCCESS,
        "Every file of the copy in storage location 'primary' streamed and hashed",
        (AGENT,),
        (AIP_ID,),
        datetime=datetime(2026, 12, 7, 9, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),  # PREMIS keeps ms
        detail_code="audit.fixity_passed",
        detail_params={"location": "kho “chính” <1>", "files": 21, "bytes": 305598},
    )
    data = _document(coded)

    root = etree.fromstring(data)
    (ext,) = root.iterfind(f".//{{{EXT_NS}}}detail")
    assert ext.get("code") == "audit.fixity_passed"
    assert {p.get("name"): p.text for p in ext} == {
        "bytes": "305598",
        "files": "21",
        "location": "kho “chính” <1>",
    }
    (back,) = read_premis(data, "PREMIS.xml").to_events()
    assert back == coded  # the values are kept as text, so nothing changes on the way
    assert back.detail == coded.detail


def test_an_event_without_a_code_has_no_extension_and_reads_back_empty() -> None:
    plain = Event(EventType.ACCESSION, Outcome.SUCCESS, "AIP registered in the catalog", (AGENT,), (AIP_ID,))
    data = _document(plain)
    assert EXT_NS.encode() not in data
    (back,) = read_premis(data, "PREMIS.xml").to_events()
    assert (back.detail_code, dict(back.detail_params), back.detail) == ("", {}, plain.detail)
