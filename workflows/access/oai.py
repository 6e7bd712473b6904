"""OAI-PMH 2.0 over the public catalog: the six verbs, ``oai_dc`` and the TT 05 EAD elements, sets
per phông and per source agency, stateless resumption tokens. Only what :data:`PUBLIC` allows.

Items are the public hồ sơ, then the public tài liệu, in catalog order. An identifier is
``oai:<archive id>:<mã hồ sơ>`` or ``oai:<archive id>:<mã hồ sơ>/<mã tài liệu>`` (``#N`` for a
tài liệu without a code; ``[records] archive_id``, else ``kholuu``). A datestamp is when the hồ sơ
was accepted (else received), to the second, UTC. Deleted records: ``transient`` (docs/catalog.md):
a record that stops being public (a restriction, a reclassification) simply leaves the lists,
without a tombstone; a tombstone would itself tell that the record exists.

A resumption token is the request and the position (the last item's kind and id), base64url JSON,
valid :data:`TOKEN_HOURS`; nothing is stored on the server, so any server of a cluster answers it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from preservation.errors import ErrorKind, KholuuError
from preservation.oai_pmh import DC, OAI, OAI_DC
from preservation.tt05.model import DocumentKind
from preservation.tt05.tables import Tables, Variant, shipped_tables
from preservation.tt05.xsdgen import OAI_NAMESPACE
from repository.catalog.records import Document, Dossier, Fonds, SourceAgency
from repository.catalog.records_core import code_label
from workflows.access.dip_writer import dip_description
from workflows.access.public import PUBLIC, document_key, public_document, public_dossier

XSI = "http://www.w3.org/2001/XMLSchema-instance"
TT05 = OAI_NAMESPACE
#: Each format: its namespace and its schema (a relative schema is served beside ``/oai``).
FORMATS = {
    "oai_dc": (OAI_DC, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
    "tt05_ead": (TT05, "oai/tt05_ead.xsd"),
}
PAGE = 100
TOKEN_HOURS = 24
_VERBS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
}


class OaiError(KholuuError):
    """An OAI-PMH error condition (its ``oai_code``: badArgument, badVerb…), answered in the
    response body with HTTP 200, as the protocol says."""

    kind = ErrorKind.USAGE

    def __init__(self, oai_code: str, message: str) -> None:
        super().__init__(message, code=f"oai.{oai_code}", params={"oai_code": oai_code})
        self.oai_code = oai_code


@dataclass(frozen=True)
class Repository:
    """What Identify says and how items are named."""

    name: str
    base_url: str
    admin_email: str
    archive_id: str
    url_of: Callable[[str, str | None], str]  # (mã hồ sơ, document key or None) → public page


def respond(session: Session, repo: Repository, args: Mapping[str, list[str]], now: datetime) -> bytes:
    """The OAI-PMH response document for a request's arguments (GET query or POST form)."""
    root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})  # type: ignore[dict-item]
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    etree.SubElement(root, f"{{{OAI}}}responseDate").text = _stamp(now)
    request = etree.SubElement(root, f"{{{OAI}}}request")
    request.text = repo.base_url
    try:
        verb, params = _check(args)
        for key, value in params.items():
            request.set(key, value)
        request.set("verb", verb)
        body = _VERB_HANDLERS[verb](session, repo, params, now)
        root.append(body)
    except OaiError as exc:
        error = etree.SubElement(root, f"{{{OAI}}}error", code=exc.oai_code)
        error.text = str(exc)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _check(args: Mapping[str, list[str]]) -> tuple[str, dict[str, str]]:
    verbs = args.get("verb", [])
    if len(verbs) != 1 or verbs[0] not in _VERBS:
        raise OaiError("badVerb", "missing, repeated or illegal verb")
    verb = verbs[0]
    required, optional = _VERBS[verb]
    params: dict[str, str] = {}
    for key, values in args.items():
        if key == "verb":
            continue
        allowed = (
            required
            | optional
            | (
                {"resumptionToken"}
                if verb.startswith("List") and verb not in ("ListMetadataFormats",)
                else set()
            )
        )
        if key not in allowed:
            raise OaiError("badArgument", f"{verb} takes no argument {key!r}")
        if len(values) != 1:
            raise OaiError("badArgument", f"{key} is repeated")
        params[key] = values[0]
    if "resumptionToken" in params:
        if len(params) > 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument")
        return verb, params
    missing = required - set(params)
    if missing:
        raise OaiError("badArgument", f"{verb} needs {', '.join(sorted(missing))}")
    return verb, params


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _el(parent: Any, tag: str, text: str | None = None, ns: str = OAI) -> Any:
    child = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        child.text = text
    return child


# --------------------------------------------------------------------------- items


def _datestamp() -> ColumnElement[Any]:
    return func.coalesce(Dossier.accepted_at, Dossier.received_at)


def _earliest(session: Session) -> datetime | None:
    earliest: datetime | None = session.scalar(select(func.min(_datestamp())).where(PUBLIC.dossiers()))
    return earliest


def _identifier(repo: Repository, dossier_code: str, key: str | None) -> str:
    return f"oai:{repo.archive_id}:{dossier_code}" + (f"/{key}" if key is not None else "")


def _parse_identifier(repo: Repository, identifier: str) -> tuple[str, str | None]:
    prefix = f"oai:{repo.archive_id}:"
    if not identifier.startswith(prefix):
        raise OaiError("idDoesNotExist", f"{identifier} is not an identifier of this repository")
    local = identifier[len(prefix) :]
    dossier_code, _, key = local.partition("/")
    return dossier_code, key or None


def _items(filters: dict[str, Any]) -> Select[Any]:
    """(kind 0 dossier / 1 document, id, dossier code, document key parts, datestamp, sets)."""
    conditions = []
    if filters.get("from"):
        conditions.append(_datestamp() >= filters["from"])
    if filters.get("until"):
        conditions.append(_datestamp() <= filters["until"])
    kind, _, value = (filters.get("set") or "").partition(":")
    if kind == "fonds":
        conditions.append(Dossier.fonds_id.in_(select(Fonds.id).where(Fonds.code == value)))
    elif kind == "agency":
        conditions.append(
            Dossier.agency_id.in_(select(SourceAgency.id).where(SourceAgency.organ_id == value))
        )
    dossiers = select(
        literal(0).label("kind"),
        Dossier.id.label("id"),
        Dossier.id.label("dossier_id"),
    ).where(PUBLIC.dossiers(), *conditions)
    documents = (
        select(literal(1).label("kind"), Document.id.label("id"), Dossier.id.label("dossier_id"))
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(PUBLIC.documents(), *conditions)
    )
    return select(union_all(dossiers, documents).subquery("items"))


def _parse_day(value: str, *, end: bool) -> datetime:
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return day + timedelta(days=1, microseconds=-1) if end else day
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise OaiError(
            "badArgument", f"{value!r} is not a UTC datestamp YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ"
        ) from None


def _list_request(params: dict[str, str], now: datetime) -> dict[str, Any]:
    """The list request, from its arguments or from its resumption token."""
    if "resumptionToken" in params:
        return _read_token(params["resumptionToken"], now)
    prefix = params["metadataPrefix"]
    if prefix not in FORMATS:
        raise OaiError("cannotDisseminateFormat", f"no metadata format {prefix!r}")
    for key in ("from", "until"):
        if key in params:
            _parse_day(params[key], end=key == "until")
    if "from" in params and "until" in params:
        if len(params["from"]) != len(params["until"]):
            raise OaiError("badArgument", "from and until have different granularities")
        if params["from"] > params["until"]:
            raise OaiError("badArgument", "from is after until")
    set_spec = params.get("set", "")
    if set_spec and set_spec.partition(":")[0] not in ("fonds", "agency"):
        raise OaiError("noRecordsMatch", f"no set {set_spec!r}")
    return {
        "p": prefix,
        "f": params.get("from", ""),
        "u": params.get("until", ""),
        "s": set_spec,
        "k": -1,
        "i": 0,
        "c": 0,
        "n": None,
    }


def _read_token(token: str, now: datetime) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4)))
        expires = datetime.fromisoformat(state.pop("e"))
        if not isinstance(state, dict) or state.get("p") not in FORMATS:
            raise ValueError(token)
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise OaiError(
            "badResumptionToken", "the resumption token is not one this repository issued"
        ) from None
    if expires < now:
        raise OaiError("badResumptionToken", "the resumption token has expired; start the list again")
    return state


def _write_token(state: dict[str, Any], now: datetime) -> tuple[str, datetime]:
    expires = now + timedelta(hours=TOKEN_HOURS)
    raw = json.dumps({**state, "e": expires.isoformat()}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="), expires


def _filters(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "from": _parse_day(state["f"], end=False) if state["f"] else None,
        "until": _parse_day(state["u"], end=True) if state["u"] else None,
        "set": state["s"],
    }


def _list(session: Session, repo: Repository, params: dict[str, str], now: datetime, *, records: bool) -> Any:
    state = _list_request(params, now)
    items = _items(_filters(state)).subquery("listed")
    if state["n"] is None:
        state["n"] = int(session.scalar(select(func.count()).select_from(items)) or 0)
    after = or_(items.c.kind > state["k"], and_(items.c.kind == state["k"], items.c.id > state["i"]))
    rows = session.execute(
        select(items.c.kind, items.c.id).where(after).order_by(items.c.kind, items.c.id).limit(PAGE + 1)
    ).all()
    if not rows and state["c"] == 0:
        raise OaiError("noRecordsMatch", "no public record matches")
    body = etree.Element(f"{{{OAI}}}{'ListRecords' if records else 'ListIdentifiers'}")
    for kind, item_id in rows[:PAGE]:
        record: Dossier | Document | None = (
            session.get(Dossier, item_id) if kind == 0 else session.get(Document, item_id)
        )
        assert record is not None
        if records:
            body.append(_record(session, repo, record, state["p"]))
        else:
            body.append(_header(session, repo, record))
    shown = state["c"] + min(len(rows), PAGE)
    if len(rows) > PAGE or state["c"] > 0:
        token = _el(body, "resumptionToken")
        token.set("completeListSize", str(state["n"]))
        token.set("cursor", str(state["c"]))
        if len(rows) > PAGE:
            last_kind, last_id = rows[PAGE - 1]
            text, expires = _write_token({**state, "k": last_kind, "i": last_id, "c": shown}, now)
            token.text = text
            token.set("expirationDate", _stamp(expires))
    return body


def _list_records(session: Session, repo: Repository, params: dict[str, str], now: datetime) -> Any:
    return _list(session, repo, params, now, records=True)


def _list_identifiers(session: Session, repo: Repository, params: dict[str, str], now: datetime) -> Any:
    return _list(session, repo, params, now, records=False)


def _find(session: Session, repo: Repository, identifier: str) -> Dossier | Document:
    dossier_code, key = _parse_identifier(repo, identifier)
    try:
        dossier = public_dossier(session, dossier_code)
        return dossier if key is None else public_document(session, dossier, key)
    except KholuuError:
        raise OaiError("idDoesNotExist", f"no public record {identifier}") from None


def _get_record(session: Session, repo: Repository, params: dict[str, str], now: datetime) -> Any:
    record = _find(session, repo, params["identifier"])
    if params["metadataPrefix"] not in FORMATS:
        raise OaiError("cannotDisseminateFormat", f"no metadata format {params['metadataPrefix']!r}")
    body = etree.Element(f"{{{OAI}}}GetRecord")
    body.append(_record(session, repo, record, params["metadataPrefix"]))
    return body


def _identify(session: Session, repo: Repository, params: dict[str, str], now: datetime) -> Any:
    body = etree.Element(f"{{{OAI}}}Identify")
    _el(body, "repositoryName", repo.name)
    _el(body, "baseURL", repo.base_url)
    _el(body, "protocolVersion", "2.0")
    _el(body, "adminEmail", repo.admin_email)
    _el(body, "earliestDatestamp", _stamp(_earliest(session) or now))
    _el(body, "deletedRecord", "transient")
    _el(body, "granularity", "YYYY-MM-DDThh:mm:ssZ")
    return body


def _list_metadata_formats(session: Session, repo: Repository, params: dict[str, str], now: datetime) -> Any:
    if "identifier" in params:
        _find(session, repo, params["identifier"])
    body = etree.Element(f"{{{OAI}}}ListMetadataFormats")
    for prefix, (namespace, schema) in FORMATS.items():
        fmt = _el(body, "metadataFormat")
        _el(fmt, "metadataPrefix", prefix)
        _el(fmt, "schema", urljoin(repo.base_url, schema))
        _el(fmt, "metadataNamespace", namespace)
    return body


def _list_sets(session: Session, repo: Repository, params: dict[str, str], now: datetime) -> Any:
    """Sets of the phông and source agencies that hold at least one public hồ sơ."""
    if "resumptionToken" in params:
        raise OaiError("badResumptionToken", "ListSets is answered in one response")
    public = select(Dossier.fonds_id, Dossier.agency_id).where(PUBLIC.dossiers()).subquery()
    fonds = session.execute(
        select(Fonds.code, Fonds.name).where(Fonds.id.in_(select(public.c.fonds_id))).order_by(Fonds.code)
    ).all()
    agencies = session.execute(
        select(SourceAgency.organ_id, SourceAgency.name)
        .where(SourceAgency.id.in_(select(public.c.agency_id)))
        .order_by(SourceAgency.organ_id)
    ).all()
    body = etree.Element(f"{{{OAI}}}ListSets")
    for kind, rows in (("fonds", fonds), ("agency", agencies)):
        for code, name in rows:
            entry = _el(body, "set")
            _el(entry, "setSpec", f"{kind}:{code}")
            _el(entry, "setName", name)
    if len(body) == 0:
        raise OaiError("noSetHierarchy", "no public record belongs to a phông or an agency yet")
    return body


# --------------------------------------------------------------------------- records


def _dossier_of(record: Dossier | Document) -> Dossier:
    return record if isinstance(record, Dossier) else record.dossier


def _header(session: Session, repo: Repository, record: Dossier | Document) -> Any:
    dossier = _dossier_of(record)
    key = None if isinstance(record, Dossier) else document_key(record)
    header = etree.Element(f"{{{OAI}}}header")
    _el(header, "identifier", _identifier(repo, dossier.code, key))
    _el(header, "datestamp", _stamp(dossier.accepted_at or dossier.received_at))
    for spec in _set_specs(session, dossier):
        _el(header, "setSpec", spec)
    return header


def _record(session: Session, repo: Repository, record: Dossier | Document, prefix: str) -> Any:
    element = etree.Element(f"{{{OAI}}}record")
    element.append(_header(session, repo, record))
    metadata = _el(element, "metadata")
    metadata.append(_oai_dc(repo, record) if prefix == "oai_dc" else _tt05(record, shipped_tables()))
    return element


def _set_specs(session: Session, dossier: Dossier) -> list[str]:
    specs = []
    if dossier.fonds_id is not None:
        fonds = session.get(Fonds, dossier.fonds_id)
        if fonds is not None:
            specs.append(f"fonds:{fonds.code}")
    if dossier.agency_id is not None:
        agency = session.get(SourceAgency, dossier.agency_id)
        if agency is not None:
            specs.append(f"agency:{agency.organ_id}")
    return specs


def _oai_dc(repo: Repository, record: Dossier | Document) -> Any:
    dossier = _dossier_of(record)
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    key = None if isinstance(record, Dossier) else document_key(record)
    _el(root, "title", record.title, DC)
    _el(root, "identifier", repo.url_of(dossier.code, key), DC)
    _el(root, "identifier", record.code if isinstance(record, Dossier) else key, DC)
    if isinstance(record, Dossier):
        span = "/".join(d for d in (record.start_date, record.end_date) if d)
        if span:
            _el(root, "date", span, DC)
        _el(root, "type", "Hồ sơ lưu trữ", DC)
    else:
        if record.issued_date:
            _el(root, "date", record.issued_date, DC)
        if record.organ_name:
            _el(root, "creator", record.organ_name, DC)
        if record.type_name:
            _el(root, "type", code_label("typeName", record.type_name, "vi"), DC)
        _el(root, "relation", repo.url_of(dossier.code, None), DC)
    _el(root, "publisher", repo.name, DC)
    _el(root, "rights", code_label("mode", record.mode or dossier.mode, "vi"), DC)
    return root


_DOCUMENT_VARIANT = {
    DocumentKind.DOC: Variant.DOC_DIP,
    DocumentKind.PIC: Variant.PIC_SIP,
    DocumentKind.MEDIA: Variant.MEDIA_SIP,
}


def _dossier_variant(package_type: str) -> Variant:
    """The element table of a hồ sơ as received: ``SIP_hoso`` → hoso_sip, ``AIP_tailieu`` →
    tailieu_aip; a package type outside TT 05 (a legacy list) reads as hoso_aip."""
    stage, _, kind = package_type.partition("_")
    try:
        return Variant(f"{kind.lower()}_{stage.lower()}")
    except ValueError:
        return Variant.HOSO_AIP


def _tt05(record: Dossier | Document, tables: Tables) -> Any:
    """The TT 05/2025 elements of the record, in table order (a tài liệu as a DIP gives it,
    :func:`workflows.access.dip_writer.dip_description`)."""
    if isinstance(record, Dossier):
        names = tables.table(_dossier_variant(record.package_type)).names
        values = {k: str(v) for k, v in (record.elements or {}).items() if v is not None and k in names}
        ordered = [(n, values[n]) for n in names if values.get(n)]
    else:
        description = dip_description(record.dossier, record, tables, "")
        names = tables.table(_DOCUMENT_VARIANT[DocumentKind(record.kind)]).names
        ordered = [(n, description.values[n]) for n in names if description.values.get(n)]
    root = etree.Element(f"{{{TT05}}}ead", nsmap={"tt05": TT05})
    for name, value in ordered:
        _el(root, name, value, TT05)
    return root


_VERB_HANDLERS: dict[str, Callable[[Session, Repository, dict[str, str], datetime], Any]] = {
    "Identify": _identify,
    "ListMetadataFormats": _list_metadata_formats,
    "ListSets": _list_sets,
    "ListIdentifiers": _list_identifiers,
    "ListRecords": _list_records,
    "GetRecord": _get_record,
}

__all__ = ["FORMATS", "OAI", "OaiError", "Repository", "respond"]
