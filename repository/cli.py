"""``kholuu``: the command line of Kho Lưu.

Data folder: ``--home DIR``, else ``$KHOLUU_HOME``, else ``./kholuu-data``. With ``--json`` a command
prints exactly one JSON object on stdout (errors too) and nothing else; progress and human text go
to stderr. Exit codes: 0 done; 1 failed (a tool, the system, or a verification failed); 2 usage or
configuration error; 3 refused (the submission is not acceptable); 4 not found.
"""

from __future__ import annotations

import dataclasses
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
from repository.catalog.records_store import Problem, RecordNotFoundError, RecordsError
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

    def close(self) -> None:
        """Release the catalog's connections when the command ends. A process would drop them on
        exit anyway; closing here keeps ``main`` re-entrant, so that the command can run several
        times in one process (the tests call it in-process through click's ``CliRunner``)."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()

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
        except RecordsError as exc:
            params, extra = _records_problems(app, exc)
            exit_code = EXIT_NOT_FOUND if isinstance(exc, RecordNotFoundError) else EXIT_USAGE
            app.fail(exc.code, str(exc), exit_code, params=params, extra=extra)

    return wrapper


def _records_problems(app: App, exc: RecordsError) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Every bad row or key of a refused input file, each in the user's language."""
    if not exc.problems:
        return exc.params, None

    def line(p: Problem) -> str:
        where = app.t.text("records.at_row", {"row": p.row}) if p.row is not None else p.key
        return f"{where}: {app.t.text(p.code, p.params, default=p.message)}"

    lines = [line(p) for p in exc.problems]
    problems = [
        {"row": p.row, "key": p.key or None, "code": p.code, "message": text, "params": dict(p.params)}
        for p, text in zip(exc.problems, lines, strict=True)
    ]
    return {**exc.params, "errors": "\n".join(f"  - {x}" for x in lines)}, {"problems": problems}


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
    ctx.call_on_close(ctx.obj.close)


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
@handles_errors
def ingest(path: Path, as_json: bool, allow_duplicate: bool, organ_id: str, transfer_id: str) -> None:
    """Ingest the submission at PATH (folder, BagIt bag, E-ARK SIP, TT 05 SIP_hoso/SIP_tailieu;
    zip, tar, tar.gz). A folder holding an NĐ 30/2020 XML export or a mục lục spreadsheet is
    converted to one TT 05 SIP_hoso per hồ sơ, and each is ingested."""
    from workflows.ingest import IngestOptions
    from workflows.legacy import detect

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
    options = IngestOptions(allow_duplicate=allow_duplicate, organ_id=organ_id, transfer_id=transfer_id)
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
    from repository.commands.transfers import transfer_errors
    from workflows import transfers as tr

    @transfer_errors
    def check() -> tuple[str, str]:
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
                        "by": transfer.decided_by,
                    },
                )
            return transfer.id, transfer.agency.organ_id if transfer.agency is not None else ""

    return check()


def _run_ingest(app: App, path: Path, options: Any) -> Any:
    from workflows.ingest import ingest as run_ingest

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


def _ingest_legacy(app: App, path: Path, options: Any, transfer_id: str = "") -> None:
    """Convert a legacy export (one SIP_hoso per hồ sơ) and ingest each; report every unmapped field."""
    import shutil
    import uuid as uuid_mod

    from preservation.errors import PreservationError
    from preservation.tt05.tables import shipped_tables as tt05_tables
    from workflows.legacy import convert_legacy

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
            app.fail(exc.code, str(exc), EXIT_REFUSED, params=exc.params, path=exc.path)
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
                                "message": t.text(r.code, {**r.params, "path": r.path}, default=r.message),
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
        detail["records"] = _records_of(session, detail["aip_id"])
    if as_json:
        app.emit(detail)
        return
    t = app.t
    click.echo(f"{detail['aip_id']}  {detail['status']}  {detail['label']}")
    for r in detail["records"]:
        click.echo(f"  {t.text('cli.aip.dossier', r)}")
        for d in r["documents"]:
            files = ", ".join(d["files"])
            click.echo(f"    {d['ordinal']:>3}. {d['doc_code']}  {d['title']}  [{d['mode_label']}]  {files}")
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


def _records_of(session: Any, aip_id: str) -> list[dict[str, Any]]:
    """The hồ sơ and tài liệu an AIP carries (TT 05 packages), with code-list labels."""
    from preservation.tt05.tables import shipped_tables as tt05_tables
    from repository.catalog.records_store import dossiers_for_aip

    dossiers = dossiers_for_aip(session, aip_id)
    if not dossiers:
        return []
    tables = tt05_tables()
    lang = current_app().settings.ui.language
    out = []
    for d in dossiers:
        out.append(
            {
                "code": d.code,
                "title": d.title,
                "package_type": d.package_type,
                "source": d.source,
                "maintenance": d.maintenance,
                "maintenance_label": tables.label("maintenance", d.maintenance, lang),
                "mode": d.mode,
                "mode_label": tables.label("mode", d.mode, lang),
                "start_date": d.start_date,
                "end_date": d.end_date,
                "description_path": d.description_path,
                "documents": [
                    {
                        "ordinal": doc.ordinal,
                        "kind": doc.kind,
                        "doc_code": doc.doc_code,
                        "title": doc.title,
                        "issued_date": doc.issued_date,
                        "mode": doc.mode,
                        "mode_label": tables.label("mode", doc.mode, lang),
                        "description_path": doc.description_path,
                        "files": [f.path for f in doc.files],
                    }
                    for doc in d.documents
                ],
            }
        )
    return out


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
from repository.commands import export as _export_commands  # noqa: E402, F401
from repository.commands import records as _records_commands  # noqa: E402, F401
from repository.commands import serve as _serve_commands  # noqa: E402, F401
from repository.commands import storage as _storage_commands  # noqa: E402, F401
from repository.commands import transfers as _transfer_commands  # noqa: E402, F401


def run() -> None:  # pragma: no cover - console entry point alias
    main()


_ = resolve_home
