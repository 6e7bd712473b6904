"""What a PREMIS 3 document read back holds: frozen records, one per PREMIS entity.

:mod:`preservation.premis_read` parses a document into these (and re-exports them); they are kept
apart so that the records, and how events are rebuilt from them, read on their own. The fields
follow the PREMIS 3 Data Dictionary: objects (§1), events (§2), agents (§3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from preservation.characteristics import PropertyValue
from preservation.errors import PreservationError
from preservation.events import Agent, AgentType, Event, EventType, Outcome


class PremisReadError(PreservationError):
    """A PREMIS file is not one we can read back: not XML, not PREMIS 3, or missing what we write.

    ``path`` is the file (as named by the caller, e.g. its path in the AIP) and ``params["problem"]``
    says what is wrong.
    """

    code = "premis.invalid"

    def __init__(self, where: str, problem: str, *, code: str | None = None) -> None:
        super().__init__(f"{where}: {problem}", code=code, path=where, params={"problem": problem})
        self.problem = problem


@dataclass(frozen=True)
class FindingRecord:
    """A validator finding as PREMIS keeps it (its ``where`` and ``params`` are not written)."""

    code: str
    severity: str
    message: str


@dataclass(frozen=True)
class CharacterizationRecord:
    """One ``kl:characterization`` of ``objectCharacteristicsExtension``.

    Attributes:
        agent: the validator's agent identifier (``name/version``).
        properties: typed again (``int``, ``float``, ``bool``, ``str``) from the ``type`` attribute.
    """

    validator: str
    validity: str
    agent: str
    properties: dict[str, PropertyValue] = field(default_factory=dict)
    findings: tuple[FindingRecord, ...] = ()


@dataclass(frozen=True)
class FileRecord:
    """A PREMIS file object (PREMIS 3 §1, ``xsi:type="premis:file"``).

    Attributes:
        aip_path: the ``local`` object identifier: the file's path inside the AIP.
        puid: the PRONOM ``formatRegistryKey``; ``"unidentified"`` when the format name says so
            and no registry entry is given; None when the object has no format at all.
        format_name: ``formatName``, None when absent or ``"unidentified"``.
        format_note: ``formatNote`` as written (see :func:`identification_basis`).
        identified_by: the agent named by ``identified by <agent>`` at the start of the note.
        original_name: ``originalName``: the submitted name as text (NFD stays NFD).
        representation_uuid: the UUID of the representation the file ``is included in``.
        derived_from: for a preservation or access copy, the UUID of the file it was made from.
    """

    uuid: str
    aip_path: str
    size: int
    sha256: str
    sha512: str
    puid: str | None
    format_name: str | None
    format_version: str | None
    format_note: str
    identified_by: str | None
    original_name: str
    representation_uuid: str | None
    characterizations: tuple[CharacterizationRecord, ...] = ()
    derived_from: str = ""  # a derivative's source file (relationship derivation / has source)


@dataclass(frozen=True)
class RepresentationRecord:
    """A representation object: its UUID, name (``originalName``) and the entity it belongs to."""

    uuid: str
    name: str
    entity: str | None


@dataclass(frozen=True)
class EntityRecord:
    """The intellectual entity: the AIP id and its label (``originalName``)."""

    identifier: str
    label: str


@dataclass(frozen=True)
class EventRecord:
    """A PREMIS event (PREMIS 3 §2). ``agents`` are ``linkingAgentIdentifierValue``s;
    ``detail_code`` and ``detail_params`` come from our ``kholuu:detail`` extension (empty when the
    event has none: written before codes existed)."""

    identifier: str
    type: str
    datetime: datetime
    outcome: str
    detail: str
    outcome_detail: str
    agents: tuple[str, ...]
    objects: tuple[str, ...]
    detail_code: str = ""
    detail_params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentRecord:
    """A PREMIS agent (PREMIS 3 §3). ``identifier`` is the key events link to."""

    identifier: str
    name: str
    type: str
    version: str
    note: str


@dataclass(frozen=True)
class PremisRecords:
    """Everything one PREMIS document says, in document order."""

    where: str
    entity: EntityRecord | None
    representations: tuple[RepresentationRecord, ...]
    files: tuple[FileRecord, ...]
    events: tuple[EventRecord, ...]
    agents: tuple[AgentRecord, ...]

    def to_events(self) -> list[Event]:
        """The events as :class:`preservation.events.Event`, their agents resolved.

        Raises:
            PremisReadError: an event type, outcome or agent type outside our vocabularies, or a
                link to an agent the document does not describe.
        """
        agents = {a.identifier: a for a in self.agents}
        out: list[Event] = []
        for e in self.events:
            try:
                linked = tuple(_agent(agents[key]) for key in e.agents)
            except KeyError as exc:
                raise PremisReadError(
                    self.where, f"event {e.identifier} links agent {exc.args[0]!r}, which is not described"
                ) from None
            except ValueError as exc:
                raise PremisReadError(self.where, f"event {e.identifier}: {exc}") from None
            try:
                event_type, outcome = EventType(e.type), Outcome(e.outcome)
            except ValueError as exc:
                raise PremisReadError(self.where, f"event {e.identifier}: {exc}") from None
            out.append(
                Event(
                    type=event_type,
                    outcome=outcome,
                    detail=e.detail,
                    agents=linked,
                    objects=e.objects,
                    outcome_detail=e.outcome_detail,
                    identifier=e.identifier,
                    datetime=e.datetime,
                    detail_code=e.detail_code,
                    detail_params=e.detail_params,
                )
            )
        return out


def _agent(record: AgentRecord) -> Agent:
    return Agent(name=record.name, version=record.version, type=AgentType(record.type), note=record.note)
