"""Accounts for tests: argon2 parameters cheap enough for a test, and one user per staff role.

The web and CLI tests hash dozens of passwords; with the shipped parameters (64 MiB, 3 passes)
that would cost seconds a test on a shared machine. The tests of the parameters themselves
(rehash when they change) use both.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from repository.actor import Role
from repository.catalog.records_store import add_agency
from repository.settings import Settings
from workflows.accounts.users import create_user

FAST_ARGON2 = "[access]\nargon2_time_cost = 1\nargon2_memory_kib = 64\nargon2_parallelism = 1\n"
AGENCY = "H49.09"
PASSWORD = "mật khẩu đủ dài 2026"
STAFF_USERS: dict[Role, str] = {
    Role.ADMINISTRATOR: "quan.tri",
    Role.PRESERVATION_OFFICER: "bao.quan",
    Role.AUDITOR: "kiem.toan",
    Role.RECORDS_OFFICER: "van.thu",
    Role.READER_SERVICES: "doc.gia",
}


def add_staff(sessions: sessionmaker[Session], settings: Settings) -> dict[Role, str]:
    """One active account per staff role (password :data:`PASSWORD`); the records officer's agency
    is registered first. Returns role → login name."""
    with sessions.begin() as s:
        add_agency(s, AGENCY, "Sở Nội vụ tỉnh An Giang")
        for role, login in STAFF_USERS.items():
            create_user(
                s,
                settings.access,
                login=login,
                display_name=f"Người dùng {login}",
                role=role,
                password=PASSWORD,
                agency=AGENCY if role is Role.RECORDS_OFFICER else "",
            )
    return dict(STAFF_USERS)
