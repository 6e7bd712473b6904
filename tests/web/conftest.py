"""Web tests: every data folder hashes passwords with cheap argon2 parameters (tests/accounts.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker

from repository.actor import Role
from repository.settings import Settings
from tests.accounts import FAST_ARGON2, PASSWORD, add_staff
from tests.conftest import write_home_config


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    write_home_config(path, FAST_ARGON2)
    return path


@pytest.fixture
def staff(sessions: sessionmaker[Session], settings: Settings) -> dict[Role, str]:
    """One account per staff role (tests/accounts.py): role → login name."""
    return add_staff(sessions, settings)


def any_csrf_token(client: Any) -> str:
    """The session's CSRF token, from the login form (the public) or the sign-out form (staff)."""
    for path in ("/login", "/account"):
        r = client.get(path)
        if r.status_code == 200:
            page: Any = lxml_html.document_fromstring(r.data)
            found = page.xpath("//input[@name='csrf_token']/@value")
            if found:
                return str(found[0])
    raise AssertionError("no page with a CSRF token")


def client_as(app: Flask, staff: dict[Role, str], role: Role) -> Any:
    """A test client logged in through the form as the account of ``role``."""
    client = app.test_client()
    data = {"login": staff[role], "password": PASSWORD, "csrf_token": any_csrf_token(client)}
    assert client.post("/login", data=data).status_code == 302
    return client


def page(client: Any, path: str) -> Any:
    """The page at ``path`` (must answer 200), parsed."""
    r = client.get(path)
    assert r.status_code == 200, r.status_code
    return lxml_html.document_fromstring(r.data)
