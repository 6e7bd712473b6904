"""``kholuu``: the command line of Kho Lưu.

Data folder: ``--home DIR``, else ``$KHOLUU_HOME``, else ``./kholuu-data``. With ``--json`` a command
prints exactly one JSON object on stdout (errors too) and nothing else; progress and human text go
to stderr. Exit codes: 0 done; 1 failed (a tool, the system, or a verification failed); 2 usage or
configuration error; 3 refused (the submission is not acceptable); 4 not found.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar, cast
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from repository import __version__
from repository.catalog import queries
from repository.catalog.db import CatalogError, check_current, make_engine, session_factory, upgrade
from repository.catalog.models import JobStatus
from repository.i18n import Translator
from repository.progress import TerminalProgress
from repository.reports.fixity import ReportError
from repository.settings import Settings, SettingsError, load_settings, resolve_home
from repository.storage.errors import NotFound as StorageNotFound
from repository.storage.errors import StorageError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_NOT_FOUND = 4

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class App:
    """Per-invocation state: built once at the entry point and passed to commands."""

    home_option: str | None
    language_option: str | None
    json_output: bool = False

    @cached_property
    def settings(self) -> Settings:
        overrides = {"ui": {"language": self.language_option}} if self.language_option else None
        return load_settings(self.home_option, overrides=overrides)

    @cached_property
    def t(self) -> Translator:
        try:
            return Translator(self.settings.ui.language)
        except SettingsError:
            return Translator(self.language_option or "vi")

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        check_current(self.engine, where=self.settings.home)
        return session_factory(self.engine)

    def emit(self, payload: dict[str, Any]) -> None:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))

    def fail(
        self,
        code: str,
        message: str,
        exit_code: int,
        *,
        params: dict[str, Any] | None = None,
        path: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> NoReturn:
        text = self.t.text(code, params or {}, default=message)
        if self.json_output:
            self.emit(
                {
                    "error": {"code": code, "message": text, "path": path, "params": params or {}},
                    **(extra or {}),
                }
            )
        else:
            click.echo(f"{self.t.label('error')}: {text}", err=True)
        raise SystemExit(exit_code)


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Map domain errors to messages and exit codes in one place (style guide item 14)."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        app = click.get_current_context().find_object(App)
        assert app is not None
        try:
            return fn(*args, **kwargs)
        except SettingsError as exc:
            app.fail(exc.code, str(exc), EXIT_USAGE, params=exc.params)
        except CatalogError as exc:
            app.fail(exc.code, str(exc), EXIT_USAGE, params=exc.params)
        except queries.NotFoundError as exc:
            app.fail(exc.code, str(exc), EXIT_NOT_FOUND, params=exc.params)
        except ReportError as exc:
            app.fail(exc.code, str(exc), EXIT_FAILED, params=exc.params)
        except StorageError as exc:
            exit_code = EXIT_NOT_FOUND if isinstance(exc, StorageNotFound) else EXIT_FAILED
            if exc.code == "storage.bad_option":
                exit_code = EXIT_USAGE
            app.fail(exc.code, str(exc), exit_code, params=exc.params, path=exc.key)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home", "home", metavar="DIR", help="Data folder (default: $KHOLUU_HOME, else ./kholuu-data)."
)
@click.option("--lang", "language", type=click.Choice(["vi", "en"]), help="Language of messages.")
@click.version_option(__version__, prog_name="kholuu")
@click.pass_context
def main(ctx: click.Context, home: str | None, language: str | None) -> None:
    """Kho Lưu — kho lưu trữ số: ingest, store and verify archival packages."""
    ctx.obj = App(home_option=home, language_option=language)


def _app() -> App:
    app = click.get_current_context().find_object(App)
    assert app is not None
    return app


# --------------------------------------------------------------------------- init


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def init(as_json: bool) -> None:
    """Create the data folder, the catalog (or upgrade it) and the storage roots."""
    from repository.storage.locations import open_location as open_locations_one
    from repository.storage.locations import open_locations

    app = _app()
    app.json_output = as_json
    settings = app.settings
    settings.home.mkdir(parents=True, exist_ok=True)
    for d in (settings.quarantine_dir, settings.work_dir):
        d.mkdir(parents=True, exist_ok=True)
    if not settings.config_file.exists():
        settings.config_file.write_text(_CONFIG_TEMPLATE, encoding="utf-8")
    revision = upgrade(app.engine)
    locations = open_locations(settings)
    problems: dict[str, StorageError] = {}
    for loc in settings.storage.locations:
        try:
            created = open_locations_one(settings, loc.name)
            created.store.initialize()
        except StorageError as exc:  # e.g. S3 down: the catalog is ready, the location is not
            problems[loc.name] = exc
    payload: dict[str, Any] = {
        "home": str(settings.home),
        "catalog": settings.database_url if not settings.catalog.url else _safe_url(settings.database_url),
        "schema_revision": revision,
        "locations": [
            {
                "name": loc.name,
                "role": loc.role,
                "root": loc.describe(),
                "ready": loc.name not in problems,
                "problem": {"code": problems[loc.name].code, "message": str(problems[loc.name])}
                if loc.name in problems
                else None,
            }
            for loc in locations
        ],
    }
    if as_json:
        app.emit(payload)
    else:
        t = app.t
        click.echo(t.text("cli.init.done", {"home": settings.home}))
        click.echo(f"  {t.label('catalog')}: {payload['catalog']} ({revision})")
        for loc in payload["locations"]:
            click.echo(f"  {t.label('location')} {loc['name']} ({loc['role']}): {loc['root']}")
            if loc["problem"]:
                problem = loc["problem"]
                text = t.text(problem["code"], {"location": loc["name"]}, default=problem["message"])
                click.echo(f"    {t.label('error')}: {text}", err=True)
    if any(name for name in problems if any(x.name == name and x.required for x in locations)):
        raise SystemExit(EXIT_FAILED)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


_CONFIG_TEMPLATE = """\
# Kho Lưu settings for this data folder. Every key, with its default and the reason it exists,
# is in config/defaults.toml of the program; copy the ones you change here. Unknown keys are
# refused at start.
"""


# --------------------------------------------------------------------------- ingest


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--allow-duplicate", is_flag=True, help="Store a payload even if it is already stored.")
@handles_errors
def ingest(path: Path, as_json: bool, allow_duplicate: bool) -> None:
    """Ingest the submission at PATH (folder, BagIt bag, E-ARK SIP; zip, tar, tar.gz)."""
    from workflows.ingest import IngestOptions
    from workflows.ingest import ingest as run_ingest

    app = _app()
    app.json_output = as_json
    if not path.exists() and not path.is_symlink():
        app.fail(
            "package.not_found",
            f"submission not found: {path}",
            EXIT_USAGE,
            params={"path": str(path)},
            path=str(path),
        )
    show_bar = not as_json and sys.stderr.isatty()
    progress = TerminalProgress(sys.stderr) if show_bar else None
    result = run_ingest(
        app.settings,
        app.sessions,
        path,
        options=IngestOptions(allow_duplicate=allow_duplicate),
        progress=progress,
    )
    if result.status is JobStatus.COMPLETED:
        payload = {
            "aip_id": result.aip_id,
            "status": "degraded" if result.pending else "stored",
            "job_id": result.job_id,
            "files": result.files,
            "bytes": result.bytes,
            "locations": result.locations,
            "pending": result.pending,
            "events": [_event_json(e) for e in result.events],
        }
        if as_json:
            app.emit(payload)
        else:
            t = app.t
            click.echo(
                t.text(
                    "cli.ingest.stored",
                    {"aip_id": result.aip_id, "files": result.files, "bytes": result.bytes},
                )
            )
            for name, obj in result.locations.items():
                click.echo(f"  {t.label('location')} {name}: {obj}")
            for name, reason in result.pending.items():
                click.echo(t.text("cli.ingest.pending", {"location": name, "reason": reason}), err=True)
        return
    _report_failure(app, result)


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
    from workflows.runner import StepFailed

    failure: StepFailed = result.error
    cause = failure.cause
    code = str(getattr(cause, "code", "internal.error"))
    params = dict(getattr(cause, "params", {}) or {})
    path = getattr(cause, "path", None)
    exit_code = EXIT_REFUSED if result.status is JobStatus.REFUSED else EXIT_FAILED
    errors: list[dict[str, Any]] = [
        {
            "step": failure.step,
            "code": r.code,
            "message": app.t.text(r.code, {**r.params, "path": r.path}, default=r.message),
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
    app.fail(code, str(cause), exit_code, params=params, path=path, extra=extra)


# --------------------------------------------------------------------------- aip


@main.group()
def aip() -> None:
    """Archival packages: list, show, verify, fetch."""


@aip.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_list(as_json: bool) -> None:
    """List the stored AIPs."""
    app = _app()
    app.json_output = as_json
    with app.sessions() as session:
        rows = queries.aip_list(session)
    if as_json:
        app.emit({"aips": rows, "count": len(rows)})
        return
    t = app.t
    if not rows:
        click.echo(t.text("cli.aip.none"))
    for r in rows:
        click.echo(
            f"{r['aip_id']}  {r['status']:<8} {r['files']:>6} {t.label('files')} "
            f"{r['bytes']:>12} B  {r['label']}"
        )


@aip.command("show")
@click.argument("aip_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_show(aip_id: str, as_json: bool) -> None:
    """Show an AIP: its files (path, size, SHA-256, PUID, format) and its PREMIS events."""
    app = _app()
    app.json_output = as_json
    with app.sessions() as session:
        detail = queries.aip_detail(session, queries.resolve_aip_id(session, aip_id))
    if as_json:
        app.emit(detail)
        return
    t = app.t
    click.echo(f"{detail['aip_id']}  {detail['status']}  {detail['label']}")
    click.echo(
        f"  {t.label('source')}: {detail['source_name']} ({detail['package_kind']}, {detail['container']})"
    )
    for c in detail["copies"]:
        click.echo(
            f"  {t.label('location')} {c['location']} v{c['version']}: {c['status']} {c['object_path']}"
        )
    click.echo(f"  {t.label('files')}:")
    for f in detail["files"]:
        if f["role"] != "original":
            continue
        fmt = f"{f['puid']} {f['format_name'] or ''} {f['format_version'] or ''}".strip()
        click.echo(f"    {f['path']}  {f['size']} B  sha256:{f['sha256']}  {fmt}  [{f['validity']}]")
    click.echo(f"  {t.label('events')}: {len(detail['events'])}")
    for e in detail["events"]:
        if len(e["objects"]) == 1 and e["objects"][0] != detail["aip_id"]:
            continue  # per-file events: see --json
        click.echo(f"    {e['datetime']}  {e['type']:<30} {e['outcome']:<8} {e['detail']}")


@aip.command("verify")
@click.argument("aip_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_verify(aip_id: str, as_json: bool) -> None:
    """Re-read every stored copy of an AIP and compare with the recorded digests."""
    from workflows.verify import verify_aip

    app = _app()
    app.json_output = as_json
    with app.sessions() as session:
        resolved = queries.resolve_aip_id(session, aip_id)
    report = verify_aip(app.settings, app.sessions, resolved)
    if as_json:
        app.emit(report.as_dict())
    else:
        t = app.t
        click.echo(t.text("cli.verify.ok" if report.ok else "cli.verify.failed", report.as_dict()))
        for loc in report.locations:
            state = "OK" if not loc.problems else f"{len(loc.problems)} {t.label('problems')}"
            click.echo(
                f"  {t.label('location')} {loc.name}: {loc.files} {t.label('files')}, {loc.bytes} B — {state}"
            )
            for p in loc.problems:
                click.echo(f"    - {p['code']} {p['path']}: {p['message']}")
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


@aip.command("fetch")
@click.argument("aip_id")
@click.option(
    "--out", "out", required=True, type=click.Path(path_type=Path), help="Folder to copy the AIP into."
)
@click.option("--version", "version", type=int, default=None, help="OCFL version (default: the latest).")
@click.option("--location", "location", default=None, help="Storage location to read from.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_fetch(aip_id: str, out: Path, version: int | None, location: str | None, as_json: bool) -> None:
    """Copy the stored AIP folder out to OUT/<AIP folder>, verifying every file."""
    from workflows.retrieve import RetrieveError, fetch_aip

    app = _app()
    app.json_output = as_json
    with app.sessions() as session:
        resolved = queries.resolve_aip_id(session, aip_id)
    try:
        result = fetch_aip(app.settings, app.sessions, resolved, out, version=version, location=location)
    except RetrieveError as exc:
        app.fail(exc.code, str(exc), EXIT_FAILED, params=exc.params, path=exc.path)
    if as_json:
        app.emit(result)
    else:
        click.echo(app.t.text("cli.fetch.done", result))


@aip.command("add-metadata")
@click.argument("aip_id")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--reason", default="", help="Why the metadata is added (kept in the PREMIS event).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_add_metadata(aip_id: str, file: Path, reason: str, as_json: bool) -> None:
    """Add FILE as descriptive metadata: a new AIP version; earlier versions stay unchanged."""
    from preservation.errors import PreservationError
    from workflows.update import UpdateError, add_metadata

    app = _app()
    app.json_output = as_json
    with app.sessions() as session:
        resolved = queries.resolve_aip_id(session, aip_id)
    try:
        result = add_metadata(app.settings, app.sessions, resolved, file, reason=reason)
    except UpdateError as exc:
        app.fail(exc.code, str(exc), EXIT_FAILED, params=exc.params)
    except PreservationError as exc:
        app.fail(exc.code, str(exc), EXIT_USAGE, params=exc.params, path=str(file))
    if as_json:
        app.emit(result.as_dict())
    else:
        click.echo(app.t.text("cli.aip.updated", result.as_dict()))
        for name, reason_text in result.pending.items():
            click.echo(app.t.text("cli.ingest.pending", {"location": name, "reason": reason_text}), err=True)


# --------------------------------------------------------------------------- job


@main.group()
def job() -> None:
    """Ingest jobs: what ran, what failed and why."""


@job.command("list")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def job_list(status: str | None, as_json: bool) -> None:
    """List recent jobs, newest first."""
    app = _app()
    app.json_output = as_json
    with app.sessions() as session:
        rows = queries.job_list(session, status=JobStatus(status) if status else None)
    if as_json:
        app.emit({"jobs": rows, "count": len(rows)})
        return
    for r in rows:
        tail = r["aip_id"] or (f"{r['error_code']} ({r['errors']})" if r["error_code"] else "")
        click.echo(f"{r['job_id']}  {r['status']:<11} {r['started_at']}  {r['source']}  {tail}")


@job.command("show")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def job_show(job_id: str, as_json: bool) -> None:
    """Show a job: its steps, and for a failed job every error record (file, tool, exit code, stderr)."""
    app = _app()
    app.json_output = as_json
    with app.sessions() as session:
        detail = queries.job_detail(session, queries.resolve_job_id(session, job_id))
    if as_json:
        app.emit(detail)
        return
    t = app.t
    click.echo(f"{detail['job_id']}  {detail['status']}  {detail['source']}")
    if detail["aip_id"]:
        click.echo(f"  AIP: {detail['aip_id']}")
    if detail["error"]:
        err = detail["error"]
        click.echo(f"  {t.label('error')}: {t.text(err['code'], err['params'], default=err['message'])}")
    for s in detail["steps"]:
        click.echo(f"  {s['status']:<8} {s['name']}")
    for e in detail["errors"]:
        where = f" [{e['path']}]" if e["path"] else ""
        tool = f" ({e['tool']}, exit {e['exit_code']})" if e["tool"] else ""
        click.echo(
            f"  - {e['code']}{where}{tool}: "
            + t.text(e["code"], {**e["params"], "path": e["path"]}, default=e["message"])
        )
        if e["stderr"]:
            click.echo("    " + e["stderr"].replace("\n", "\n    "))
    if detail["quarantine"]:
        click.echo(f"  {t.label('quarantine')}: {detail['quarantine']}")


@job.command("clean")
@click.argument("job_id")
@handles_errors
def job_clean(job_id: str) -> None:
    """Delete the quarantine copy kept for a failed or refused job."""
    import shutil

    from repository.catalog.models import Job

    app = _app()
    with app.sessions.begin() as session:
        row = session.get(Job, queries.resolve_job_id(session, job_id))
        assert row is not None
        if row.status is JobStatus.RUNNING:
            app.fail(
                "cli.job.running", f"job {row.id} is still running", EXIT_USAGE, params={"job_id": row.id}
            )
        if row.quarantine_path:
            shutil.rmtree(row.quarantine_path, ignore_errors=True)
            row.quarantine_path = None
    click.echo(app.t.text("cli.job.cleaned", {"job_id": job_id}))


# --------------------------------------------------------------------------- storage


@main.group()
def storage() -> None:
    """Storage locations: list, check, add, sync queued copies."""


@storage.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def storage_list(as_json: bool) -> None:
    """The configured locations and how many AIP copies the catalog has in each."""
    from repository.storage.locations import open_locations

    app = _app()
    app.json_output = as_json
    with app.sessions() as session:
        counts = queries.copy_counts(session)
    rows: list[dict[str, Any]] = [
        {
            "name": loc.name,
            "role": loc.role,
            "backend": loc.config.backend,
            "required": loc.required,
            "root": loc.describe(),
            "copies": counts.get(loc.name, {}),
        }
        for loc in open_locations(app.settings)
    ]
    if as_json:
        app.emit({"locations": rows})
        return
    t = app.t
    for r in rows:
        need = t.label("required") if r["required"] else t.label("optional")
        copies = ", ".join(f"{n} {status}" for status, n in sorted(r["copies"].items())) or "0"
        click.echo(f"{r['name']:<12} {r['role']:<8} {r['backend']:<6} {need:<10} {r['root']}  [{copies}]")


@storage.command("check")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def storage_check(name: str | None, as_json: bool) -> None:
    """Test each location (or NAME): reachable, OCFL root ours, write/read/delete probe, debris."""
    from repository.storage.health import check_location
    from repository.storage.locations import open_locations

    app = _app()
    app.json_output = as_json
    locations = [loc for loc in open_locations(app.settings) if name is None or loc.name == name]
    if name is not None and not locations:
        app.fail("storage.location_unknown", f"no storage location {name!r}", EXIT_NOT_FOUND,
                 params={"location": name})  # fmt: skip
    reports = [check_location(loc) for loc in locations]
    failed = any(not r.ok and (r.required or name is not None) for r in reports)
    if as_json:
        app.emit({"ok": not failed, "locations": [r.as_dict() for r in reports]})
    else:
        t = app.t
        for r in reports:
            state = "OK" if r.ok else t.label("error")
            probe = f", probe {r.probe_ms} ms" if r.probe_ms is not None else ""
            objects = f", {r.objects} AIP" if r.objects is not None else ""
            click.echo(f"{r.name} ({r.backend}, {r.role}): {state}{objects}{probe}  {r.root}")
            for p in r.problems:
                click.echo(
                    f"  - {p['code']}: {t.text(p['code'], {'location': r.name}, default=p['message'])}"
                )
                click.echo(f"    {p['message']}")
            for kind, items in r.debris.items():
                click.echo(f"  ! {kind}: {', '.join(items[:5])}{' ...' if len(items) > 5 else ''}")
    if failed:
        raise SystemExit(EXIT_FAILED)


@storage.command("add")
@click.argument("name")
@click.option("--backend", type=click.Choice(["local", "s3"]), required=True)
@click.option("--role", type=click.Choice(["primary", "replica", "offline"]), default="replica")
@click.option("--optional", "optional", is_flag=True, help="Not required for an AIP to count as stored.")
@click.option("--path", default="", help="local: the folder (relative to the data folder if relative).")
@click.option("--endpoint", default="", help="s3: endpoint URL (empty: AWS).")
@click.option("--bucket", default="", help="s3: bucket.")
@click.option("--prefix", default="", help="s3: key prefix inside the bucket.")
@click.option("--region", default="us-east-1", help="s3: signing region.")
@click.option("--profile", default="", help="s3: profile in the credentials file.")
@click.option("--credentials-file", default="", help="s3: credentials file (default ~/.aws/credentials).")
@click.option("--ca-bundle", default="", help="s3: CA bundle for a private certificate authority.")
@click.option("--no-verify-tls", is_flag=True, help="s3: do not check the TLS certificate (tests only).")
@click.option("--object-lock-mode", type=click.Choice(["", "GOVERNANCE", "COMPLIANCE"]), default="")
@click.option("--object-lock-days", type=int, default=0)
@click.option("--part-size-mb", type=int, default=16)
@click.option("--create-bucket", is_flag=True, help="s3: create the bucket if it does not exist.")
@click.option("--no-fill", is_flag=True, help="Do not queue copies of the AIPs already stored.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def storage_add(
    name: str, as_json: bool, no_fill: bool, optional: bool, no_verify_tls: bool, **fields: Any
) -> None:
    """Add a location to this data folder's kholuu.toml, test it, and queue copies of every AIP.

    The queued copies are written by `kholuu storage sync`; until then AIPs are degraded if the
    new location is required.
    """
    from repository.settings import StorageLocation
    from repository.storage.health import check_location
    from repository.storage.locations import open_locations
    from workflows.replication import queue_copies

    app = _app()
    app.json_output = as_json
    settings = app.settings
    if any(loc.name == name for loc in settings.storage.locations):
        app.fail("storage.location_exists", f"a location {name!r} exists already", EXIT_USAGE,
                 params={"location": name})  # fmt: skip
    entry = StorageLocation(name=name, required=not optional, verify_tls=not no_verify_tls, **fields)
    new_settings = _append_location(settings, entry)
    (location,) = [loc for loc in open_locations(new_settings, initialize=True) if loc.name == name]
    health = check_location(location, count_objects=False)
    if not health.ok:
        app.fail(health.problems[0]["code"], health.problems[0]["message"], EXIT_FAILED,
                 params={"location": name}, extra={"location": health.as_dict()})  # fmt: skip
    _write_location(settings, entry)
    queued = [] if no_fill else queue_copies(new_settings, app.sessions, name)
    payload = {"location": health.as_dict(), "queued": len(queued), "config": str(settings.config_file)}
    if as_json:
        app.emit(payload)
    else:
        click.echo(app.t.text("cli.storage.added", {"location": name, "queued": len(queued),
                                                   "config": settings.config_file}))  # fmt: skip


@storage.command("sync")
@click.option("--aip", "aip_id", default=None, help="Only this AIP.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def storage_sync(aip_id: str | None, as_json: bool) -> None:
    """Write every queued (pending) copy from a location that holds the AIP, verified."""
    from workflows.replication import sync_pending

    app = _app()
    app.json_output = as_json
    if aip_id is not None:
        with app.sessions() as session:
            aip_id = queries.resolve_aip_id(session, aip_id)
    outcomes = sync_pending(app.settings, app.sessions, aip_id=aip_id)
    left = [o for o in outcomes if o.outcome != "stored"]
    if as_json:
        app.emit({"ok": not left, "copies": [o.as_dict() for o in outcomes]})
    else:
        t = app.t
        if not outcomes:
            click.echo(t.text("cli.storage.nothing_pending"))
        for o in outcomes:
            click.echo(f"{o.aip_id} v{o.version} -> {o.location}: {o.outcome}  {o.message}")
    if left:
        raise SystemExit(EXIT_FAILED)


def _append_location(settings: Settings, entry: Any) -> Settings:
    from dataclasses import replace

    from repository.settings import StorageSettings

    return replace(settings, storage=StorageSettings(locations=(*settings.storage.locations, entry)))


def _write_location(settings: Settings, entry: Any) -> None:
    """Append the entry to the home kholuu.toml. If that file defines no locations yet, the ones in
    effect (the shipped defaults) are written first, since a list in the home file replaces them."""
    import dataclasses
    import tomllib

    path = settings.config_file
    text = path.read_text(encoding="utf-8") if path.exists() else _CONFIG_TEMPLATE
    current = tomllib.loads(text)
    entries = [entry] if "locations" in current.get("storage", {}) else [*settings.storage.locations, entry]
    defaults = {f.name: f.default for f in dataclasses.fields(entry)}
    out = [text.rstrip("\n"), ""]
    for e in entries:
        out.append("[[storage.locations]]")
        for f in dataclasses.fields(e):
            value = getattr(e, f.name)
            if f.name in ("name", "backend") or value != defaults[f.name]:
                out.append(f"{f.name} = {_toml_value(value)}")
        out.append("")
    path.write_text("\n".join(out), encoding="utf-8")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


# --------------------------------------------------------------------------- audit


@main.command()
@click.option("--all", "mode", flag_value="all", help="Every stored copy.")
@click.option(
    "--due", "mode", flag_value="due", default=True, help="Copies not checked within the cycle (default)."
)
@click.option("--location", default=None, help="Only this storage location.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N copies.")
@click.option(
    "--budget-gb", type=click.FloatRange(min=0.001), default=None, help="Stop after about G GB read."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def audit(mode: str, location: str | None, limit: int | None, budget_gb: float | None, as_json: bool) -> None:
    """Fixity audit: re-read stored copies, find corrupt, missing and unexpected files, repair them
    from a good copy, open an incident when there is none."""
    from workflows.alerts import send_alerts
    from workflows.audit import AuditOptions, run_audit

    app = _app()
    app.json_output = as_json
    if limit is not None and budget_gb is not None:
        app.fail("cli.audit.limit_or_budget", "give --limit or --budget-gb, not both", EXIT_USAGE)
    options = AuditOptions(
        mode=mode,
        location=location,
        limit=limit,
        budget_bytes=int(budget_gb * 1e9) if budget_gb else None,
    )
    report = run_audit(app.settings, app.sessions, options)
    alert = send_alerts(app.settings, app.sessions, report)
    data = report.as_dict() | {"alert": alert}
    if as_json:
        app.emit(data)
    else:
        t = app.t
        click.echo(t.text("cli.audit.summary", data))
        for copy in report.copies:
            click.echo(f"  {copy.aip_id} v{copy.version} @ {copy.location}: {copy.outcome}")
            for p in copy.problems:
                source = f" <- {p['repaired_from']}" if p.get("repaired_from") else ""
                click.echo(f"    - {p['kind']} {p['path']}: {p.get('repair', '')}{source}")
        for name in report.busy:
            click.echo(t.text("cli.audit.busy", {"location": name}), err=True)
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


@main.group()
def incident() -> None:
    """Damage with no good copy left: list, acknowledge."""


@incident.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also acknowledged incidents.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def incident_list(show_all: bool, as_json: bool) -> None:
    """Open incidents (and with --all the acknowledged ones), oldest first."""
    from sqlalchemy import select

    from repository.catalog.models import Incident
    from workflows.audit import incident_dict

    app = _app()
    app.json_output = as_json
    with app.sessions() as session:
        query = select(Incident).order_by(Incident.id)
        if not show_all:
            query = query.where(Incident.status == "open")
        rows = [incident_dict(i) for i in session.scalars(query)]
    if as_json:
        app.emit({"incidents": rows, "open": sum(1 for r in rows if r["status"] == "open")})
        return
    if not rows:
        click.echo(app.t.text("cli.incident.none"))
    for r in rows:
        who = f" ({r['acknowledged_by']}: {r['note']})" if r["acknowledged_by"] else ""
        click.echo(f"#{r['id']} {r['status']:<12} {r['opened_at']} {r['aip_id']} @ {r['location']}: "
                   f"{r['kind']} {r['path']}{who}")  # fmt: skip


@incident.command("ack")
@click.argument("incident_id", type=int)
@click.option("--by", "by", required=True, help="Who has looked at it.")
@click.option("--note", default="", help="What was found or decided.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def incident_ack(incident_id: int, by: str, note: str, as_json: bool) -> None:
    """Acknowledge an incident: it stays in the record, no longer open."""
    from workflows.audit import acknowledge_incident

    app = _app()
    app.json_output = as_json
    try:
        row = acknowledge_incident(app.sessions, incident_id, by=by, note=note)
    except LookupError:
        app.fail("catalog.not_found", f"no incident {incident_id}", EXIT_NOT_FOUND,
                 params={"kind": "incident", "id": incident_id})  # fmt: skip
    if as_json:
        app.emit(row)
    else:
        click.echo(app.t.text("cli.incident.acknowledged", row))


@main.command()
@click.option(
    "--run-for", type=float, default=None, help="Stop after this many seconds (tests, cron-driven sites)."
)
@handles_errors
def scheduler(run_for: float | None) -> None:
    """Run the audit schedules of [[audit.schedules]] until stopped (Ctrl-C / SIGTERM)."""
    import signal
    import threading

    from workflows.scheduler import build_scheduler, install_jobs

    app = _app()
    upgrade(app.engine)
    sched = build_scheduler(app.settings, background=True)
    sched.start(paused=True)
    jobs = install_jobs(sched, app.settings)
    sched.resume()
    click.echo(app.t.text("cli.scheduler.started", {"jobs": ", ".join(jobs) or "-"}), err=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait(run_for)
    except KeyboardInterrupt:
        pass
    finally:
        sched.shutdown(wait=True)


# --------------------------------------------------------------------------- reports


@main.group()
def report() -> None:
    """Reports for auditors."""


@report.command("fixity")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "csv", "json", "pdf"]), default="html", show_default=True
)
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (audit time zone)."
)
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Day after the last (default: now)."
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (where, digest).")
@handles_errors
def report_fixity(fmt: str, since: datetime, until: datetime | None, out: Path, as_json: bool) -> None:
    """Fixity report: what was checked in the period, % of holdings within the cycle, copies and
    where, every failure and its repair, open incidents, a plot; it states its own digest."""
    from repository.reports import ReportFormat, render
    from workflows.fixity_report import build_fixity_report

    app = _app()
    app.json_output = as_json
    zone = ZoneInfo(app.settings.audit.timezone)
    now = datetime.now(UTC)
    result = build_fixity_report(
        app.sessions,
        since=since.replace(tzinfo=zone),
        until=until.replace(tzinfo=zone) if until else now,
        cycle_days=app.settings.audit.cycle_days,
        generated_at=now,
        archive_name=app.settings.archive.name,
        tz=zone,
    )
    render(result, cast(ReportFormat, fmt), out, language=app.t.language)
    if as_json:
        app.emit({"path": str(out), "format": fmt, "digest": result.digest})
    else:
        click.echo(app.t.text("cli.report.done", {"path": out, "digest": result.digest}))


# --------------------------------------------------------------------------- rebuild


@main.command("rebuild-catalog")
@click.option("--location", "location", required=True, help="The location whose OCFL root is read.")
@click.option("--replace", "replace_rows", is_flag=True, help="Recreate AIPs the catalog already has.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def rebuild_catalog_command(location: str, replace_rows: bool, as_json: bool) -> None:
    """Recreate the catalog's AIP rows from a storage root alone (after losing the database)."""
    from workflows.rebuild import rebuild_catalog

    app = _app()
    app.json_output = as_json
    upgrade(app.engine)
    report = rebuild_catalog(app.settings, app.sessions, location, replace=replace_rows)
    data = report.as_dict()
    if as_json:
        app.emit(data)
    else:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    if any(o.get("outcome") == "failed" for o in data.get("objects", [])):
        raise SystemExit(EXIT_FAILED)


def run() -> None:  # pragma: no cover - console entry point alias
    main()


_ = resolve_home
