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
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

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


def current_app() -> App:
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

    app = current_app()
    app.json_output = as_json
    settings = app.settings
    settings.home.mkdir(parents=True, exist_ok=True)
    for d in (settings.quarantine_dir, settings.work_dir):
        d.mkdir(parents=True, exist_ok=True)
    if not settings.config_file.exists():
        settings.config_file.write_text(CONFIG_TEMPLATE, encoding="utf-8")
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


CONFIG_TEMPLATE = """\
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
    app = current_app()
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
    app = current_app()
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

    app = current_app()
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

    app = current_app()
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

    app = current_app()
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
    app = current_app()
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
    app = current_app()
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

    app = current_app()
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


# The other command groups register themselves on ``main`` when imported.
from repository.commands import audit as _audit_commands  # noqa: E402, F401
from repository.commands import storage as _storage_commands  # noqa: E402, F401


def run() -> None:  # pragma: no cover - console entry point alias
    main()


_ = resolve_home
