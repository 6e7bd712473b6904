"""The DIP of TT 05/2025 Phụ lục V: the reader's access request and the event that records it.

A requester's copy is cloned from the original in DIP form (TT 05/2025 Chương VI Điều 32-33,
vn-standards.md §2.5). :func:`request_to_description` turns the phiếu yêu cầu into the DIP's
``EAD.xml`` and :func:`dip_event` records the dissemination; which tài liệu may leave is
:mod:`workflows.access.access_rules`' and the package is :mod:`workflows.access.dip_writer`'s.
:mod:`workflows.access.export` fetches the AIP, calls these and ZIPs the result.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from preservation.errors import ErrorKind
from preservation.events import Agent, Event, EventType, Outcome
from preservation.tt05.ead import ParsedDescription
from preservation.tt05.ead_check import check_description
from preservation.tt05.mapping import map_code
from preservation.tt05.model import Description
from preservation.tt05.tables import Tables, Variant
from workflows.access.access_rules import Selection, document_code
from workflows.access.dip_writer import REQUEST_PATH
from workflows.access.errors import ExportError, errors_of, finding_detail
from workflows.jobs.envelope import Workflow, workflow_agent

_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class AccessRequest:
    """A phiếu yêu cầu khai thác (TT 05/2025 Phụ lục V, DIP ``EAD.xml``), as the operator typed it.

    ``purpose`` and ``fee_object`` take the code or its label ("Công vụ", "cong vu");
    ``request_date`` DD/MM/YYYY or YYYY-MM-DD. ``approved_conditional`` is the number of the
    archive's decision approving access to the Sử dụng có điều kiện documents, if any.
    ``documents``: the codes of the tài liệu (or hồ sơ) asked for; none: every one that may leave.
    """

    request_id: str
    request_date: str
    purpose: str
    purpose_content: str = ""
    fee_object: str = ""
    topic: str = ""
    note: str = ""
    approved_conditional: str = ""
    documents: tuple[str, ...] = ()


def software_agent() -> Agent:
    """The export's PREMIS agent: every dissemination event names it."""
    return workflow_agent(Workflow.EXPORT)


def dip_event(
    request: AccessRequest,
    selection: Selection,
    aip_id: str,
    dip_id: str,
    now: datetime,
    *,
    full: bool = False,
) -> Event:
    """The dissemination event. The DIP carries it without the withheld documents (``full`` False):
    a requester must not learn what was kept back; the catalog copy (``full``) names them."""
    approval = request.approved_conditional.strip()
    released = ", ".join(document_code(d) for _, d in selection.released)
    if selection.whole_aip:
        released = "the whole AIP (it has no TT 05 descriptions)"
    lines = [f"access request {request.request_id}; released: {released}"]
    if approval and selection.whole_aip:
        lines.append(f"release of the undescribed AIP approved by decision {approval}")
    elif approval:
        lines.append(f"conditional access (mức độ tiếp cận 02) approved by decision {approval}")
    if full and selection.withheld:
        lines.append("withheld: " + "; ".join(f"{w.code} ({w.reason})" for w in selection.withheld))
    return Event(
        type=EventType.DISSEMINATION,
        outcome=Outcome.SUCCESS,
        detail=_detail(selection, approval),
        detail_code="dip.whole" if selection.whole_aip else "dip.approved" if approval else "dip.public",
        detail_params={"request": request.request_id, "approval": approval or ""},
        outcome_detail="\n".join(lines),
        agents=(software_agent(),),
        objects=(aip_id, dip_id),
        datetime=now,
    )


def _detail(selection: Selection, approval: str) -> str:
    if selection.whole_aip:
        return (
            "DIP built for an access request (TT 05/2025 Phụ lục V): the whole AIP, which has no "
            "TT 05 descriptions, under the archive's decision"
        )
    return (
        "DIP built for an access request (TT 05/2025 Phụ lục V): documents of mức độ tiếp cận "
        "01 not on the list of tài liệu tiếp cận có điều kiện"
        + (", and 02 documents under the archive's approval" if approval else "")
    )


def request_to_description(request: AccessRequest, tables: Tables) -> Description:
    """The DIP's ``EAD.xml`` (variant dip_request), checked against its element table.

    Raises:
        ExportError: ``export.bad_request`` (usage) listing every broken rule of the table.
    """
    purpose = request.purpose.strip()
    fee = request.fee_object.strip()
    values = {
        "requestID": request.request_id,
        "requestDate": _tt05_day(request.request_date),
        "purpose": map_code(tables.codelist("purpose"), purpose) or purpose if purpose else "",
        "purposeContent": request.purpose_content,
        "feeObjectType": map_code(tables.codelist("feeObjectType"), fee) or fee if fee else "",
        "researchTopic": request.topic,
        "description": request.note,
    }
    description = Description(
        variant=Variant.DIP_REQUEST,
        path=REQUEST_PATH,
        values={k: unicodedata.normalize("NFC", v.strip()) for k, v in values.items() if v.strip()},
    )
    errors = errors_of(check_description(ParsedDescription(description), tables))
    if errors:
        raise ExportError(
            f"the access request breaks {len(errors)} rule(s) of TT 05/2025 Phụ lục V: {errors[0].message}",
            code="export.bad_request",
            kind=ErrorKind.USAGE,
            params={"count": len(errors)},
            details=[finding_detail(f) for f in errors],
        )
    return description


def _tt05_day(text: str) -> str:
    """YYYY-MM-DD → DD/MM/YYYY (TT 05 dates); anything else is left for the checker to judge."""
    match = _ISO_DAY.fullmatch(text.strip())
    return f"{match[3]}/{match[2]}/{match[1]}" if match else text
