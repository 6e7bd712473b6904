"""Who did something: the one definition of a staff role and of the actor behind a decision.

Every decision that used to be signed with free text (``--by NAME``) now names an :class:`Actor`:
the authenticated user in the web app and the API, the operating-system user (plus an optional
``--by``, the person the operator acts for) in the CLI, the scheduler for scheduled jobs. The audit
log, the catalog's ``*_by`` columns and PREMIS agents all take it from here, so the three can be
compared. Roles are the access issue's (issue 13): what each may do is the route and CLI rule
table's business, not this module's.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The staff roles, and the anonymous public."""

    ADMINISTRATOR = "administrator"
    PRESERVATION_OFFICER = "preservation_officer"  # ingest, migrate, repair, storage
    AUDITOR = "auditor"  # reads everything and the reports, changes nothing
    RECORDS_OFFICER = "records_officer"  # an agency's records officer: its own transfers only
    READER_SERVICES = "reader_services"  # dissemination requests, restrictions
    PUBLIC = "public"  # no login


class Channel(StrEnum):
    """Where an action came from."""

    WEB = "web"
    API = "api"
    CLI = "cli"
    SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Actor:
    """The person (or machine) behind an action.

    ``name`` is the login name (web, API token owner) or the OS user (CLI); ``on_behalf`` is the
    CLI's ``--by`` (who the operator acts for), empty otherwise; ``address`` the client address
    (web, API) or the host name (CLI); ``agency`` the agency code a records officer belongs to.
    """

    name: str
    role: Role
    channel: Channel
    address: str = ""
    on_behalf: str = ""
    agency: str = ""

    def signature(self) -> str:
        """The text kept in the catalog's ``*_by`` columns and in PREMIS agent names: who decided.

        The CLI's ``--by`` names the person responsible; the OS user who typed the command follows
        in brackets so the two can never be confused (``"Nguyễn Văn A (via root@host)"``).
        """
        if self.on_behalf and self.on_behalf != self.name:
            where = f"@{self.address}" if self.address else ""
            return f"{self.on_behalf} (via {self.name}{where})"
        return self.name


def cli_actor(by: str | None = None, *, role: Role = Role.ADMINISTRATOR, agency: str = "") -> Actor:
    """The actor of a CLI command: the OS user on this host, acting for ``by`` if given.

    The CLI runs with the operator's own file-system rights over the data folder, so it acts as
    an administrator unless the caller says otherwise. ``agency`` is the agency a records
    officer's shell acts for (``kholuu --agency``); other roles act for none.
    """
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): the numeric id still names someone
        user = f"uid{os.getuid()}"
    return Actor(
        name=user,
        role=role,
        channel=Channel.CLI,
        address=socket.gethostname(),
        on_behalf=(by or "").strip(),
        agency=agency.strip() if role is Role.RECORDS_OFFICER else "",
    )


SCHEDULER = Actor(name="kholuu-scheduler", role=Role.ADMINISTRATOR, channel=Channel.SCHEDULER)
