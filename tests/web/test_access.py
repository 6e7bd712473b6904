"""Authentication and authorization of the web app through Flask's test client, on SQLite and
PostgreSQL: the matrix of every endpoint of the route table × every role, read from the rule
table (and a route without a rule refused); logging in and out with CSRF; the throttle; the
session cookie; sessions ended by a password change or a disabled account; bearer tokens on
``/api/…``; the session key file."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import Rule

from entrypoints.web import create_app
from entrypoints.web.access import rule_table
from entrypoints.web.secret import SECRET_NAME, SecretKeyError, load_secret_key
from repository.actor import Role
from repository.i18n import Translator
from repository.settings import Settings
from tests.accounts import PASSWORD
from tests.web.conftest import any_csrf_token
from workflows.accounts.tokens import issue_token, revoke_token
from workflows.accounts.users import set_active, set_password

VI, EN = Translator("vi"), Translator("en")
URL_ARGUMENTS: dict[str, Any] = {
    "filename": "kholuu.css",
    "fmt": "csv",
    "incident_id": 999_999,
    "restriction_id": 999_999,
    "code": "KHONG-CO-HO-SO",
    "doc": "KHONG-CO-TAI-LIEU",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "n": 1,
    "request_id": "YC-000000000000",
    "token": "no-such-token",
    "aip_id": "uuid-00000000-0000-4000-8000-000000000000",
    "job_id": "00000000-0000-4000-8000-000000000000",
    "upload_id": "0" * 32,
    "puid": "fmt/999999",
    "login": "khong.co.ai",
    "token_id": 999_999,
    "transfer_id": "00000000-0000-4000-8000-000000000000",
    "plan_id": 999_999,
}
"""Values for the route table's URL variables: the stylesheet, the fixity report's format, and
objects that do not exist (an incident, a restriction, a record, a request, a download link, an
AIP, a job, an upload, a format, a user, an API token, a transfer, a plan): past
the rule check such a page answers 404 (or 410 for a link), which still tells an allowed role from
a refused one."""
ENDPOINT_ARGUMENTS: dict[str, dict[str, Any]] = {
    "public_api.dossier": {"fmt": "jsonld"},
    "public_api.document": {"fmt": "ttl"},
}
"""Where an endpoint's URL variable takes other values than the defaults above."""


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session]) -> Flask:
    return create_app(settings, sessions)


def csrf_token(client: FlaskClient) -> str:
    """The session's CSRF token: from the login form, or (logged in: /login redirects) from the
    logout form of the account page."""
    page: Any = lxml_html.document_fromstring(client.get("/login").data)
    found = page.xpath("//form[@class='login']/input[@name='csrf_token']/@value")
    if not found:
        page = lxml_html.document_fromstring(client.get("/account").data)
        found = page.xpath("//form[@class='logout']/input[@name='csrf_token']/@value")
    (token,) = found
    return str(token)


def log_in(client: FlaskClient, login: str, password: str = PASSWORD, **extra: str) -> Any:
    data = {"login": login, "password": password, "csrf_token": csrf_token(client)} | extra
    return client.post("/login", data=data)


def url_of(app: Flask, rule: Rule) -> str:
    with app.test_request_context():
        from flask import url_for

        values = URL_ARGUMENTS | ENDPOINT_ARGUMENTS.get(rule.endpoint, {})
        return url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})


def missing_rules(app: Flask) -> list[str]:
    return sorted(endpoint for endpoint, roles in rule_table(app).items() if roles is None)


# --------------------------------------------------------------------------- the matrix


def outcome(client: FlaskClient, app: Flask, rule: Rule, method: str) -> str:
    """What a request to ``rule`` got: allowed, login (sent to log in / 401), or forbidden."""
    url = url_of(app, rule)
    token = any_csrf_token(client)
    data = {"csrf_token": token} if method == "POST" else None
    with client.open(url, method=method, data=data, headers={"X-CSRFToken": token}) as r:
        if r.status_code == 401 or (r.status_code == 302 and r.location.startswith("/login")):
            return "login"
        if r.status_code == 403:
            return "forbidden"
        if r.status_code in (404, 410) and rule.arguments - {"filename", "fmt"}:
            return "allowed"  # the view ran and found no such object
        if r.status_code == 400 and method != "GET" and "csrf_failed" not in r.text:
            return "allowed"  # the view ran and refused the empty body (the CSRF token was good)
        assert r.status_code < 400, (rule.endpoint, r.status_code, r.text[:300])
        return "allowed"


def test_every_endpoint_has_a_rule_and_every_role_gets_what_the_rule_says(
    app: Flask, staff: dict[Role, str]
) -> None:
    assert missing_rules(app) == []
    table = rule_table(app)
    rules = [r for r in app.url_map.iter_rules()]
    assert {r.endpoint for r in rules} >= {
        "dashboard.index",
        "reports.fixity",
        "auth.login",
        "health.healthz",
    }
    for role in Role:
        client = app.test_client()
        if role is not Role.PUBLIC:
            assert log_in(client, staff[role]).status_code == 302
        for rule in rules:
            if rule.endpoint == "auth.logout":
                continue  # ends the session the rest of the loop needs; tested on its own below
            roles = table[rule.endpoint]
            assert roles is not None
            expected = "allowed" if role in roles else ("login" if role is Role.PUBLIC else "forbidden")
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                if rule.endpoint == "auth.login" and method == "POST":
                    continue  # a login attempt: tested on its own below
                assert outcome(client, app, rule, method) == expected, (role, rule.endpoint, method)


def test_pinned_rules_in_the_route_table(app: Flask) -> None:
    table = rule_table(app)
    fixity = {Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER, Role.AUDITOR}
    assert table["reports.fixity"] == table["reports.fixity_file"] == fixity  # it names damaged files
    assert table["dashboard.index"] == fixity | {Role.READER_SERVICES}  # every agency's figures
    assert table["health.healthz"] == table["auth.login"] == table["static"] == frozenset(Role)
    assert table["incidents.index"] == fixity  # damaged file names, as the fixity report
    assert table["incidents.acknowledge"] == {Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER}
    assert (
        table["restrictions.add"]
        == table["restrictions.lift"]
        == table["restrictions.declassify"]
        == {Role.ADMINISTRATOR, Role.READER_SERVICES}
    )
    assert Role.PUBLIC not in (table["restrictions.index"] or ())  # it names restricted records
    assert table["transfers.index"] == fixity | {Role.RECORDS_OFFICER}  # narrowed to their agency
    custody = {Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER}  # ingest and decisions on holdings
    for endpoint in ("jobs.ingest", "jobs.ingest_transfer", "api.ingests", "api.upload_start",
                     "api.upload_chunk", "api.upload", ):  # fmt: skip
        assert table[endpoint] == custody, endpoint
    for endpoint in ("holdings.aips", "holdings.aip", "api.aips", "api.aip", "jobs.job", "api.job"):
        assert table[endpoint] == table["dashboard.index"], endpoint  # not a records officer
    assert table["api.fixity"] == fixity
    assert table["policy.index"] == table["policy.entry"] == fixity  # as kholuu policy (READERS)
    for endpoint in ("users.index", "users.add", "users.set_active", "users.set_role", "users.set_password",
                     "users.setup_link", "users.issue_token", "users.revoke_token"):  # fmt: skip
        assert table[endpoint] == {Role.ADMINISTRATOR}, endpoint
    assert table["users.setup"] == frozenset(Role)  # the one-time link, before its user can log in
    assert table["transfers.decide"] == table["transfers.reply"] == custody  # CLI: CUSTODY
    assert table["transfers.confirm"] == custody | {Role.RECORDS_OFFICER}  # CLI: TRANSFERS
    assert table["api.openapi"] == frozenset(Role)
    assert Role.PUBLIC not in (table["auth.account"] or ()) and Role.PUBLIC not in (
        table["auth.whoami"] or ()
    )


def test_an_endpoint_without_a_rule_is_found_and_refused(app: Flask, staff: dict[Role, str]) -> None:
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret figures")
    assert missing_rules(app) == ["forgotten"]  # the matrix test above fails on such an app
    client = app.test_client()
    assert client.get("/forgotten").status_code == 403  # not even sent to log in
    log_in(client, staff[Role.ADMINISTRATOR])
    r = client.get("/forgotten")
    assert r.status_code == 403 and "secret figures" not in r.text
    assert VI.text("web.forbidden") in r.text


# --------------------------------------------------------------------------- logging in


def test_login_page_is_vietnamese_first_with_labels(app: Flask) -> None:
    client = app.test_client()
    r = client.get("/reports/fixity?since=2026-01-01")
    assert r.status_code == 302 and r.location == "/login?next=/reports/fixity?since%3D2026-01-01"
    page: Any = lxml_html.document_fromstring(client.get(r.location).data)
    assert page.get("lang") == "vi"
    labels = {lab.get("for"): lab.text_content() for lab in page.xpath("//form[@class='login']//label")}
    assert labels == {"login": VI.text("web.auth.login_name"), "password": VI.text("web.auth.password")}
    assert page.xpath("//input[@id='password']/@type") == ["password"]
    assert page.xpath("//input[@name='next']/@value") == ["/reports/fixity?since=2026-01-01"]
    english: Any = lxml_html.document_fromstring(client.get("/login?lang=en").data)
    assert english.xpath("string(//h1)") == EN.text("web.auth.title") == "Sign in"


def test_login_goes_to_next_and_the_cookie_is_httponly_and_lax(app: Flask, staff: dict[Role, str]) -> None:
    client = app.test_client()
    r = log_in(client, staff[Role.AUDITOR].upper(), next="/reports/fixity?since=2026-01-01")
    assert r.status_code == 302 and r.location == "/reports/fixity?since=2026-01-01"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("kholuu_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # [access] cookie_secure = false (the default)
    assert client.get("/reports/fixity").status_code == 200
    page: Any = lxml_html.document_fromstring(client.get("/account").data)
    assert page.xpath("string(//dd[@data-field='login'])") == "kiem.toan"
    assert page.xpath("//dd[@data-field='role']/@data-value") == ["auditor"]


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/login"])
def test_next_never_leaves_the_site(app: Flask, staff: dict[Role, str], target: str) -> None:
    r = log_in(app.test_client(), staff[Role.ADMINISTRATOR], next=target)
    assert r.location == "/"  # the administrator's first page


def test_next_a_role_may_not_open_lands_on_its_first_page(app: Flask, staff: dict[Role, str]) -> None:
    client = app.test_client()
    r = log_in(client, staff[Role.RECORDS_OFFICER], next="/reports/fixity")
    assert r.location == "/transfers"  # a records officer has no dashboard: their agency's transfers
    assert client.get("/reports/fixity").status_code == 403
    page: Any = lxml_html.document_fromstring(client.get("/account").data)
    assert page.xpath("string(//dd[@data-field='agency'])") == "H49.09"
    assert page.xpath("//nav[@class='pages']/a/@href") == ["/transfers"]  # none it would be refused


def test_cookie_secure_setting(
    settings: Settings, sessions: sessionmaker[Session], staff: dict[Role, str]
) -> None:
    from dataclasses import replace

    secure = replace(settings, access=replace(settings.access, cookie_secure=True))
    client = create_app(secure, sessions).test_client()
    assert "Secure" in log_in(client, staff[Role.AUDITOR]).headers["Set-Cookie"]


def test_a_post_without_its_csrf_token_is_refused(app: Flask, staff: dict[Role, str]) -> None:
    client = app.test_client()
    r = client.post("/login", data={"login": staff[Role.ADMINISTRATOR], "password": PASSWORD})
    assert r.status_code == 400 and VI.text("web.auth.csrf_failed") in r.text
    assert client.get("/").status_code == 302  # not logged in
    log_in(client, staff[Role.ADMINISTRATOR])
    assert client.post("/logout").status_code == 400  # no token: another site cannot log you out
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/").status_code == 200


def test_logout_ends_the_session(app: Flask, staff: dict[Role, str]) -> None:
    client = app.test_client()
    log_in(client, staff[Role.ADMINISTRATOR])
    page: Any = lxml_html.document_fromstring(client.get("/").data)
    (token,) = page.xpath("//form[@class='logout']/input[@name='csrf_token']/@value")
    r = client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 302 and r.location == "/login"
    assert client.get("/").status_code == 302


def test_a_refused_login_says_the_same_for_every_cause(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        set_active(s, staff[Role.AUDITOR], False)
    texts = set()
    for login, password in (
        ("ai.do", PASSWORD),
        (staff[Role.ADMINISTRATOR], "sai mật khẩu"),
        (staff[Role.AUDITOR], PASSWORD),
    ):
        r = log_in(app.test_client(), login, password)
        assert r.status_code == 401
        page: Any = lxml_html.document_fromstring(r.data)
        (message,) = page.xpath("//p[@role='alert']")
        texts.add((message.get("data-code"), message.text_content()))
        assert page.xpath("//input[@id='login']/@value") == [login]  # kept; the password is not
        assert PASSWORD not in r.text and "sai mật khẩu" not in r.text
    assert texts == {("account.login_refused", VI.text("account.login_refused"))}


def test_throttle_answers_429_with_retry_after(
    app: Flask, settings: Settings, staff: dict[Role, str]
) -> None:
    client = app.test_client()
    login = staff[Role.PRESERVATION_OFFICER]
    for _ in range(settings.access.login_max_failures):
        assert log_in(client, login, "sai mật khẩu").status_code == 401
    r = log_in(client, login)  # the right password, too late
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= settings.access.login_window_seconds
    minutes = -(-int(r.headers["Retry-After"]) // 60)
    assert VI.text("account.throttled", {"minutes": minutes}) in r.text
    assert log_in(client, staff[Role.AUDITOR]).status_code == 302  # another name from the same address


def test_password_change_and_disabling_end_open_sessions(
    app: Flask, settings: Settings, staff: dict[Role, str], sessions: sessionmaker[Session]
) -> None:
    first, second = app.test_client(), app.test_client()
    log_in(first, staff[Role.ADMINISTRATOR])
    log_in(second, staff[Role.AUDITOR])
    with sessions.begin() as s:
        set_password(s, settings.access, staff[Role.ADMINISTRATOR], "một mật khẩu mới hoàn toàn")
        set_active(s, staff[Role.AUDITOR], False)
    assert first.get("/").status_code == 302 and second.get("/reports/fixity").status_code == 302
    assert log_in(first, staff[Role.ADMINISTRATOR], "một mật khẩu mới hoàn toàn").status_code == 302
    assert first.get("/").status_code == 200


# --------------------------------------------------------------------------- API tokens


def test_bearer_tokens_on_the_api(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        issued = issue_token(s, staff[Role.RECORDS_OFFICER], "nộp lưu tự động")
        other = issue_token(s, staff[Role.AUDITOR], "báo cáo")
    client = app.test_client()
    r = client.get("/api/whoami", headers={"Authorization": f"Bearer {issued.token}"})
    assert r.status_code == 200
    assert r.json == {"login": "van.thu", "role": "records_officer", "agency": "H49.09", "channel": "api"}
    anonymous = client.get("/api/whoami")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.json is not None and anonymous.json["error"]["code"] == "web.auth.login_required"
    bad = client.get("/api/whoami", headers={"Authorization": "Bearer klu_notatoken"})
    assert bad.status_code == 401 and bad.json is not None
    assert bad.json["error"] == {"code": "account.token_refused", "message": VI.text("account.token_refused")}
    # a token opens the API only, never a page (pages take a session and a CSRF token)
    assert client.get("/", headers={"Authorization": f"Bearer {other.token}"}).status_code == 302
    with sessions.begin() as s:
        revoke_token(s, issued.id)
        set_active(s, staff[Role.AUDITOR], False)
    for token in (issued.token, other.token):
        assert client.get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --------------------------------------------------------------------------- the session key


def test_session_key_is_made_once_owner_only_and_refused_when_others_can_read_it(
    settings: Settings, sessions: sessionmaker[Session], staff: dict[Role, str]
) -> None:
    key_file = settings.home / SECRET_NAME
    assert not key_file.exists()
    client = create_app(settings, sessions).test_client()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes()) == 64
    log_in(client, staff[Role.ADMINISTRATOR])
    cookie = client.get_cookie("kholuu_session")
    assert cookie is not None
    again = create_app(settings, sessions).test_client()  # a restart, or a second process
    again.set_cookie("kholuu_session", cookie.value)
    assert again.get("/").status_code == 200
    assert key_file.read_bytes() not in Path(__file__).read_bytes()
    os.chmod(key_file, 0o644)
    with pytest.raises(SecretKeyError) as raised:
        load_secret_key(settings.home)
    assert raised.value.params == {"path": str(key_file), "mode": "0644"}
    assert re.search("chmod 600", EN.text(raised.value.code, raised.value.params))


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_throttle_counts_the_forwarded_address_only_behind_a_trusted_proxy(
    settings: Settings, sessions: sessionmaker[Session], staff: dict[Role, str], proxies: int
) -> None:
    from dataclasses import replace

    from sqlalchemy import select

    from repository.catalog.accounts import LoginFailure

    behind = replace(settings, access=replace(settings.access, trusted_proxies=proxies))
    client = create_app(behind, sessions).test_client()
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    token = csrf_token(client)
    data = {"login": staff[Role.AUDITOR], "password": "sai mật khẩu", "csrf_token": token}
    assert client.post("/login", data=data, headers=forwarded).status_code == 401
    with sessions() as s:
        (address,) = s.scalars(select(LoginFailure.address)).all()
    assert address == ("203.0.113.7" if proxies else "127.0.0.1")  # never a claim nobody vouches for


def test_a_session_ends_session_hours_after_login_however_busy(app: Flask, staff: dict[Role, str]) -> None:
    import time

    client = app.test_client()
    log_in(client, staff[Role.ADMINISTRATOR])
    assert client.get("/").status_code == 200
    with client.session_transaction() as cookie:
        cookie["since"] = int(time.time()) - 8 * 3600 - 1  # logged in more than [access] session_hours ago
    assert client.get("/").status_code == 302
    assert client.get_cookie("kholuu_session") is None  # the session was cleared, not kept


def test_sign_ins_refusals_and_sign_outs_are_in_the_staff_audit_log(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session]
) -> None:
    from repository.catalog.auditlog import read_entries, verify_chain

    client = app.test_client()
    assert log_in(client, staff[Role.AUDITOR], password="sai mật khẩu").status_code == 401
    assert log_in(client, staff[Role.AUDITOR]).status_code == 302
    token = csrf_token_of_page(client, "/account")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    with sessions() as s:
        rows = [(e.action, e.actor, e.role, e.channel) for e in read_entries(s)]
        assert verify_chain(s).ok
    assert rows[-3:] == [
        ("user.login_refused", "kiem.toan", "public", "web"),
        ("user.login", "kiem.toan", "auditor", "web"),
        ("user.logout", "kiem.toan", "auditor", "web"),
    ]
    assert not any("sai mật khẩu" in str(v) for row in rows for v in row)


def csrf_token_of_page(client: FlaskClient, path: str) -> str:
    page: Any = lxml_html.document_fromstring(client.get(path).data)
    return str(page.xpath("string(//input[@name='csrf_token']/@value)"))
