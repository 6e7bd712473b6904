"""``/restrictions``: the danh mục tài liệu tiếp cận có điều kiện, and the decisions that change it.

Reading the list is for those who read descriptions (it names restricted records, so never the
public); putting a record on it or lifting it is reader services' (or an administrator's)
decision, taken through :mod:`workflows.records.access_decisions` exactly as ``kholuu records
restrict|lift`` takes it: signed with the logged-in user and written to the staff audit log in the
decision's transaction. Luật Lưu trữ 2024 Điều 25; vn-standards.md §3.3.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from flask import Blueprint, redirect, render_template, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from entrypoints.web.access import allow, current_actor
from entrypoints.web.context import context, translator
from entrypoints.web.params import BadParameter, check_language, day, link
from repository.actor import Role
from repository.catalog import records_store as store
from repository.catalog.records import Document, Dossier
from workflows.access.access_rules import MODES
from workflows.records import access_decisions as decisions

bp = Blueprint("restrictions", __name__, url_prefix="/restrictions")
bp.before_request(check_language)

READERS = (Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER, Role.AUDITOR, Role.READER_SERVICES)
DECIDERS = (Role.ADMINISTRATOR, Role.READER_SERVICES)
FIELD_LIMIT = 1000


def _text(name: str, *, required: bool = True) -> str:
    value = unicodedata.normalize("NFC", request.form.get(name, "").strip())[:FIELD_LIMIT]
    if required and not value:
        raise BadParameter("web.missing_field", f"{name} is required", {"name": name})
    return value


@bp.get("")
@allow(*READERS)
def index() -> str:
    with context().sessions() as session:
        rows = [decisions.restriction_json(session, r) for r in store.active_restrictions(session)]
    may_decide = current_actor().role in DECIDERS
    language = translator().language
    modes = [(m, store.code_label("mode", m, language)) for m in MODES]
    return render_template("restrictions.html", rows=rows, may_decide=may_decide, modes=modes)


@bp.post("")
@allow(*DECIDERS)
def add() -> BaseResponse:
    kind = request.form.get("kind", "dossier")
    code = _text("code")
    decision = decisions.Decision(_text("decision_number"), _required_day("decision_date"), _text("reason"))
    review = day("review_date", form=True)
    with context().sessions.begin() as session:
        record = _record(session, kind, code)
        decisions.restrict(session, current_actor(), record, decision, review)
    return redirect(link("restrictions.index"))


@bp.post("/declassify")
@allow(*DECIDERS)
def declassify() -> BaseResponse:
    """Giải mật / a new mức độ tiếp cận for a hồ sơ or tài liệu, by a decision (as ``kholuu records
    declassify``); ``with_documents`` brings a hồ sơ's stricter documents to the new mode too."""
    kind, code = request.form.get("kind", "dossier"), _text("code")
    to_mode = _text("to_mode")
    decision = decisions.Decision(_text("decision_number"), _required_day("decision_date"), _text("reason"))
    cascade = request.form.get("with_documents") == "1"
    with context().sessions.begin() as session:
        record = _record(session, kind, code)
        decisions.declassify(session, current_actor(), record, to_mode, decision, cascade=cascade)
    return redirect(link("restrictions.index"))


def _record(session: Session, kind: str, code: str) -> Dossier | Document:
    """The hồ sơ or tài liệu the form names (narrowed by its AIP when several hold the code)."""
    aip = _text("aip_id", required=False) or None
    return store.resolve_target(
        session,
        dossier_code=code if kind == "dossier" else None,
        document_code=code if kind == "document" else None,
        aip_id=aip,
    )


@bp.post("/<int:restriction_id>/lift")
@allow(*DECIDERS)
def lift(restriction_id: int) -> BaseResponse:
    decision = decisions.Decision(_text("decision_number"), _required_day("decision_date"))
    with context().sessions.begin() as session:
        decisions.lift(session, current_actor(), restriction_id, decision)
    return redirect(link("restrictions.index"))


def _required_day(name: str) -> date:
    found = day(name, form=True)
    if found is None:
        raise BadParameter("web.missing_field", f"{name} is required", {"name": name})
    return found
