"""``kholuu ingest``: one submission, or a legacy export converted to one SIP per hồ sơ."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from entrypoints.cli.app import (
    App,
    current_app,
    handles_errors,
    main,
)
from entrypoints.cli.progress import TerminalProgress
from entrypoints.errors import (
    EXIT_REFUSED,
    EXIT_USAGE,
    exit_code,
)
from repository import __version__
from repository.catalog import queries
from repository.catalog.models import JobStatus

# --------------------------------------------------------------------------- ingest


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--allow-duplicate", is_flag=True, help="Store a payload even if it is already stored.")
@click.option(
    "--agency",
    "organ_id",
    default="",
    metavar="ORGAN_ID",
    help="Mã định danh of the sending agency (QĐ 20/2020), to file the hồ sơ under it.",
)
@click.option(
    "--transfer",
    "transfer_id",
    default="",
    metavar="ID",
    help="The received transfer (kholuu transfer receive) this package is: linked to the AIP once stored.",
)
@click.option(
    "--supersedes",
    "supersedes",
    default="",
    metavar="AIP_ID",
    help="The AIP holding the hồ sơ this package re-submits: the new AIP replaces that record and "
    "takes over its restrictions and access decisions (without it a held hồ sơ is refused).",
)
@handles_errors
def ingest(
    path: Path, as_json: bool, allow_duplicate: bool, organ_id: str, transfer_id: str, supersedes: str
) -> None:
    """Ingest the submission at PATH (folder, BagIt bag, E-ARK SIP, TT 05 SIP_hoso/SIP_tailieu;
    zip, tar, tar.gz). A folder holding an NĐ 30/2020 XML export or a mục lục spreadsheet is
    converted to one TT 05 SIP_hoso per hồ sơ, and each is ingested."""
    from workflows.ingest.legacy import detect
    from workflows.ingest.pipeline import IngestOptions

    app = current_app()
    app.json_output = as_json
    if not path.exists() and not path.is_symlink():
        app.fail(
            "package.not_found",
            f"submission not found: {path}",
            EXIT_USAGE,
            params={"path": str(path)},
            path=str(path),
        )
    if transfer_id:
        transfer_id, transfer_agency = _open_transfer(app, transfer_id)
        organ_id = organ_id or transfer_agency  # the transfer says whose records these are
    if organ_id:
        from repository.catalog.records_store import check_agency

        with app.sessions() as session:
            check_agency(session, organ_id)  # before anything is read: a typo must not cost an ingest
    if supersedes:
        with app.sessions() as session:
            supersedes = queries.resolve_aip_id(session, supersedes)  # a typo stops it here
    options = IngestOptions(
        allow_duplicate=allow_duplicate, organ_id=organ_id, transfer_id=transfer_id, supersedes=supersedes
    )
    if detect(path) is not None:
        _ingest_legacy(app, path, options, transfer_id)
        return
    result = _run_ingest(app, path, options)
    if result.status is JobStatus.COMPLETED:
        payload = _ingest_payload(result)
        if transfer_id:
            payload["transfer"] = transfer_id
        if as_json:
            app.emit(payload)
        else:
            _echo_stored(app, result)
        return
    _report_failure(app, result)


def _open_transfer(app: App, transfer_id: str) -> tuple[str, str]:
    """The full id of an undecided transfer and its agency's mã định danh, checked before anything
    is ingested."""
    from workflows.records import transfers as tr

    with app.sessions() as session:
        transfer = tr.get_transfer(session, transfer_id)
        if transfer.status in tr.DECIDED:
            app.fail(
                "transfer.already_decided",
                f"transfer {transfer.id} was already {transfer.status.value}",
                EXIT_REFUSED,
                params={
                    "transfer": transfer.id,
                    "status": transfer.status.value,
                    "decided_at": transfer.decided_at.isoformat() if transfer.decided_at else None,
                    "by": transfer.decided_by,
                },
            )
        return transfer.id, transfer.agency.organ_id if transfer.agency is not None else ""


def _run_ingest(app: App, path: Path, options: Any) -> Any:
    from workflows.ingest.pipeline import ingest as run_ingest

    show_bar = not app.json_output and sys.stderr.isatty()
    progress = TerminalProgress(sys.stderr) if show_bar else None
    return run_ingest(app.settings, app.sessions, path, options=options, progress=progress)


def _ingest_payload(result: Any) -> dict[str, Any]:
    return {
        "aip_id": result.aip_id,
        "status": "degraded" if result.pending else "stored",
        "job_id": result.job_id,
        "files": result.files,
        "bytes": result.bytes,
        "locations": result.locations,
        "pending": result.pending,
        "derivatives": result.derivatives,
        "conversions_failed": [
            {
                "file": c.source.name,
                "purpose": c.purpose.value,
                "outcome": c.outcome.value,
                "tool": c.tool_name,
                "message": c.message,
                "stderr": c.stderr,
            }
            for c in result.failed_conversions
        ],
        "events": [_event_json(e) for e in result.events],
    }


def _echo_stored(app: App, result: Any) -> None:
    t = app.t
    click.echo(
        t.text("cli.ingest.stored", {"aip_id": result.aip_id, "files": result.files, "bytes": result.bytes})
    )
    for name, obj in result.locations.items():
        click.echo(f"  {t.label('location')} {name}: {obj}")
    for name, reason in result.pending.items():
        click.echo(t.text("cli.ingest.pending", {"location": name, "reason": reason}), err=True)
    if result.derivatives:
        click.echo(t.text("cli.ingest.derivatives", {"count": result.derivatives}))
    for c in result.failed_conversions:
        why = t.text(c.message_code, c.message_params) if c.message_code else c.message
        click.echo(
            t.text(
                "cli.ingest.conversion_failed",
                {"purpose": t.text(f"policy.purpose.{c.purpose.value}", {}), "why": why},
            ),
            err=True,
        )


def _ingest_legacy(app: App, path: Path, options: Any, transfer_id: str = "") -> None:
    """Convert a legacy export (one SIP_hoso per hồ sơ) and ingest each; report every unmapped field."""
    import shutil
    import uuid as uuid_mod

    from preservation.errors import PreservationError
    from preservation.tt05.tables import shipped_tables as tt05_tables
    from workflows.ingest.legacy import convert_legacy

    t = app.t
    out = app.settings.conversion_dir / str(uuid_mod.uuid4())
    try:
        try:
            conversion = convert_legacy(
                path,
                out,
                tt05_tables(),
                software_version=__version__,
                intake=app.settings.records.intake_only_permanent,
            )
        except PreservationError as exc:
            if not app.json_output:
                for p in exc.params.get("problems", []):
                    text = t.text(p["code"], {**p, "path": p["path"]}, default=p["message"])
                    click.echo(f"  - [{p.get('dossier', '')}] {p['code']} {p['path']}: {text}", err=True)
            app.fail_with(exc)
        unmapped = [
            {"where": u.where, "field": u.field, "value": u.value, "reason": u.reason}
            for u in conversion.unmapped
        ]
        if transfer_id and len(conversion.sips) > 1:
            app.fail(
                "conversion.transfer_many",
                "a transfer tracks one package; this export holds several hồ sơ",
                EXIT_USAGE,
                params={"count": len(conversion.sips), "transfer": transfer_id},
            )
        if options.supersedes and len(conversion.sips) > 1:
            app.fail(
                "conversion.supersedes_many",
                "--supersedes names the AIP of one hồ sơ; this export holds several",
                EXIT_USAGE,
                params={"count": len(conversion.sips), "aip_id": options.supersedes},
            )
        if not app.json_output:
            click.echo(
                t.text(
                    "cli.ingest.legacy_text.converted",
                    {
                        "kind": conversion.kind,
                        "file": conversion.metadata_file,
                        "count": len(conversion.sips),
                    },
                )
            )
            if unmapped:
                click.echo(t.text("cli.ingest.legacy_text.unmapped", {"count": len(unmapped)}))
                for u in unmapped:
                    why = t.text(f"legacy.reason.{u['reason']}", default=u["reason"])
                    click.echo(f"  - {u['where']}: {u['field']} = {u['value']!r} ({why})")
        results = []
        failed = []
        for code, sip in zip(conversion.dossier_codes, conversion.sips, strict=True):
            origin = f"{path.resolve()} ({conversion.metadata_file}, {code})"
            result = _run_ingest(app, sip, dataclasses.replace(options, converted_from=origin))
            entry = {
                "dossier": code,
                **(
                    _ingest_payload(result)
                    if result.status is JobStatus.COMPLETED
                    else {
                        "status": result.status.value,
                        "job_id": result.job_id,
                        "errors": [
                            {
                                "code": r.code,
                                "path": r.path,
                                "message": t.text(
                                    r.code,
                                    {"message": r.message, **r.params, "path": r.path},
                                    default=r.message,
                                ),
                            }
                            for r in (result.error.records if result.error else [])
                        ],
                    }
                ),
            }
            results.append(entry)
            if result.status is JobStatus.COMPLETED:
                if not app.json_output:
                    click.echo(f"[{code}]")
                    _echo_stored(app, result)
            else:
                failed.append(entry)
                if not app.json_output:
                    click.echo(
                        f"[{code}] "
                        + t.text(
                            f"cli.ingest.{result.status.value}",
                            {"job_id": result.job_id, "step": result.error.step if result.error else ""},
                        ),
                        err=True,
                    )
                    for e in entry["errors"]:
                        click.echo(f"  - {e['code']} [{e['path'] or ''}]: {e['message']}", err=True)
        if app.json_output and not failed:
            app.emit(
                {
                    "legacy": conversion.kind,
                    "metadata_file": conversion.metadata_file,
                    "unmapped": unmapped,
                    "dossiers": results,
                }
            )
        if failed:
            app.fail(
                "conversion.dossiers_failed",
                f"{len(failed)} of {len(results)} hồ sơ were not stored",
                EXIT_REFUSED,
                params={"failed": len(failed), "total": len(results)},
                extra={"legacy": conversion.kind, "unmapped": unmapped, "dossiers": results},
            )
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _event_json(e: Any) -> dict[str, Any]:
    return {
        "identifier": e.identifier,
        "type": e.type.value,
        "datetime": e.datetime.isoformat(),
        "outcome": e.outcome.value,
        "detail": e.detail,
        "outcome_detail": e.outcome_detail,
        "agents": [a.identifier for a in e.agents],
        "objects": list(e.objects),
    }


def _report_failure(app: App, result: Any) -> NoReturn:
    from workflows.jobs.runner import StepFailed

    failure: StepFailed = result.error
    errors: list[dict[str, Any]] = [
        {
            "step": failure.step,
            "code": r.code,
            "message": app.t.text(
                r.code, {"message": r.message, **r.params, "path": r.path}, default=r.message
            ),
            "path": r.path,
            "tool": r.tool,
            "exit_code": r.exit_code,
            "stderr": r.stderr,
        }
        for r in failure.records
    ]
    extra = {
        "job_id": result.job_id,
        "status": result.status.value,
        "step": failure.step,
        "quarantine": result.quarantine,
        "errors": errors,
    }
    if not app.json_output:
        t = app.t
        click.echo(
            t.text(f"cli.ingest.{result.status.value}", {"job_id": result.job_id, "step": failure.step}),
            err=True,
        )
        for e in errors:
            where = f" [{e['path']}]" if e["path"] else ""
            tool = f" ({e['tool']}, exit {e['exit_code']})" if e["tool"] else ""
            click.echo(f"  - {e['code']}{where}{tool}: {e['message']}", err=True)
            if e["stderr"]:
                click.echo("    " + str(e["stderr"]).replace("\n", "\n    "), err=True)
        if result.quarantine:
            click.echo(t.text("cli.ingest.kept_in_quarantine", {"path": result.quarantine}), err=True)
    app.fail(
        failure.code,
        str(failure.cause),
        exit_code(failure),
        params=failure.params,
        path=failure.path,
        extra=extra,
    )
