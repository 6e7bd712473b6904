"""``/users`` through Flask's test client, on SQLite and PostgreSQL: an administrator creates an
account, changes its role, disables and enables it, sets its password or makes a one-time setup
link, issues an API token (shown once) and revokes it — each signed with the administrator and in
the audit log — and cannot disable themself nor leave the archive without an active administrator
(coded refusals). Forms without the CSRF token are refused."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from repository.actor import Role
from repository.catalog.auditlog import read_entries
from repository.i18n import Translator
from repository.settings import Settings
from tests.accounts import AGENCY, PASSWORD
from tests.web.conftest import any_csrf_token, client_as, page
from workflows.accounts.users import find_user

VI = Translator("vi")
NEW_PASSWORD = "mật khẩu mới thật dài"


def post(client: Any, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": any_csrf_token(client)} | data)


def actions(sessions: sessionmaker[Session]) -> list[tuple[str, str, str, str]]:
    """The account decisions in the audit log, in order (not the log-ins)."""
    with sessions() as s:
        return [
            (e.action, e.target, e.actor, e.channel)
            for e in read_entries(s)
            if e.action.split(".")[0] in ("user", "token") and e.action not in ("user.login", "user.logout")
        ]


def test_an_administrator_manages_accounts_and_tokens(
    settings: Settings, sessions: sessionmaker[Session], staff: dict[Role, str]
) -> None:
    app: Flask = create_app(settings, sessions)
    admin = client_as(app, staff, Role.ADMINISTRATOR)
    listed = page(admin, "/users")
    assert listed.get("lang") == "vi"
    assert {d.get("data-user-row") for d in listed.xpath("//details[@data-user-row]")} == set(staff.values())
    labels = {lab.get("for") for lab in listed.xpath("//form[@class='add-user']//label")}
    assert {"n-login", "n-name", "n-role", "n-agency", "n-password", "n-password-again"} <= labels

    assert post(admin, "/users").status_code == 400  # an empty form
    made = post(admin, "/users", login="Hoa.Tran", display_name="Trần Thị Hoa", role="records_officer",
                agency=AGENCY, password=PASSWORD, password_again=PASSWORD)  # fmt: skip
    assert made.status_code == 302
    shown = page(admin, "/users")
    assert shown.xpath("//p[@data-done='web.users.added']")
    row = shown.xpath("//details[@data-user-row='hoa.tran']")[0]
    assert row.get("data-role") == "records_officer" and AGENCY in row.text_content()
    mismatch = post(admin, "/users", login="x.y", role="auditor", password=PASSWORD, password_again="khác")
    assert mismatch.status_code == 400 and VI.text("account.password_mismatch") in mismatch.text

    assert post(admin, "/users/hoa.tran/role", role="auditor").status_code == 302
    assert post(admin, "/users/hoa.tran/active", active="0").status_code == 302
    with sessions() as s:
        user = find_user(s, "hoa.tran")
        assert (user.role, user.agency, user.active) == (Role.AUDITOR, "", False)
    assert post(admin, "/users/hoa.tran/active", active="1").status_code == 302
    assert (
        post(
            admin, "/users/hoa.tran/password", password=NEW_PASSWORD, password_again=NEW_PASSWORD
        ).status_code
        == 302
    )
    fresh = app.test_client()
    login = {"login": "hoa.tran", "password": NEW_PASSWORD, "csrf_token": any_csrf_token(fresh)}
    assert fresh.post("/login", data=login).status_code == 302

    issued = post(admin, "/users/kiem.toan/tokens", label="máy thu thập")
    assert issued.status_code == 200
    token = re.search(r'value="(klu_[^"]+)"', issued.text)
    assert token is not None
    assert (
        app.test_client()
        .get("/api/whoami", headers={"Authorization": f"Bearer {token.group(1)}"})
        .status_code
        == 200
    )
    assert token.group(1) not in admin.get("/users").text  # shown once
    token_id = page(admin, "/users").xpath("//tr[@data-token-row]/@data-token-row")[0]
    assert post(admin, f"/tokens/{token_id}/revoke").status_code == 302
    assert (
        app.test_client()
        .get("/api/whoami", headers={"Authorization": f"Bearer {token.group(1)}"})
        .status_code
        == 401
    )

    assert actions(sessions) == [
        ("user.add", "hoa.tran", "quan.tri", "web"),
        ("user.role", "hoa.tran", "quan.tri", "web"),
        ("user.disable", "hoa.tran", "quan.tri", "web"),
        ("user.enable", "hoa.tran", "quan.tri", "web"),
        ("user.passwd", "hoa.tran", "quan.tri", "web"),
        ("token.issue", "kiem.toan", "quan.tri", "web"),
        ("token.revoke", token_id, "quan.tri", "web"),
    ]
    no_csrf = admin.post("/users/hoa.tran/active", data={"active": "0"})
    assert no_csrf.status_code == 400 and VI.text("web.auth.csrf_failed") in no_csrf.text


def test_no_self_disable_and_never_without_an_administrator(
    settings: Settings, sessions: sessionmaker[Session], staff: dict[Role, str]
) -> None:
    app = create_app(settings, sessions)
    admin = client_as(app, staff, Role.ADMINISTRATOR)
    own = post(admin, "/users/quan.tri/active", active="0")
    assert own.status_code == 409
    assert VI.text("account.self_disable", {"login": "quan.tri"}) in own.text
    demoted = post(admin, "/users/quan.tri/role", role="auditor")
    assert demoted.status_code == 409
    assert VI.text("account.last_administrator", {"login": "quan.tri"}) in demoted.text
    with sessions() as s:
        assert find_user(s, "quan.tri").role is Role.ADMINISTRATOR and find_user(s, "quan.tri").active
    # with a second administrator, the first may be given another role
    second = post(
        admin, "/users", login="quan.tri.2", role="administrator", password=PASSWORD, password_again=PASSWORD
    )
    assert second.status_code == 302
    assert post(admin, "/users/quan.tri/role", role="auditor").status_code == 302


def test_a_one_time_setup_link(
    settings: Settings, sessions: sessionmaker[Session], staff: dict[Role, str]
) -> None:
    app = create_app(settings, sessions)
    admin = client_as(app, staff, Role.ADMINISTRATOR)
    made = post(admin, "/users/doc.gia/setup")
    assert made.status_code == 200
    url = page_of(made).xpath("//input[@data-url]/@value")[0]
    path = url[url.index("/setup/") :]
    old = app.test_client()
    refused = {"login": "doc.gia", "password": PASSWORD, "csrf_token": any_csrf_token(old)}
    assert old.post("/login", data=refused).status_code == 401  # the old password no longer works
    user = app.test_client()
    form = page(user, path)
    assert form.xpath("//label[@for='s-password']") and form.xpath("//label[@for='s-password-again']")
    data = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "csrf_token": any_csrf_token(user)}
    assert user.post(path, data=data).status_code == 302
    assert user.get(path).status_code == 404  # used: works once
    assert user.post(path, data=data).status_code == 404
    login = {"login": "doc.gia", "password": NEW_PASSWORD, "csrf_token": any_csrf_token(user)}
    assert user.post("/login", data=login).status_code == 302
    assert [a[:3] for a in actions(sessions) if a[0].startswith("user.setup")] == [
        ("user.setup_link", "doc.gia", "quan.tri"),
        ("user.setup_done", "doc.gia", "doc.gia"),
    ]
    assert app.test_client().get("/setup/forged.token").status_code == 404


def page_of(response: Any) -> Any:
    from lxml import html as lxml_html

    return lxml_html.document_fromstring(response.data)
