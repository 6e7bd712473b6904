"""The duplicate check of an ingest: which payload and which record a submission is, claimed in the
catalog before anything is built (issue 11 items 3 and 4).

Two defects this closes. A check that only *looked* for a stored AIP with the same payload let six
identical ingests started at once all pass it and store 2-5 AIPs of one payload; and a TT 05 hồ sơ
the archive already held, re-sent with one byte changed, was stored silently as a second record,
public again and counted twice, because restrictions and access decisions belong to the catalog
rows of the first AIP.

How it holds now:

- Every ingest *claims* what it is before it goes on: ``payload:<digest>`` (unless duplicates are
  allowed), ``record:<mã hồ sơ>`` for a TT 05 package and ``objid:<sha256 of the submitted OBJID>``
  for a package that names itself (E-ARK / TT 05 METS ``OBJID``). A claim is a row whose primary
  key is the claimed name (:class:`~repository.catalog.models.IngestClaim`), so two ingests cannot
  both insert it: the catalog, not a check-then-insert, decides who was first. The loser is refused
  before anything is stored (``ingest.duplicate_running`` while the winner runs).
- A claim of a completed ingest stays: it is the payload or record that ingest's AIP holds. A claim
  of an ingest that failed, was refused or died is taken over by a conditional UPDATE (only one
  taker can change the row it read).
- A record already held (by a claim, or by a stored hồ sơ catalogued before claims existed) is
  refused with ``ingest.record_held`` unless the operator names the decision to replace it:
  ``kholuu ingest --supersedes AIP`` naming the AIP that holds it. The new AIP then takes over the
  claims of that AIP, and :func:`supersede` (in the registration transaction) links the old hồ sơ
  to the new one and carries over what the archive decided about it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from preservation.package import Submission
from preservation.tt05.package import Tt05Reading
from repository.catalog.models import Aip, AipStatus, IngestClaim, Job, JobStatus
from repository.catalog.records import (
    AccessChange,
    AccessRestriction,
    Document,
    Dossier,
    Transfer,
    TransferStatus,
)
from repository.catalog.records_store import mode_rank
from workflows.ingest import steps
from workflows.jobs.runner import Refusal, StepContext

HELD = (AipStatus.STORED, AipStatus.DEGRADED)


@dataclass(frozen=True)
class Identity:
    """What the duplicate check found the submission to be."""

    payload_digest: str
    record_code: str = ""  # mã hồ sơ of a TT 05 package, "" otherwise
    supersedes: str = ""  # the AIP whose record this package replaces (--supersedes), "" otherwise


def record_code(reading: Tt05Reading | None) -> str:
    """The mã hồ sơ a TT 05 package describes, as the catalog will keep it (NFC, trimmed)."""
    if reading is None:
        return ""
    values = reading.records.package.values
    code = values.get("fileCode") or values.get("arcFileCode") or ""
    return unicodedata.normalize("NFC", code).strip()


def check(
    ctx: StepContext,
    submission: Submission,
    reading: Tt05Reading | None,
    *,
    allow_duplicate: bool,
    supersedes: str = "",
) -> Identity:
    """Claim the payload, the record and the OBJID, then refuse what is already held.

    Raises:
        Refusal: ``ingest.duplicate`` (the payload is stored), ``ingest.duplicate_running`` (the
            same payload, record or OBJID is being ingested right now), ``ingest.record_held``
            (the hồ sơ is held and no ``--supersedes`` names its AIP), ``ingest.objid_held``,
            ``ingest.supersedes_mismatch`` (the named AIP does not hold this record).
    """
    code = record_code(reading)
    if supersedes and not code:
        raise Refusal(
            f"--supersedes {supersedes}: this package carries no TT 05 hồ sơ to replace a held one",
            code="ingest.supersedes_no_record",
            params={"aip_id": supersedes},
        )
    digest = steps.payload_digest(submission)
    objid = dict(submission.info).get("OBJID", "").strip()
    refuse_payload = ctx.settings.ingest.refuse_duplicates and not allow_duplicate
    names: list[tuple[str, str]] = []
    if refuse_payload:
        names.append(("payload", digest))
    if code:
        names.append(("record", code))
    if objid and not allow_duplicate:
        names.append(("objid", objid))
    for kind, value in names:
        _claim(ctx, kind, value, supersedes)
    if refuse_payload:
        _payload_stored(ctx, digest, supersedes)
    if code:
        _record_held(ctx, code, supersedes)
    return Identity(payload_digest=digest, record_code=code, supersedes=supersedes)


def _key(kind: str, value: str) -> str:
    """``kind:value``; an OBJID, or any value too long for the key column (submitted text of any
    length), is named by its SHA-256."""
    if kind == "objid" or len(value) > 150:
        return f"{kind}:{hashlib.sha256(value.encode('utf-8')).hexdigest()}"
    return f"{kind}:{value}"


def _claim(ctx: StepContext, kind: str, value: str, supersedes: str) -> None:
    """Insert the claim, or take it over from an ingest that no longer holds it; refuse otherwise.
    Each attempt is its own short transaction: a refused insert leaves nothing behind."""
    key = _key(kind, value)
    for _attempt in range(5):
        try:
            with ctx.sessions.begin() as session:
                session.add(IngestClaim(key=key, job_id=ctx.job_id, claimed_at=ctx.clock()))
            return
        except IntegrityError:
            pass  # someone holds it: who, and may it be taken over?
        with ctx.sessions.begin() as session:
            claim = session.get(IngestClaim, key)
            if claim is None:
                continue  # released meanwhile: insert again
            owner = session.get(Job, claim.job_id)
            if owner is not None and owner.status is JobStatus.RUNNING:
                raise Refusal(
                    f"the same {kind} ({value}) is being ingested right now by job {owner.id}",
                    code="ingest.duplicate_running",
                    params={"kind": kind, "value": value, "job_id": owner.id},
                )
            # who holds it: a completed owner; else, for a claim taken over by an ingest that died
            # or failed before handing it back, the completed ingest it was taken from
            holder = owner if owner is not None and owner.status is JobStatus.COMPLETED else None
            if holder is None and claim.previous_job_id:
                holder = session.get(Job, claim.previous_job_id)
            aip = (
                session.get(Aip, holder.aip_id)
                if holder is not None and holder.status is JobStatus.COMPLETED and holder.aip_id
                else None
            )
            held = (
                aip is not None and aip.status in HELD and (kind == "payload" or not _returned(session, aip))
            )
            if aip is not None and held and aip.id != supersedes:
                if kind == "record" and supersedes:
                    raise _mismatch(supersedes, value, [aip.id])
                raise _held(kind, value, aip)
            # a failed, refused or dead ingest's claim, or the one of the AIP this package replaces
            # (handed back by release() if this ingest does not store its AIP)
            taken = session.execute(
                update(IngestClaim)
                .where(IngestClaim.key == key, IngestClaim.job_id == claim.job_id)
                .values(
                    job_id=ctx.job_id,
                    claimed_at=ctx.clock(),
                    previous_job_id=holder.id if held and holder is not None else None,
                )
            )
            if getattr(taken, "rowcount", 0) == 1:
                return
    raise Refusal(
        f"the same {kind} ({value}) is being ingested right now",
        code="ingest.duplicate_running",
        params={"kind": kind, "value": value, "job_id": ""},
    )


def _held(kind: str, value: str, aip: Aip) -> Refusal:
    if kind == "payload":
        return Refusal(
            f"this payload is already stored as AIP {aip.id} (from {aip.source_name!r}); "
            "use --allow-duplicate to store it again",
            code="ingest.duplicate",
            params={"aip_id": aip.id, "source_name": aip.source_name},
        )
    if kind == "record":
        return _record_refusal(value, [aip.id])
    return Refusal(
        f"a package with the OBJID {value!r} is already stored as AIP {aip.id}; name it with "
        f"--supersedes {aip.id} if this package replaces it, or --allow-duplicate to keep both",
        code="ingest.objid_held",
        params={"objid": value, "aip_id": aip.id},
    )


def _record_refusal(code: str, aips: Sequence[str]) -> Refusal:
    return Refusal(
        f"the hồ sơ {code} is already held in AIP {', '.join(aips)}; a re-submission must name the "
        f"AIP it replaces (--supersedes {aips[0]}): it then takes over that record's restrictions "
        "and access decisions",
        code="ingest.record_held",
        params={"code": code, "aip_id": aips[0], "aips": list(aips)},
    )


def _payload_stored(ctx: StepContext, digest: str, supersedes: str) -> None:
    """A stored AIP with this payload that no claim names (stored before claims existed)."""
    with ctx.sessions() as session:
        existing = session.scalars(
            select(Aip)
            .where(Aip.payload_digest == digest, Aip.status.in_(HELD), Aip.id != supersedes)
            .order_by(Aip.created_at)
        ).first()
        if existing is not None:
            raise _held("payload", digest, existing)


def _rejected_aips() -> Select[str | None]:
    return select(Transfer.aip_id).where(
        Transfer.status == TransferStatus.REJECTED, Transfer.aip_id.is_not(None)
    )


def _returned(session: Session, aip: Aip) -> bool:
    """The AIP came in a transfer the archive rejected: its records went back to the agency, and
    the agency sending them again is a new submission, not a re-submission of a held record."""
    return aip.id in set(session.scalars(_rejected_aips()))


def held_dossiers(session: Session, code: str) -> list[Dossier]:
    """The current records with this mã hồ sơ: in a stored AIP, not returned to the agency by a
    rejected transfer, and not replaced by a later one."""
    return list(
        session.scalars(
            select(Dossier)
            .join(Aip, Aip.id == Dossier.aip_id)
            .where(
                Dossier.code == code,
                Dossier.superseded_by_id.is_(None),
                Aip.status.in_(HELD),
                Dossier.aip_id.not_in(_rejected_aips()),
            )
            .order_by(Dossier.id)
        )
    )


def _record_held(ctx: StepContext, code: str, supersedes: str) -> None:
    with ctx.sessions() as session:
        aips = sorted({d.aip_id for d in held_dossiers(session, code)})
    if not aips:
        if supersedes:
            raise _mismatch(supersedes, code, [])
        return
    if not supersedes:
        raise _record_refusal(code, aips)
    if supersedes not in aips:
        raise _mismatch(supersedes, code, aips)


def _mismatch(supersedes: str, code: str, aips: Sequence[str]) -> Refusal:
    return Refusal(
        f"AIP {supersedes} does not hold the current record {code}; it is held in {', '.join(aips)}",
        code="ingest.supersedes_mismatch",
        params={"aip_id": supersedes, "code": code, "aips": list(aips)},
    )


def release(session: Session, job_id: str) -> None:
    """Give up the claims of an ingest that did not store its AIP (failed or refused): a claim taken
    over from the AIP it was to supersede goes back to that AIP's ingest, the others are deleted."""
    session.execute(
        update(IngestClaim)
        .where(IngestClaim.job_id == job_id, IngestClaim.previous_job_id.is_not(None))
        .values(job_id=IngestClaim.previous_job_id, previous_job_id=None)
    )
    session.execute(delete(IngestClaim).where(IngestClaim.job_id == job_id))


# ------------------------------------------------------------------------------ the record carried over


@dataclass(frozen=True)
class Superseded:
    """What :func:`supersede` did, for the accession event."""

    aips: tuple[str, ...]  # the AIPs whose hồ sơ the new one replaced
    restrictions: int  # entries of the list of tài liệu tiếp cận có điều kiện carried over
    modes: int  # mức độ tiếp cận kept from the held record


def supersede(session: Session, new: Dossier, *, now: datetime, by: str) -> Superseded:
    """Make ``new`` the record the archive holds in place of the held hồ sơ with its code.

    What the archive decided about the record is not the submitter's to undo by sending it again:

    - every restriction in force (on the hồ sơ, and on each tài liệu matched by its ordinal) is
      entered again on the new record, with its own decision, date and reason;
    - every change of mức độ tiếp cận the archive decided (giải mật...) is entered again and its
      result stands; where the archive decided nothing, the stricter of the held and the
      re-submitted mode is kept (a re-submission never opens a record by itself);
    - the hồ sơ counts from when it first arrived (``received_at``), and the held row is kept with
      its AIP, marked ``superseded_by`` the new one: search and KPIs count the record once.

    Every current record with the code is replaced: a hồ sơ stored twice before re-submissions
    were recognised becomes one record again.
    """
    held = [d for d in held_dossiers(session, new.code) if d.id != new.id and d.aip_id != new.aip_id]
    restrictions = 0
    modes = 0
    for old in held:
        restrictions += _carry(session, old, new, old.id, new.id, None, None, now, by)
        modes += _mode(session, old, new, dossier=True)
        by_ordinal = {d.ordinal: d for d in new.documents}
        for old_doc in old.documents:
            new_doc = by_ordinal.get(old_doc.ordinal)
            if new_doc is None:
                continue
            restrictions += _carry(session, old_doc, new_doc, None, None, old_doc.id, new_doc.id, now, by)
            modes += _mode(session, old_doc, new_doc, dossier=False)
        new.received_at = min(new.received_at, old.received_at)
        old.superseded_by_id = new.id
    session.flush()
    return Superseded(tuple(sorted({d.aip_id for d in held})), restrictions, modes)


def _carry(
    session: Session,
    old: Dossier | Document,
    new: Dossier | Document,
    old_dossier: int | None,
    new_dossier: int | None,
    old_document: int | None,
    new_document: int | None,
    now: datetime,
    by: str,
) -> int:
    of_old = (
        AccessRestriction.dossier_id == old_dossier
        if old_dossier is not None
        else AccessRestriction.document_id == old_document
    )
    count = 0
    for r in session.scalars(select(AccessRestriction).where(of_old, AccessRestriction.lifted_on.is_(None))):
        session.add(
            AccessRestriction(
                dossier_id=new_dossier,
                document_id=new_document,
                decision_number=r.decision_number,
                decision_date=r.decision_date,
                reason=r.reason,
                review_date=r.review_date,
                recorded_at=now,
                recorded_by=f"{by} (restriction {r.id} of AIP {_aip_of(old)})",
                lifted_decision="",
                lifted_by="",
            )
        )
        count += 1
    return count


def _aip_of(record: Dossier | Document) -> str:
    return record.aip_id if isinstance(record, Dossier) else record.dossier.aip_id


def _mode(session: Session, old: Dossier | Document, new: Dossier | Document, *, dossier: bool) -> int:
    """Keep the held record's mức độ tiếp cận when the archive decided it, or when it is stricter."""
    of_old = AccessChange.dossier_id == old.id if dossier else AccessChange.document_id == old.id
    decided = list(session.scalars(select(AccessChange).where(of_old).order_by(AccessChange.id)))
    for change in decided:
        session.add(
            AccessChange(
                dossier_id=new.id if dossier else None,
                document_id=None if dossier else new.id,
                from_mode=change.from_mode,
                to_mode=change.to_mode,
                decision_number=change.decision_number,
                decision_date=change.decision_date,
                reason=change.reason,
                recorded_at=change.recorded_at,
                recorded_by=change.recorded_by,
            )
        )
    old_rank, new_rank = mode_rank(old.mode), mode_rank(new.mode)
    keep = bool(decided) or (old_rank is not None and (new_rank is None or old_rank > new_rank))
    if not keep or new.mode == old.mode:
        return 0
    new.mode = old.mode
    new.elements = {**new.elements, "mode": old.mode}  # a new dict: JSON columns track assignment
    return 1
