"""Which agency's transfers an actor may see and act on: the one rule of the web app, the API
and the command line.

An agency's records officer (:attr:`repository.actor.Role.RECORDS_OFFICER`) sees and acts on
their own agency's transfers and plans only (issue 13): their account names the agency (the web
app, an API token), or on the command line ``kholuu --role records_officer --agency ORGAN_ID``
does. Lists are narrowed in the query, so another agency's items are neither shown nor counted;
asking for another agency by name is refused (``transfer.other_agency``); naming one of its
transfers or plans gets the answer for one that does not exist (``transfer.not_found``,
``transfer.plan_not_found``), so that a guessed id tells nothing. Every other role sees every
agency.
"""

from __future__ import annotations

from repository.actor import Actor, Role
from repository.catalog.records import Transfer, TransferPlan
from workflows.records.transfers import TransferError


def own_agency(actor: Actor) -> str | None:
    """The agency ``actor`` is limited to (its mã định danh), or None for every agency.

    Raises:
        TransferError: ``transfer.no_agency`` for a records officer whose actor names no agency
            (the command line run as ``--role records_officer`` without ``--agency``).
    """
    if actor.role is not Role.RECORDS_OFFICER:
        return None
    if not actor.agency:
        raise TransferError(
            "transfer.no_agency",
            "a records officer acts for one agency; none is named (kholuu --agency ORGAN_ID)",
            params={"role": actor.role.value},
        )
    return actor.agency


def narrow(actor: Actor, asked: str | None) -> str | None:
    """The agency a list is narrowed to: ``asked`` (None: every agency) for staff; the records
    officer's own agency, whatever was asked.

    Raises:
        TransferError: ``transfer.other_agency`` when a records officer asks for another agency;
            ``transfer.no_agency`` (see :func:`own_agency`).
    """
    own = own_agency(actor)
    if own is None:
        return asked
    if asked is not None and asked.strip() != own:
        raise TransferError(
            "transfer.other_agency",
            f"a records officer of {own} may not read {asked}'s transfers",
            params={"agency": own, "asked": asked},
        )
    return own


def check_transfer(actor: Actor, transfer: Transfer) -> Transfer:
    """``transfer`` when ``actor`` may see it; for a records officer of another agency the answer
    for a transfer that does not exist."""
    own = own_agency(actor)
    if own is not None and (transfer.agency is None or transfer.agency.organ_id != own):
        raise TransferError(
            "transfer.not_found", f"no transfer {transfer.id!r}", params={"transfer": transfer.id}
        )
    return transfer


def check_plan(actor: Actor, plan: TransferPlan) -> TransferPlan:
    """As :func:`check_transfer`, for a registered plan."""
    own = own_agency(actor)
    if own is not None and plan.agency.organ_id != own:
        raise TransferError(
            "transfer.plan_not_found", f"no transfer plan #{plan.id}", params={"plan": plan.id}
        )
    return plan


__all__ = ["check_plan", "check_transfer", "narrow", "own_agency"]
