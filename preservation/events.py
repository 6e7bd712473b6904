"""PREMIS 3 events and agents as typed records.

Every preservation action declares its event as part of its contract (style guide item 8). The
event types are the labels of the Library of Congress preservation vocabulary
(https://id.loc.gov/vocabulary/preservation/eventType), which PREMIS 3 recommends for
``eventType``; TT 05/2025 uses the same vocabulary (vn-standards.md §2.3).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """The LoC eventType labels we record. Values are the vocabulary's preferred labels."""

    INGESTION_START = "ingestion start"
    QUARANTINE = "quarantine"
    UNPACKING = "unpacking"
    VIRUS_CHECK = "virus check"
    MESSAGE_DIGEST_CALCULATION = "message digest calculation"
    FIXITY_CHECK = "fixity check"
    FORMAT_IDENTIFICATION = "format identification"
    VALIDATION = "validation"
    METADATA_EXTRACTION = "metadata extraction"
    METADATA_MODIFICATION = "metadata modification"
    INFORMATION_PACKAGE_CREATION = "information package creation"
    REPLICATION = "replication"
    RECOVERY = "recovery"
    ACCESSION = "accession"
    INGESTION_END = "ingestion end"
    DISSEMINATION = "dissemination"  # a copy made for use outside the repository (export, DIP)
    NORMALIZATION = "normalization"  # a preservation or access copy made at ingest (docs/planning.md)
    MIGRATION = "migration"  # a new copy made later because the format policy changed

    @property
    def uri(self) -> str:
        """The vocabulary URI, for ``eventType/@valueURI``."""
        return _EVENT_TYPE_URIS[self]


_EVENT_TYPE_URIS: dict[EventType, str] = {
    EventType.INGESTION_START: "https://id.loc.gov/vocabulary/preservation/eventType/ine",
    EventType.QUARANTINE: "https://id.loc.gov/vocabulary/preservation/eventType/qua",
    EventType.UNPACKING: "https://id.loc.gov/vocabulary/preservation/eventType/unp",
    EventType.VIRUS_CHECK: "https://id.loc.gov/vocabulary/preservation/eventType/vir",
    EventType.MESSAGE_DIGEST_CALCULATION: "https://id.loc.gov/vocabulary/preservation/eventType/mes",
    EventType.FIXITY_CHECK: "https://id.loc.gov/vocabulary/preservation/eventType/fix",
    EventType.FORMAT_IDENTIFICATION: "https://id.loc.gov/vocabulary/preservation/eventType/for",
    EventType.VALIDATION: "https://id.loc.gov/vocabulary/preservation/eventType/val",
    EventType.METADATA_EXTRACTION: "https://id.loc.gov/vocabulary/preservation/eventType/mee",
    EventType.METADATA_MODIFICATION: "https://id.loc.gov/vocabulary/preservation/eventType/mem",
    EventType.INFORMATION_PACKAGE_CREATION: "https://id.loc.gov/vocabulary/preservation/eventType/ipc",
    EventType.REPLICATION: "https://id.loc.gov/vocabulary/preservation/eventType/rep",
    EventType.RECOVERY: "https://id.loc.gov/vocabulary/preservation/eventType/rec",
    EventType.ACCESSION: "https://id.loc.gov/vocabulary/preservation/eventType/acc",
    EventType.INGESTION_END: "https://id.loc.gov/vocabulary/preservation/eventType/ing",
    EventType.DISSEMINATION: "https://id.loc.gov/vocabulary/preservation/eventType/dis",
    EventType.NORMALIZATION: "https://id.loc.gov/vocabulary/preservation/eventType/nor",
    EventType.MIGRATION: "https://id.loc.gov/vocabulary/preservation/eventType/mig",
}


class Outcome(StrEnum):
    """``eventOutcome`` values. ``WARNING`` is for success with remarks (e.g. a PDF that opens
    but has syntax problems); "could not check" is a failure with an outcome detail saying so."""

    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


class AgentType(StrEnum):
    """``agentType`` values from the LoC agentType vocabulary."""

    SOFTWARE = "software"
    ORGANIZATION = "organization"
    PERSON = "person"


@dataclass(frozen=True)
class Agent:
    """A PREMIS agent: for software, the tool and its exact version (and signature database)."""

    name: str
    version: str
    type: AgentType = AgentType.SOFTWARE
    note: str = ""

    @property
    def identifier(self) -> str:
        """A stable local identifier, ``name/version``, used for ``linkingAgentIdentifier``."""
        return f"{self.name}/{self.version}" if self.version else self.name


def new_event_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Event:
    """A PREMIS event.

    Attributes:
        type: the event type.
        outcome: success, warning or failure.
        detail: what was done (``eventDetail``), in English; stable across runs of the same tool.
            It stays in the PREMIS for readers of the XML; a display reads ``detail_code``.
        detail_code: the same, language-neutral: a key of the message catalogs' ``[event]``
            section (``audit.fixity_passed`` → ``event.audit.fixity_passed``), so a user reads the
            event in Vietnamese; empty for events recorded before codes existed (they show
            ``detail``).
        detail_params: the values that text interpolates. Kept as strings (what PREMIS and the
            catalog's JSON give back), so an event read back from storage equals the one written.
        outcome_detail: what came out (``eventOutcomeDetailNote``), e.g. a digest or a finding list.
        agents: who did it: the tool with its version.
        objects: identifiers (file UUIDs, or the package id) of the objects the event is about.
        identifier: UUID of the event.
        datetime: when it happened, timezone-aware.
    """

    type: EventType
    outcome: Outcome
    detail: str
    agents: tuple[Agent, ...]
    objects: tuple[str, ...] = ()
    outcome_detail: str = ""
    identifier: str = field(default_factory=new_event_id)
    datetime: datetime = field(default_factory=now)
    detail_code: str = ""
    detail_params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail_params", {str(k): str(v) for k, v in self.detail_params.items()})
        if self.datetime.tzinfo is None:
            raise ValueError("PREMIS event datetimes must carry a time zone")
