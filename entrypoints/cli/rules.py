"""Which role may run which command: the command line's rule table, the twin of the web app's
(``entrypoints/web/access.py``).

The command line acts with the operator's own rights over the data folder, as an administrator
by default; ``--role`` (or ``KHOLUU_ROLE``) makes it act in a narrower role, so that an auditor's
or a records officer's shell account (``KHOLUU_ROLE=auditor`` set for them) cannot change what the
role must not. :func:`apply_rules` wraps every command of the tree once all are registered; a
command missing from :data:`COMMAND_RULES` is refused to every role (deny by default) and fails
``tests/cli/test_cli_rules.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import wraps
from typing import Any

import click

from entrypoints.cli.app import EXIT_REFUSED, CommandTree, current_app
from repository.actor import Role

A, P, U = Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER, Role.AUDITOR
R, S = Role.RECORDS_OFFICER, Role.READER_SERVICES
ADMIN = frozenset({A})
CUSTODY = frozenset({A, P})  # changes holdings or storage: ingest, migrate, repair, storage
READERS = frozenset({A, P, U})  # reads the holdings and the reports, changes nothing
DESCRIPTION = frozenset({A, P, U, S})  # reads the description (records, agencies, restrictions)
TRANSFERS = frozenset({A, P, R})  # the transfer procedure; a records officer for their agency
ACCESS = frozenset({A, S})  # restrictions and declassification: reader services

COMMAND_RULES: Mapping[str, frozenset[Role]] = {
    "aip add-metadata": CUSTODY,
    "aip fetch": CUSTODY,
    "aip history": READERS,
    "aip list": READERS,
    "aip show": READERS,
    "aip verify": READERS,  # records a fixity check, changes no holding
    "audit": CUSTODY,  # repairs copies
    "auditlog show": READERS,
    "auditlog verify": READERS,
    "backup": ADMIN,
    "check": READERS,  # read-only: names the repairs, runs none
    "export": CUSTODY | {S},  # a DIP for an access request
    "incident ack": CUSTODY,
    "incident list": READERS,
    "ingest": CUSTODY,
    "init": ADMIN,
    "job clean": CUSTODY,
    "job list": READERS,
    "job show": READERS,
    "kpi": READERS | {S},
    "kpi mark-high-use": CUSTODY,
    "kpi mark-published": CUSTODY,
    "migrate": CUSTODY,
    "policy check": READERS,
    "policy diff": READERS,
    "policy show": READERS,
    "rebuild-catalog": ADMIN,
    "records agency add": ADMIN,
    "records agency import": ADMIN,
    "records agency list": DESCRIPTION | {R},
    "records declared import": CUSTODY,
    "records declared list": DESCRIPTION,
    "records declared set": CUSTODY,
    "records declassify": ACCESS,
    "records fonds add": CUSTODY,
    "records fonds list": DESCRIPTION,
    "records lift": ACCESS,
    "records restrict": ACCESS,
    "records restrictions": DESCRIPTION,
    "records retention list": DESCRIPTION,
    "records retention load": ADMIN,
    "records search": DESCRIPTION,
    "reindex": CUSTODY,  # writes search text into the catalog from storage
    "report fixity": READERS,
    "request approve": ACCESS,  # dissemination requests: reader services decide
    "request build": ACCESS,
    "request expire": ACCESS | CUSTODY,  # deletes expired DIPs; also the scheduler's
    "request list": ACCESS | {U},
    "request refuse": ACCESS,
    "request show": ACCESS | {U},
    "request submit": ACCESS,  # on a reader's behalf
    "restore": ADMIN,
    "scheduler": ADMIN,
    "search": DESCRIPTION,
    "serve": ADMIN,
    "worker": ADMIN,  # runs any queued job, as the scheduler does
    "storage add": ADMIN,
    "storage check": CUSTODY,
    "storage list": READERS,
    "storage sync": CUSTODY,
    "token issue": ADMIN,
    "token list": ADMIN,
    "token revoke": ADMIN,
    "transfer confirm": TRANSFERS,
    "transfer deadlines": READERS | {R},
    "transfer decide": CUSTODY,
    "transfer handover": CUSTODY,
    "transfer link": CUSTODY,
    "transfer list": READERS | {R},
    "transfer overdue": READERS | {R},
    "transfer plan": TRANSFERS,
    "transfer receive": TRANSFERS,
    "transfer reply": CUSTODY,
    "transfer show": READERS | {R},
    "user add": ADMIN,
    "user disable": ADMIN,
    "user enable": ADMIN,
    "user list": ADMIN,
    "user passwd": ADMIN,
    "user role": ADMIN,
}
"""Command path → the roles that may run it. A records officer (``--role records_officer
--agency ORGAN_ID``) is further limited to their own agency's transfers, plans and agency entry,
as in the web app (``workflows.records.agency_scope``)."""


def command_paths(
    group: click.Group, prefix: tuple[str, ...] = (), *, loaded_only: bool = False
) -> Iterator[tuple[str, click.Command]]:
    """Every runnable command of the tree: the leaves, and a group that runs on its own
    (``kholuu kpi``). ``loaded_only``: only the commands already imported (``CommandTree``)."""
    if isinstance(group, CommandTree) and not loaded_only:
        group.load_all()
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield " ".join(path), command
            yield from command_paths(command, path)
        else:
            yield " ".join(path), command


def _guard(
    path: str, callback: Callable[..., Any], rules: Mapping[str, frozenset[Role]]
) -> Callable[..., Any]:
    @wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if not (isinstance(ctx.command, click.Group) and ctx.invoked_subcommand):  # the command itself
            app = current_app()
            roles = rules.get(path)
            if roles is None or app.role not in roles:
                app.json_output = app.json_output or bool(kwargs.get("as_json"))  # --json: the error too
                app.fail(
                    "cli.role_refused",
                    f"the role {app.role.value} may not run `kholuu {path}`",
                    EXIT_REFUSED,
                    params={"role": app.t.text(f"role.{app.role.value}"), "command": f"kholuu {path}"},
                )
        return callback(*args, **kwargs)

    run.__dict__["kholuu_rule_path"] = path
    return run


def apply_rules(group: click.Group, rules: Mapping[str, frozenset[Role]] = COMMAND_RULES) -> None:
    """Check ``rules`` before every command of ``group`` runs (once per command)."""
    for path, command in command_paths(group, loaded_only=True):
        if command.callback is not None and not hasattr(command.callback, "kholuu_rule_path"):
            command.callback = _guard(path, command.callback, rules)


__all__ = ["COMMAND_RULES", "apply_rules", "command_paths"]
