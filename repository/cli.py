"""``kholuu``: the command line of Kho Lưu.

Data folder: ``--home DIR``, else ``$KHOLUU_HOME``, else ``./kholuu-data``. With ``--json`` a command
prints exactly one JSON object on stdout (errors too) and nothing else; progress and human text go
to stderr. Exit codes: 0 done; 1 failed (a tool, the system, or a verification failed); 2 usage or
configuration error; 3 refused (the submission is not acceptable); 4 not found; 5 unavailable (the
catalog is locked or storage cannot be reached: try again later). Every coded error
(:class:`preservation.errors.KholuuError`) gets its exit code from its kind through the one table
in ``repository/errors.py``, which the web app reads too.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import KholuuError
from repository import __version__
from repository.catalog import queries
from repository.catalog.db import catalog_problem, check_current, make_engine, session_factory, upgrade
from repository.catalog.journal import attach_journal
from repository.catalog.models import JobStatus
from repository.catalog.records_store import Problem, RecordsError
from repository.errors import (
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    SystemFailure,
    exit_code,
)
from repository.i18n import Translator
from repository.progress import TerminalProgress
from repository.settings import CONFIG_DIR, Settings, SettingsError, load_settings, resolve_home
from repository.storage.errors import StorageError

__all__ = [
    "EXIT_FAILED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "App",
    "current_app",
    "handles_errors",
    "main",
]

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
        home = self.settings.home
        if not home.is_dir():  # a typo in --home must not read as a broken catalog
            raise SettingsError(
                "home",
                f"the data folder {home} does not exist",
                "--home" if self.home_option else "KHOLUU_HOME",
                code="settings.home_missing",
                params={"home": str(home)},
            )
        check_current(self.engine, where=home)
        return attach_journal(session_factory(self.engine), self.settings)

    def catalog_where(self) -> str:
        """The catalog as the user knows it: its file, or its URL without the password."""
        try:
            url = make_url(self.settings.database_url)
        except (KholuuError, ArgumentError):
            return "—"
        if url.get_backend_name() == "sqlite" and url.database:
            return url.database
        return url.render_as_string(hide_password=True)

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
        if code == "internal.error":  # its text shows what happened
            params = {"message": message, **(params or {})}
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

    def fail_with(self, exc: KholuuError, *, extra: dict[str, Any] | None = None) -> NoReturn:
        """Report a coded error: its text, and the exit code of its kind (``repository/errors.py``)."""
        self.fail(exc.code, str(exc), exit_code(exc), params=exc.params, path=exc.path, extra=extra)


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Every coded error becomes its text and the exit code of its kind, in one place (style guide
    item 14); a records file refused whole lists each of its problems."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        app = click.get_current_context().find_object(App)
        assert app is not None
        try:
            return fn(*args, **kwargs)
        except RecordsError as exc:
            params, extra = _records_problems(app, exc)
            app.fail(exc.code, str(exc), exit_code(exc), params=params, path=exc.path, extra=extra)
        except KholuuError as exc:
            app.fail_with(exc)
        except SQLAlchemyError as exc:  # locked, not a database, server down: a sentence, not a traceback
            app.fail_with(catalog_problem(exc, where=app.catalog_where()))
        except BrokenPipeError:
            raise  # the reader went away: nobody to tell
        except OSError as exc:  # a full disk, a permission: which file and why
            app.fail_with(SystemFailure.from_os_error(exc))

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


def current_app() -> App:
    app = click.get_current_context().find_object(App)
    assert app is not None
    return app


# --------------------------------------------------------------------------- init


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--test-signatures",
    is_flag=True,
    help="No official ClamAV database on this machine: scan with the shipped EICAR-only test "
    "signatures (config/clamav), recorded as such in every virus-check event. For trying Kho Lưu only.",
)
@handles_errors
def init(as_json: bool, test_signatures: bool) -> None:
    """Create the data folder, the catalog (or upgrade it) and the storage roots, and say whether
    the virus check has signatures to scan with."""
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
    if test_signatures:
        _use_test_signatures(app)
        settings = app.settings
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
        "virus_check": virus_readiness(settings),
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
        _echo_virus_readiness(app, payload["virus_check"])
    if any(name for name in problems if any(x.name == name and x.required for x in locations)):
        raise SystemExit(EXIT_FAILED)


TEST_SIGNATURES_DIR = CONFIG_DIR / "clamav"
"""The shipped EICAR-only test signature (config/clamav/README.md): proves the refusal path works,
detects no real virus."""


def virus_readiness(settings: Settings) -> dict[str, Any]:
    """Whether an ingest can scan: the signature folder in effect, and what is in it. ``kind`` is
    ``official`` (ClamAV's database), ``local`` (other signature files: every event says "LOCAL
    SIGNATURES ONLY"), or ``none`` (every ingest would fail with ``virus.no_database``)."""
    from preservation import virus
    from preservation.errors import ToolError

    vc = settings.virus_check
    database = settings.path(vc.database) if vc.database else virus.default_database_dir()
    try:
        info = virus.database_info(database)
    except ToolError as exc:
        return {"ready": False, "database": str(database), "kind": "none", "signatures": 0,
                "test_signatures": False, "problem": {"code": exc.code, "message": str(exc)}}  # fmt: skip
    test = Path(os.path.realpath(database)) == Path(os.path.realpath(TEST_SIGNATURES_DIR))
    return {
        "ready": True,
        "database": str(database),
        "kind": "official" if info.official else "local",
        "signatures": info.signatures,
        "test_signatures": test,
        "problem": None,
    }


def _echo_virus_readiness(app: App, ready: dict[str, Any]) -> None:
    """What the operator must do before the first ingest, in words (stderr: it is a warning)."""
    t = app.t
    params = {"database": ready["database"], "test_signatures": TEST_SIGNATURES_DIR}
    if not ready["ready"]:
        click.echo(f"  {t.label('error')}: {t.text('cli.init.no_signatures', params)}", err=True)
    elif ready["kind"] != "official":
        key = "cli.init.test_signatures" if ready["test_signatures"] else "cli.init.local_signatures"
        click.echo(f"  {t.text(key, params)}", err=True)
    else:
        params["signatures"] = ready["signatures"]
        click.echo(f"  {t.text('cli.init.official_signatures', params)}")


def _use_test_signatures(app: App) -> None:
    """Point ``[virus_check] database`` of the home kholuu.toml at the shipped test signatures, as
    scripts/demo does on an offline machine; refused when the file already sets a database (the
    operator chose one: we do not overwrite it)."""
    import tomllib

    path = app.settings.config_file
    text = path.read_text(encoding="utf-8")
    current = tomllib.loads(text).get("virus_check", {})
    if current.get("database"):
        chosen = app.settings.path(str(current["database"]))
        if os.path.realpath(chosen) == os.path.realpath(TEST_SIGNATURES_DIR):
            return  # already so: a second run changes nothing
        app.fail("cli.init.database_configured", f"{path} already sets [virus_check] database",
                 EXIT_USAGE, params={"config": str(path), "database": current["database"]})  # fmt: skip
    line = f"database = {json.dumps(str(TEST_SIGNATURES_DIR), ensure_ascii=False)}"
    comment = (
        "# kholuu init --test-signatures: EICAR test signature ONLY, no real virus is detected.\n"
        "# Replace with the official ClamAV database (docs: README, Using it) before real use.\n"
    )
    if "virus_check" in tomllib.loads(text):
        lines = text.splitlines(keepends=True)
        at = next(i for i, x in enumerate(lines) if x.strip() == "[virus_check]")
        lines.insert(at + 1, comment + line + "\n")
        text = "".join(lines)
    else:
        text = text.rstrip("\n") + "\n\n[virus_check]\n" + comment + line + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    app.__dict__.pop("settings", None)  # read the file again


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
    from workflows import transfers as tr

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
    from workflows.runner import StepFailed

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
        if r["superseded_by"]:
            click.echo(f"    {t.text('cli.aip.superseded_by', r)}")
        if r["supersedes"]:
            click.echo(f"    {t.text('cli.aip.supersedes', r)}")
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


def _supersession(session: Any, dossier: Any) -> dict[str, Any]:
    """Which AIP holds this hồ sơ now if a re-submission replaced it, and which AIPs it replaced
    (``kholuu ingest --supersedes``)."""
    from sqlalchemy import select

    from repository.catalog.records import Dossier

    later = session.get(Dossier, dossier.superseded_by_id) if dossier.superseded_by_id else None
    earlier = session.scalars(select(Dossier.aip_id).where(Dossier.superseded_by_id == dossier.id)).all()
    return {"superseded_by": later.aip_id if later else None, "supersedes": sorted(earlier)}


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
                **_supersession(session, d),
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
@click.option(
    "--by",
    "by",
    default="",
    metavar="NAME",
    help="Who takes the copy (default: login name; required, "
    "with --reason, for an AIP holding records that are not public).",
)
@click.option(
    "--reason", "reason", default="", metavar="TEXT", help="Why the copy is taken (kept in the event)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_fetch(
    aip_id: str, out: Path, version: int | None, location: str | None, by: str, reason: str, as_json: bool
) -> None:
    """Copy the stored AIP folder out to OUT/<AIP folder>, verifying every file; recorded as a
    PREMIS dissemination event naming who took it."""
    from workflows.retrieve import fetch_aip

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        resolved = queries.resolve_aip_id(session, aip_id)
    result = fetch_aip(
        app.settings,
        app.sessions,
        resolved,
        out,
        version=version,
        location=location,
        by=by,
        reason=reason,
    )
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
    from workflows.update import add_metadata

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        resolved = queries.resolve_aip_id(session, aip_id)
    result = add_metadata(app.settings, app.sessions, resolved, file, reason=reason)
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
        text = t.text(err["code"], {"message": err["message"], **err["params"]}, default=err["message"])
        click.echo(f"  {t.label('error')}: {text}")
    for s in detail["steps"]:
        click.echo(f"  {s['status']:<8} {s['name']}")
    for e in detail["errors"]:
        where = f" [{e['path']}]" if e["path"] else ""
        tool = f" ({e['tool']}, exit {e['exit_code']})" if e["tool"] else ""
        click.echo(
            f"  - {e['code']}{where}{tool}: "
            + t.text(
                e["code"], {"message": e["message"], **e["params"], "path": e["path"]}, default=e["message"]
            )
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
