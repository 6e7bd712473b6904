"""Linked data of a public record: Dublin Core terms, Schema.org and PREMIS 3 events, with rdflib.

One graph per public hồ sơ or tài liệu, written as JSON-LD (also embedded in its page) or Turtle:

* the record: ``schema:ArchiveComponent`` with ``dcterms:title``, ``identifier`` (the code as
  received), ``date``, ``language``, ``accessRights``, ``isPartOf`` / ``hasPart`` (only public parts),
  ``schema:holdingArchive`` → the archive, a ``schema:ArchiveOrganization`` named by ``[archive]
  name``; the source agency as ``dcterms:creator``;
* the AIP's preservation events as PREMIS 3 OWL (``http://www.loc.gov/premis/rdf/v3/``):
  ``premis:Event`` with its LoC event type (``dcterms:type``), time (``prov:atTime``) and outcome
  (``premis:outcome``), linked to the record by ``premis:hasEvent``. Event details and the objects
  an event names are left out: they name payload files, and a file of a closed tài liệu of the
  same AIP must not be named on a public surface.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV
from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.events import EventType
from repository.catalog.models import Event
from repository.catalog.records import Document, Dossier
from repository.catalog.records_core import code_label

SCHEMA = Namespace("https://schema.org/")
PREMIS = Namespace("http://www.loc.gov/premis/rdf/v3/")
_EVENT_TYPES = {t.value: t.uri for t in EventType}


@dataclass(frozen=True)
class RecordLinks:
    """Absolute URLs the graph names: the record, its parent and its public parts."""

    record: str
    archive: str
    archive_name: str
    parent: str | None = None
    parts: Sequence[str] = ()
    agency_name: str = ""


def record_graph(session: Session, record: Dossier | Document, links: RecordLinks) -> Graph:
    """The graph of one public record (a hồ sơ or a tài liệu) and its AIP's events."""
    graph = Graph()
    graph.bind("dcterms", DCTERMS)
    graph.bind("schema", SCHEMA)
    graph.bind("premis", PREMIS)
    graph.bind("prov", PROV)
    node = URIRef(links.record)
    archive = URIRef(links.archive)
    graph.add((archive, RDF.type, SCHEMA.ArchiveOrganization))
    graph.add((archive, SCHEMA.name, Literal(links.archive_name)))
    graph.add((node, RDF.type, SCHEMA.ArchiveComponent))
    graph.add((node, SCHEMA.holdingArchive, archive))
    graph.add((node, SCHEMA.url, Literal(links.record, datatype=XSD.anyURI)))
    dossier = record if isinstance(record, Dossier) else record.dossier
    code = record.code if isinstance(record, Dossier) else record.doc_code
    graph.add((node, DCTERMS.title, Literal(record.title, lang="vi")))
    graph.add((node, SCHEMA.name, Literal(record.title, lang="vi")))
    if code:
        graph.add((node, DCTERMS.identifier, Literal(code)))
    for value in _dates(record):
        graph.add((node, DCTERMS.date, Literal(value)))
    mode = record.mode or dossier.mode
    graph.add((node, DCTERMS.accessRights, Literal(code_label("mode", mode, "vi"), lang="vi")))
    graph.add((node, DCTERMS.accessRights, Literal(code_label("mode", mode, "en"), lang="en")))
    if isinstance(record, Document):
        if record.organ_name:
            graph.add((node, DCTERMS.creator, Literal(record.organ_name)))
        if record.type_name:
            graph.add(
                (node, DCTERMS.type, Literal(code_label("typeName", record.type_name, "vi"), lang="vi"))
            )
    if links.agency_name:
        graph.add((node, DCTERMS.creator, Literal(links.agency_name)))
    if links.parent:
        graph.add((node, DCTERMS.isPartOf, URIRef(links.parent)))
        graph.add((node, SCHEMA.isPartOf, URIRef(links.parent)))
    for part in links.parts:
        graph.add((node, DCTERMS.hasPart, URIRef(part)))
        graph.add((node, SCHEMA.hasPart, URIRef(part)))
    _events(session, graph, node, dossier.aip_id)
    return graph


def _dates(record: Dossier | Document) -> list[str]:
    if isinstance(record, Dossier):
        span = "/".join(d for d in (record.start_date, record.end_date) if d)
        return [span] if span else []
    return [record.issued_date] if record.issued_date else []


def _events(session: Session, graph: Graph, node: URIRef, aip_id: str) -> None:
    events = session.scalars(select(Event).where(Event.aip_id == aip_id).order_by(Event.datetime, Event.id))
    for event in events:
        subject = URIRef(f"urn:uuid:{event.identifier}")
        graph.add((node, PREMIS.hasEvent, subject))
        graph.add((subject, RDF.type, PREMIS.Event))
        uri = _EVENT_TYPES.get(event.type)
        graph.add((subject, DCTERMS.type, URIRef(uri) if uri else Literal(event.type)))
        graph.add((subject, PROV.atTime, Literal(event.datetime.isoformat(), datatype=XSD.dateTime)))
        outcome = BNode()
        graph.add((subject, PREMIS.outcome, outcome))
        graph.add((outcome, RDF.type, PREMIS.EventOutcomeInformation))
        graph.add((outcome, RDF.value, Literal(event.outcome)))


def serialize(graph: Graph, fmt: str) -> str:
    """``jsonld`` or ``ttl``."""
    return graph.serialize(format="json-ld" if fmt == "jsonld" else "turtle", auto_compact=True)


__all__ = ["PREMIS", "SCHEMA", "RecordLinks", "record_graph", "serialize"]
