"""AIP creation, the ingest step that turns a checked submission into a package in staging.

The package is written in the job's private staging folder and checked against E-ARK CSIP (and, for
a TT 05 package, its descriptions against our EAD XSDs and the AIP element tables) before anything
is stored; an AIP that breaks a requirement is never stored. A module of its own because it is the
step that knows the AIP profile, the agents and the facts file, none of which the rest of the
pipeline needs.
"""

from __future__ import annotations

from preservation.aip import AipInput, AipProfile, BuiltAip, build_aip
from preservation.characteristics import Characterization
from preservation.csip import validate_package
from preservation.errors import SchemaValidationError
from preservation.events import Agent, AgentType, Event, EventType, Outcome
from preservation.facts import PackageFacts, RecordsRegistration
from preservation.findings import Severity
from preservation.formats import FormatIdentification
from preservation.package import Submission
from repository import __version__
from repository.settings import Settings
from workflows.ingest import records as records_step
from workflows.jobs.envelope import SOFTWARE_NAME
from workflows.jobs.runner import StepContext


def build(
    ctx: StepContext,
    submission: Submission,
    formats: dict[str, FormatIdentification],
    characterizations: dict[str, list[Characterization]],
    aip_id: str,
    prepared: records_step.Prepared | None = None,
    *,
    organ_id: str = "",
    transfer_id: str = "",
) -> BuiltAip:
    """Write the AIP in the job's staging folder, then check it against CSIP ourselves (and, for a
    TT 05 package, its descriptions against our EAD XSDs and the AIP element tables).

    The package carries its facts file (``preservation.facts``) so that a catalog rebuilt from
    storage gets the package kind, container, submitted names, agency and transfer back as data."""
    staging = ctx.settings.work_dir / ctx.job_id / "aip"
    staging.mkdir(parents=True, exist_ok=True)
    built = build_aip(
        AipInput(
            aip_id=aip_id,
            submission=submission,
            formats=formats,
            characterizations={k: tuple(v) for k, v in characterizations.items()},
            events=tuple(ctx.events),
            agents=_agents(ctx),
            profile=_profile(ctx.settings),
            label=submission.label,
            extra_schemas=prepared.schemas if prepared is not None else (),
            facts=_facts(ctx, submission, aip_id, prepared, organ_id, transfer_id),
            link_files=True,  # quarantine and staging are the job's own (issue 14: no extra copy)
        ),
        staging,
    )
    ctx.record(built.creation_event)
    _check_built(ctx, built, aip_id, prepared)
    return built


def _profile(settings: Settings) -> AipProfile:
    """The AIP profile the settings configure, with this software as the package's creator."""
    p = settings.package
    return AipProfile(
        objid_template=p.objid_template,
        mets_profile=p.mets_profile,
        content_category=p.content_category,
        timezone=p.timezone,
        creator_name=SOFTWARE_NAME,
        creator_version=__version__,
    )


def _agents(ctx: StepContext) -> tuple[Agent, ...]:
    """Every agent of the job's events so far, once each, and the archive as an organisation."""
    organization = Agent(name=ctx.settings.archive.name, version="", type=AgentType.ORGANIZATION)
    agents: dict[str, Agent] = {}
    for event in ctx.events:
        for agent in event.agents:
            agents.setdefault(agent.identifier + agent.note, agent)
    agents.setdefault(organization.identifier, organization)
    return tuple(agents.values())


def _facts(
    ctx: StepContext,
    submission: Submission,
    aip_id: str,
    prepared: records_step.Prepared | None,
    organ_id: str,
    transfer_id: str,
) -> PackageFacts:
    """The package's facts file: what a catalog rebuilt from storage needs back as data."""
    return PackageFacts(
        aip_id=aip_id,
        job_id=ctx.job_id,
        source_name=submission.tree.source_name,
        package_kind=submission.kind.value,
        container=submission.tree.container.value,
        organ_id=organ_id,
        transfer_id=transfer_id,
        records=None
        if prepared is None
        else RecordsRegistration(
            source=prepared.archival.source.value,
            package_type=prepared.archival.package_type.value,
            description=prepared.archival.package.path,
            documents=len(prepared.archival.documents),
        ),
    )


def _check_built(
    ctx: StepContext, built: BuiltAip, aip_id: str, prepared: records_step.Prepared | None
) -> None:
    """Our own AIP checked against CSIP (and TT 05's tables), recorded as a validation event.

    Raises:
        SchemaValidationError: ``aip.not_conformant``: the AIP we built breaks a requirement.
    """
    findings = validate_package(built.folder, expected_type="AIP")
    if prepared is not None:
        findings += records_step.check_archival(built.folder, prepared.archival, records_step.tables_for(ctx))
    errors = [f for f in findings if f.severity is Severity.ERROR]
    ctx.record(
        Event(
            type=EventType.VALIDATION,
            outcome=Outcome.FAILURE if errors else Outcome.SUCCESS,
            detail="AIP checked against E-ARK CSIP 2.0.4 requirements, METS 1.12 and PREMIS 3 schemas"
            + (
                ", and its TT 05 descriptions against Kho Lưu's EAD XSDs and the AIP element tables"
                if prepared
                else ""
            ),
            outcome_detail="\n".join(f"{f.code} {f.where}: {f.message}" for f in findings) or "no findings",
            detail_code="ingest.aip_validated_tt05" if prepared else "ingest.aip_validated",
            agents=(ctx.software,),
            objects=(aip_id,),
        )
    )
    if errors:
        raise SchemaValidationError(
            f"the AIP we built breaks {len(errors)} CSIP requirement(s), first {errors[0].code}: "
            f"{errors[0].message}",
            code="aip.not_conformant",
            params={"problems": [{"code": f.code, "path": f.where, "message": f.message} for f in errors]},
        )
