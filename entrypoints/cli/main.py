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

# Each command group registers itself on ``main`` when imported; nothing imports this module back.
from entrypoints.cli import accounts as _account_commands  # noqa: F401
from entrypoints.cli import aip as _aip_commands  # noqa: F401
from entrypoints.cli import audit as _audit_commands  # noqa: F401
from entrypoints.cli import auditlog as _auditlog_commands  # noqa: F401
from entrypoints.cli import dissemination as _request_commands  # noqa: F401
from entrypoints.cli import export as _export_commands  # noqa: F401
from entrypoints.cli import ingest as _ingest_commands  # noqa: F401
from entrypoints.cli import init as _init_commands  # noqa: F401
from entrypoints.cli import jobs as _job_commands  # noqa: F401
from entrypoints.cli import kpi as _kpi_commands  # noqa: F401
from entrypoints.cli import migrate as _migrate_commands  # noqa: F401
from entrypoints.cli import operations as _operations_commands  # noqa: F401
from entrypoints.cli import policy as _policy_commands  # noqa: F401
from entrypoints.cli import records as _records_commands  # noqa: F401
from entrypoints.cli import records_access as _records_access_commands  # noqa: F401
from entrypoints.cli import search as _search_commands  # noqa: F401
from entrypoints.cli import serve as _serve_commands  # noqa: F401
from entrypoints.cli import storage as _storage_commands  # noqa: F401
from entrypoints.cli import transfers as _transfer_commands  # noqa: F401
from entrypoints.cli import worker as _worker_commands  # noqa: F401
from entrypoints.cli.app import main
from entrypoints.cli.rules import apply_rules

apply_rules(main)  # every command registered above: checked against the rule table before it runs

__all__ = ["main"]
