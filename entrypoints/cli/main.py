"""``kholuu``: the command line of Kho Lưu.

Data folder: ``--home DIR``, else ``$KHOLUU_HOME``, else ``./kholuu-data``. With ``--json`` a command
prints exactly one JSON object on stdout (errors too) and nothing else; progress and human text go
to stderr. Exit codes: 0 done; 1 failed (a tool, the system, or a verification failed); 2 usage or
configuration error; 3 refused (the submission is not acceptable); 4 not found; 5 unavailable (the
catalog is locked or storage cannot be reached: try again later). Every coded error
(:class:`preservation.errors.KholuuError`) gets its exit code from its kind through the one table
in ``entrypoints/errors.py``, which the web app reads too.
"""

from __future__ import annotations

from entrypoints.cli.app import main
from entrypoints.cli.rules import apply_rules

_CLI = "entrypoints.cli."
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    name: tuple(_CLI + m for m in modules)
    for names, modules in [
        (("user", "token"), ("accounts",)),
        (("aip",), ("aip",)),
        (("audit", "incident", "report", "scheduler"), ("audit",)),
        (("auditlog",), ("auditlog",)),
        (("request",), ("dissemination",)),
        (("export",), ("export",)),
        (("ingest",), ("ingest",)),
        (("init",), ("init",)),
        (("job",), ("jobs",)),
        (("kpi",), ("kpi",)),
        (("migrate",), ("migrate",)),
        (("check", "backup", "restore"), ("operations",)),
        (("policy",), ("policy",)),
        (("records",), ("records", "records_access")),
        (("search", "reindex"), ("search",)),
        (("serve",), ("serve",)),
        (("storage", "rebuild-catalog"), ("storage",)),
        (("transfer",), ("transfers",)),
        (("worker",), ("worker",)),
    ]
    for name in names
}
"""Top-level command → the modules that register it on ``main`` when imported (nothing imports
this module back). A run imports only its command's modules (``CommandTree``); every command is
checked against the rule table (``apply_rules``) as soon as it is registered, before it can run."""

main.lazy(COMMAND_MODULES, apply_rules)

__all__ = ["COMMAND_MODULES", "main"]
