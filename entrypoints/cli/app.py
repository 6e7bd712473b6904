"""``kholuu``: the command line of Kho Lưu — the group, its options and the one error handler.

Data folder: ``--home DIR``, else ``$KHOLUU_HOME``, else ``./kholuu-data``. With ``--json`` a command
prints exactly one JSON object on stdout (errors too) and nothing else; progress and human text go
to stderr. Exit codes: 0 done; 1 failed (a tool, the system, or a verification failed); 2 usage or
configuration error; 3 refused (the submission is not acceptable); 4 not found; 5 unavailable (the
catalog is locked or storage cannot be reached: try again later). Every coded error
(:class:`preservation.errors.KholuuError`) gets its exit code from its kind through the one table
in ``entrypoints/errors.py``, which the web app reads too.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.errors import (
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    SystemFailure,
    exit_code,
)
from preservation.errors import KholuuError
from repository import __version__
from repository.actor import Actor, Role, cli_actor
from repository.catalog.auditlog import record_action
from repository.catalog.db import catalog_problem, catalog_where, check_current, make_engine, session_factory
from repository.catalog.journal import attach_journal
from repository.catalog.records_store import Problem, RecordsError
from repository.i18n import Translator
from repository.settings import Settings, SettingsError, load_settings

__all__ = [
    "CONFIG_TEMPLATE",
    "EXIT_FAILED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "App",
    "CommandTree",
    "current_app",
    "handles_errors",
    "log_action",
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
    role: Role = Role.ADMINISTRATOR
    agency: str = ""

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

    def actor(self, by: str | None = None) -> Actor:
        """Who runs this command: the OS user on this host, in the role of ``--role``, acting for
        ``--by`` when given, for the agency of ``--agency`` when the role is a records officer's
        (``repository.actor.cli_actor``; what that agency limits: ``workflows.records.agency_scope``)."""
        return cli_actor(by, role=self.role, agency=self.agency)

    def catalog_where(self) -> str:
        """The catalog as the user knows it: its file, or its URL without the password."""
        try:
            return catalog_where(self.settings.database_url)
        except KholuuError:
            return "—"

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
        """Report a coded error: its text, and the exit code of its kind (``entrypoints/errors.py``)."""
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


class CommandTree(click.Group):
    """The ``kholuu`` group, whose commands are imported when asked for.

    Each command module registers its commands on :data:`main` when imported; ``entrypoints/cli/main.py``
    tells the group which modules hold which top-level command (:meth:`lazy`). A run imports only
    the modules of the command it runs: importing all of them cost 0.45 s of CPU in every ``kholuu``
    process. ``--help``, :meth:`load_all` and the rule table's check see every command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.modules: dict[str, tuple[str, ...]] = {}
        self.after_import: Callable[[click.Group], None] | None = None

    def lazy(
        self, modules: Mapping[str, tuple[str, ...]], after_import: Callable[[click.Group], None]
    ) -> None:
        """Command name → the modules that register it; ``after_import`` runs after every import
        (the rule table wraps the commands just registered)."""
        self.modules.update(modules)
        self.after_import = after_import

    def _import(self, modules: tuple[str, ...]) -> None:
        for module in modules:
            importlib.import_module(module)
        if modules and self.after_import is not None:
            self.after_import(self)

    def load_all(self) -> None:
        """Import every command module (the whole tree, as ``--help`` lists it)."""
        self._import(tuple(dict.fromkeys(m for ms in self.modules.values() for m in ms)))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.modules})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._import(self.modules.get(cmd_name, ()))
        return super().get_command(ctx, cmd_name)


@click.group(cls=CommandTree, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home", "home", metavar="DIR", help="Data folder (default: $KHOLUU_HOME, else ./kholuu-data)."
)
@click.option("--lang", "language", type=click.Choice(["vi", "en"]), help="Language of messages.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role if r is not Role.PUBLIC]),
    envvar="KHOLUU_ROLE",
    default=Role.ADMINISTRATOR.value,
    show_default=True,
    help="Act in this role: a command the role may not run is refused (entrypoints/cli/rules.py).",
)
@click.option(
    "--agency",
    "agency",
    envvar="KHOLUU_AGENCY",
    default="",
    metavar="ORGAN_ID",
    help="With --role records_officer: the agency acted for; transfers of other agencies are "
    "neither listed nor shown, and refused.",
)
@click.version_option(__version__, prog_name="kholuu")
@click.pass_context
def main(ctx: click.Context, home: str | None, language: str | None, role: str, agency: str) -> None:
    """Kho Lưu — kho lưu trữ số: ingest, store and verify archival packages."""
    ctx.obj = App(home_option=home, language_option=language, role=Role(role), agency=agency)
    ctx.call_on_close(ctx.obj.close)


def log_action(app: App, action: str, target: str, params: dict[str, Any], *, by: str | None = None) -> None:
    """The staff audit log's row of an action a workflow committed in transactions of its own (an
    ingest, a migration, a storage sync): written right after it, by the operator's OS user
    (acting for ``by``). Decisions the command writes itself go in their own transaction
    instead (:func:`repository.catalog.auditlog.record_action`)."""
    with app.sessions.begin() as session:
        record_action(session, app.actor(by), action, target, params)


def current_app() -> App:
    app = click.get_current_context().find_object(App)
    assert app is not None
    return app


CONFIG_TEMPLATE = """\
# Kho Lưu settings for this data folder. Every key, with its default and the reason it exists,
# is in config/defaults.toml of the program; copy the ones you change here. Unknown keys are
# refused at start.
"""
