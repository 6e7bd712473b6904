"""The public catalog as a reader and a harvester meet it (both catalogs): search with and without
diacritics, facets, record pages and their linked data, the sitemap, OAI-PMH harvested by sickle
through a real ``kholuu serve``, the search page in headless Chromium; and the leak test: the words
of closed records appear in no public response."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS
from sickle import Sickle
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from entrypoints.web.public import PUBLIC_ENDPOINTS
from preservation.events import EventType
from preservation.names import fold
from preservation.oai_pmh import validate_response
from preservation.tt05.xsdgen import OAI_SCHEMA
from repository.catalog.models import Event
from repository.catalog.records import Dossier
from repository.catalog.records_store import restrict
from repository.settings import Settings
from tests.conftest import cli_env
from tests.public_seed import CLOSED_CODES, OPEN_CODE, Seeded, secret_words, seed
from tests.web.test_web import serving

SCHEMA = Namespace("https://schema.org/")
PREMIS = Namespace("http://www.loc.gov/premis/rdf/v3/")
OAI = "{http://www.openarchives.org/OAI/2.0/}"
DECISION_TITLE = "Quyết định phê duyệt dự án đầu tư xây dựng trụ sở"


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> Seeded:
    found = seed(sessions)
    with sessions.begin() as s:  # one ingest event on the open dossier's AIP
        aip_id = s.query(Dossier.aip_id).filter(Dossier.code == OPEN_CODE).scalar()
        s.add(
            Event(
                identifier=str(uuid.uuid4()),
                type="ingestion end",
                datetime=datetime(2025, 3, 2, 2, 0, tzinfo=UTC),
                outcome="success",
                detail="",
                aip_id=aip_id,
            )
        )
    return found


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session], seeded: Seeded) -> Flask:
    return create_app(settings, sessions)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_search_page_and_api_ignore_diacritics_and_show_facets(client: FlaskClient) -> None:
    page = client.get("/search?q=quyet+dinh")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert DECISION_TITLE in html and 'data-total="1"' in html
    assert 'data-facet="fonds"' in html and "Phông UBND tỉnh An Giang" in html
    api = client.get("/api/v1/search?q=" + quote('"Quyết định phê duyệt"')).get_json()
    assert api["total"] == 1 and api["hits"][0]["title"] == DECISION_TITLE
    assert api["hits"][0]["url"] == f"/records/{OPEN_CODE}/{OPEN_CODE}.0000003"
    assert client.get("/api/v1/search?q=" + quote('"Quyet dinh phe duyet"')).get_json()["total"] == 0
    browse = client.get("/api/v1/search?type=dossier").get_json()
    assert browse["total"] == 2 and {f["value"] for f in browse["facets"]["type"]} == {"dossier"}
    assert client.get("/search?type=nothing").status_code == 400
    assert client.get("/api/v1/search?page=0").status_code == 400
    assert client.get("/search?lang=en").status_code == 200


def test_record_pages_embed_json_ld_and_export_turtle(client: FlaskClient) -> None:
    page = client.get(f"/records/{OPEN_CODE}")
    assert page.status_code == 200
    tree = etree.HTML(page.get_data())
    (script,) = tree.xpath('//script[@type="application/ld+json"]')
    embedded = Graph().parse(data=script.text, format="json-ld")
    record = URIRef(f"http://localhost/records/{OPEN_CODE}")
    assert (record, RDF.type, SCHEMA.ArchiveComponent) in embedded
    (archive,) = embedded.objects(record, SCHEMA.holdingArchive)
    assert (archive, RDF.type, SCHEMA.ArchiveOrganization) in embedded
    assert len(list(embedded.objects(record, DCTERMS.hasPart))) == 2
    turtle = Graph().parse(
        data=client.get(f"/api/v1/records/{OPEN_CODE}.ttl").get_data(as_text=True), format="turtle"
    )
    assert isomorphic(turtle, embedded)  # the same graph, blank nodes aside
    (event,) = turtle.objects(record, PREMIS.hasEvent)
    assert (event, RDF.type, PREMIS.Event) in turtle
    assert turtle.value(event, DCTERMS.type) == URIRef(EventType.INGESTION_END.uri)
    document = client.get(f"/api/v1/records/{OPEN_CODE}/{OPEN_CODE}.0000003.jsonld")
    assert document.mimetype == "application/ld+json"
    graph = Graph().parse(data=document.get_data(as_text=True), format="json-ld")
    doc_node = URIRef(f"http://localhost/records/{OPEN_CODE}/{OPEN_CODE}.0000003")
    assert str(graph.value(doc_node, DCTERMS.title)) == DECISION_TITLE
    assert graph.value(doc_node, DCTERMS.isPartOf) == record
    photo = client.get(f"/records/{OPEN_CODE}/{quote('#2')}")
    assert photo.status_code == 200 and "Lễ khởi công" in photo.get_data(as_text=True)


def _responses(client: FlaskClient, seeded: Seeded) -> Iterator[tuple[str, bytes]]:
    """Every public surface, asked about open and closed records alike."""
    paths = ["/search", "/search?lang=en", "/api/v1/search", "/api/v1/search?type=pic", "/sitemap.xml"]
    paths += ["/search?q=" + quote(code) for code in CLOSED_CODES]
    for code in (*seeded.open_codes, *CLOSED_CODES):
        paths += [f"/records/{code}", f"/api/v1/records/{code}.jsonld", f"/api/v1/records/{code}.ttl"]
        paths += [f"/records/{code}/{code}.0000003", f"/records/{code}/%231", f"/records/{code}/%232"]
        paths += [f"/api/v1/records/{code}/%232.jsonld", f"/api/v1/records/{code}/{code}.0000003.ttl"]
    paths += [f"/records/{OPEN_CODE}/{OPEN_CODE}.0000003", f"/api/v1/records/{OPEN_CODE}/{quote('#2')}.ttl"]
    for verb in ("Identify", "ListSets", "ListMetadataFormats"):
        paths.append(f"/oai?verb={verb}")
    for prefix in ("oai_dc", "tt05_ead"):
        paths += [
            f"/oai?verb=ListRecords&metadataPrefix={prefix}",
            f"/oai?verb=ListIdentifiers&metadataPrefix={prefix}",
        ]
        for code in (*seeded.open_codes, *CLOSED_CODES):
            paths.append(f"/oai?verb=GetRecord&metadataPrefix={prefix}&identifier=oai:kholuu:{code}")
    for path in paths:
        response = client.get(path)
        yield path, response.get_data()
    sitemap = client.get("/sitemap-1.xml").get_data()
    yield "/sitemap-1.xml", sitemap


def test_closed_records_leak_through_no_public_response(client: FlaskClient, seeded: Seeded) -> None:
    words = secret_words()
    checked = 0
    for path, body in _responses(client, seeded):
        text = fold(body.decode("utf-8"))
        leaked = [w for w in words if w in text]
        assert not leaked, f"{path} shows {leaked}"
        checked += 1
    assert checked > 60
    for word in words:  # searching for them finds nothing, and says nothing else
        api = client.get(f"/api/v1/search?q={word}").get_json()
        assert api["total"] == 0 and api["hits"] == [] and all(v == [] for v in api["facets"].values())
    for code in CLOSED_CODES:  # a closed record is "not found", like one that never existed
        closed, missing = client.get(f"/records/{code}"), client.get("/records/H49.99.99.9999.9")
        assert closed.status_code == missing.status_code == 404
        assert closed.get_data().replace(code.encode(), b"X") == missing.get_data().replace(
            b"H49.99.99.9999.9", b"X"
        )
    sitemap = client.get("/sitemap-1.xml").get_data(as_text=True)
    assert sitemap.count("<url>") == 2 + 2  # two open hồ sơ, the two public tài liệu of the first


def test_a_record_restricted_after_it_was_public_leaves_search_counts_and_facets_at_once(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    """The public search reads the public records the database keeps (``public_record``): a
    restriction committed a moment ago is already out of the hits, totals and facets."""
    assert client.get("/api/v1/search?q=").get_json()["total"] == 4
    with sessions.begin() as s:
        dossier = s.scalars(select(Dossier).where(Dossier.code == OPEN_CODE)).one()
        titles = [fold(dossier.title), *(fold(d.title) for d in dossier.documents)]
        restrict(s, dossier_id=dossier.id, decision_number="14/QĐ", decision_date=date(2026, 1, 5),
                 reason="Thông tin cá nhân", by="lưu trữ viên")  # fmt: skip
    api = client.get("/api/v1/search?q=").get_json()
    assert api["total"] == 1 and [f["count"] for f in api["facets"]["type"]] == [1]
    for path in ("/search?q=", "/search?q=an+giang", "/search?q=quyet+dinh", "/api/v1/search?q=quyet+dinh",
                 "/search?q=&type=doc", "/search?q=&year=2001"):  # fmt: skip
        body = fold(client.get(path).get_data(as_text=True))
        assert fold(OPEN_CODE) not in body and not [t for t in titles if t in body], path
    assert client.get(f"/api/v1/search?q={quote(OPEN_CODE)}").get_json()["total"] == 0


def test_oai_errors_and_sets(client: FlaskClient) -> None:
    def error(query: str) -> str:
        tree = etree.fromstring(client.get("/oai?" + query).get_data())
        (found,) = tree.findall(f"{OAI}error")
        return str(found.get("code"))

    assert error("verb=Nothing") == "badVerb"
    assert error("verb=ListRecords") == "badArgument"
    assert error("verb=ListRecords&metadataPrefix=marc") == "cannotDisseminateFormat"
    assert error("verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=x") == "badArgument"
    assert error("verb=ListRecords&resumptionToken=bm90IGEgdG9rZW4") == "badResumptionToken"
    assert (
        error("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:kholuu:" + CLOSED_CODES[0])
        == "idDoesNotExist"
    )
    assert error("verb=ListRecords&metadataPrefix=oai_dc&set=fonds:NONE") == "noRecordsMatch"
    assert error("verb=ListRecords&metadataPrefix=oai_dc&from=2030-01-01") == "noRecordsMatch"
    assert error("verb=ListRecords&metadataPrefix=oai_dc&from=2025-01-01&until=2024-01-01") == "badArgument"
    identify = etree.fromstring(client.get("/oai?verb=Identify").get_data())
    assert identify.findtext(f"{OAI}Identify/{OAI}deletedRecord") == "transient"
    sets = etree.fromstring(client.get("/oai?verb=ListSets").get_data())
    assert [s.text for s in sets.iter(f"{OAI}setSpec")] == ["fonds:AG01", "agency:H49.64.33"]
    listed = etree.fromstring(
        client.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc&set=fonds:AG01").get_data()
    )
    assert len(listed.findall(f".//{OAI}header")) == 4


def test_every_oai_response_passes_the_protocol_and_format_schemas(client: FlaskClient) -> None:
    """What a harvester's validator checks: the OAI-PMH 2.0 envelope, and each record's oai_dc or
    tt05_ead metadata against the schema ListMetadataFormats names (served here, offline)."""
    queries = [
        "verb=Identify",
        "verb=ListMetadataFormats",
        f"verb=ListMetadataFormats&identifier=oai:kholuu:{OPEN_CODE}",
        "verb=ListSets",
        "verb=ListIdentifiers&metadataPrefix=oai_dc",
        "verb=ListRecords&metadataPrefix=oai_dc",
        "verb=ListRecords&metadataPrefix=tt05_ead&set=fonds:AG01",
        f"verb=GetRecord&metadataPrefix=tt05_ead&identifier=oai:kholuu:{OPEN_CODE}",
        "verb=Nothing",
        "verb=ListRecords&metadataPrefix=marc",
        "verb=ListRecords&metadataPrefix=oai_dc&from=2030-01-01",
    ]
    for query in queries:
        body = client.get("/oai?" + query).get_data()
        assert validate_response(body) == [], query
    records = etree.fromstring(client.get("/oai?verb=ListRecords&metadataPrefix=tt05_ead").get_data())
    assert len(records.findall(f".//{OAI}metadata")) == 4
    formats = etree.fromstring(client.get("/oai?verb=ListMetadataFormats").get_data())
    schema_url = formats.xpath(
        "//o:metadataFormat[o:metadataPrefix='tt05_ead']/o:schema/text()", namespaces={"o": OAI[1:-1]}
    )
    assert schema_url == ["http://localhost/oai/tt05_ead.xsd"]
    with client.get("/oai/tt05_ead.xsd") as served:
        assert served.status_code == 200 and served.get_data() == OAI_SCHEMA.read_bytes()
    broken = client.get("/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:kholuu:" + OPEN_CODE)
    damaged = broken.get_data().replace(b"dc:title", b"dc:heading")
    assert [f.code for f in validate_response(damaged)] == ["xsd.oai_dc"]


def test_sickle_harvests_every_public_record_with_resumption(
    sessions: sessionmaker[Session], home: Path, database_url: str
) -> None:
    seeded = seed(sessions, extra_open=60)  # 62 hồ sơ and 122 tài liệu: two pages of 100
    with serving(cli_env(home, database_url)) as served:
        sickle = Sickle(served.base + "oai", max_retries=1, timeout=30)
        assert sickle.Identify().repositoryName
        headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc"))
        records = list(sickle.ListRecords(metadataPrefix="tt05_ead"))
        dublin = list(sickle.ListRecords(metadataPrefix="oai_dc", set="agency:H49.64.33"))
    identifiers = [h.identifier for h in headers]
    assert len(identifiers) == len(set(identifiers)) == 62 + 2 * 61
    assert {f"oai:kholuu:{code}" for code in seeded.open_codes} <= set(identifiers)
    assert [r.header.identifier for r in records] == identifiers
    assert len(dublin) == len(identifiers)
    titles = {t for r in dublin for t in r.metadata.get("title", [])}
    assert DECISION_TITLE in titles and not any(w in fold(" ".join(titles)) for w in secret_words())
    first = next(r for r in records if r.header.identifier == f"oai:kholuu:{OPEN_CODE}")
    assert first.metadata["fileCode"] == [OPEN_CODE]


def test_the_search_page_in_chromium_finds_quyet_dinh(
    sessions: sessionmaker[Session], home: Path, database_url: str
) -> None:
    seed(sessions)
    with serving(cli_env(home, database_url)) as served:
        dom = served.dom("/search?q=quyet+dinh")
    hits = dom.xpath('//li[@class="hit"]/a/text()')
    assert hits == [DECISION_TITLE]
    assert dom.xpath('//input[@name="q"]/@value') == ["quyet dinh"]


def test_public_endpoints_are_listed_and_exist(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC_ENDPOINTS) <= endpoints
    public_rules = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith(("public", "oai"))}
    assert public_rules <= set(PUBLIC_ENDPOINTS)
    assert json.dumps(sorted(PUBLIC_ENDPOINTS))
