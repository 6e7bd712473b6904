"""``/users``: staff accounts and API tokens, for administrators; ``/setup/<token>``: a one-time
link on which a user sets their own password.

Every change goes through the workflow functions ``kholuu user …`` and ``kholuu token …`` call
(:mod:`workflows.accounts.users`, :mod:`workflows.accounts.tokens`) and is written to the staff
audit log under the same action names, signed with the logged-in administrator, in the change's
own transaction. Forms carry the CSRF token (``access.guard`` checks it). An administrator cannot
disable their own account, and the last active administrator can be neither disabled nor given
another role (``account.self_disable``, ``account.last_administrator``).

A new API token is shown once, on the page that answers the POST that issued it; the catalog keeps
its hash only. A password is set in one of two ways: typed by the administrator (twice), or by the
user themself through a **one-time setup link**: making the link replaces the password with a
random one nobody knows (so the old one stops working and open sessions end), and the link carries
the account's password stamp, signed with the app's session key and valid for
``SETUP_HOURS``; setting the password changes the stamp, so the link works once.
"""

from __future__ import annotations

import json
import secrets
import unicodedata
from typing import Any

from flask import Blueprint, current_app, flash, get_flashed_messages, redirect, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from entrypoints.web.access import allow, current_actor
from entrypoints.web.context import context
from entrypoints.web.params import BadParameter, check_language, link
from repository.actor import Channel, Role
from repository.catalog.accounts import UserAccount
from repository.catalog.auditlog import record_action
from repository.catalog.records_store import list_agencies
from workflows.accounts import tokens, users
from workflows.accounts.errors import AccountError

bp = Blueprint("users", __name__)
bp.before_request(check_language)

ADMIN = (Role.ADMINISTRATOR,)
SETUP_HOURS = 72
SETUP_SALT = "kholuu-account-setup"
FIELD_LIMIT = 200


def _field(name: str, *, required: bool = True, limit: int = FIELD_LIMIT) -> str:
    value = unicodedata.normalize("NFC", request.form.get(name, "").strip())[:limit]
    if required and not value:
        raise BadParameter("web.missing_field", f"{name} is required", {"name": name})
    return value


def _role(name: str = "role") -> Role:
    raw = _field(name)
    choices = [r.value for r in users.STAFF_ROLES]
    if raw not in choices:
        raise BadParameter(
            "web.bad_choice",
            f"{name}={raw!r}: one of {', '.join(choices)}",
            {"name": name, "value": raw, "choices": ", ".join(choices)},
        )
    return Role(raw)


def _password() -> str:
    """The new password typed twice (never trimmed: spaces may be part of it)."""
    first, second = request.form.get("password", ""), request.form.get("password_again", "")
    if not first:
        raise BadParameter("web.missing_field", "password is required", {"name": "password"})
    if first != second:
        raise AccountError("the two passwords differ", code="account.password_mismatch", params={})
    return first


def _listing(session: Session, **shown: Any) -> str:
    rows = [users.user_dict(u) for u in users.list_users(session)]
    token_rows = [tokens.token_dict(t) for t in tokens.list_tokens(session)]
    agencies = [(a.organ_id, a.name) for a in list_agencies(session)]
    roles = [r.value for r in users.STAFF_ROLES]
    me = current_actor().name
    done = [json.loads(m) for m in get_flashed_messages() if isinstance(m, str)]
    return render_template(
        "users.html", users=rows, tokens=token_rows, agencies=agencies, roles=roles, me=me, done=done, **shown
    )


def _done(code: str, **params: Any) -> BaseResponse:
    """Back to the list (POST, redirect, GET), which says what was done."""
    flash(json.dumps({"code": code, "params": params}))
    return redirect(link("users.index"))


def _shown_once(**secret: Any) -> str:
    """The list with a secret shown this once (a token, a setup link): never put in the session
    or a redirect's address, so reloading the list does not show it again."""
    with context().sessions() as session:
        return _listing(session, **secret)


@bp.get("/users")
@allow(*ADMIN)
def index() -> str:
    with context().sessions() as session:
        return _listing(session)


@bp.post("/users")
@allow(*ADMIN)
def add() -> BaseResponse:
    login, display_name, role = _field("login", limit=64), _field("display_name", required=False), _role()
    agency = _field("agency", required=False) if role is Role.RECORDS_OFFICER else ""
    password = _password()
    with context().sessions.begin() as session:
        row = users.create_user(
            session,
            context().settings.access,
            login=login,
            display_name=display_name,
            role=role,
            password=password,
            agency=agency,
        )
        params = {"role": role.value, "agency": agency, "display_name": display_name}
        record_action(session, current_actor(), "user.add", row.login, params)
        folded = row.login
    return _done("web.users.added", login=folded)


@bp.post("/users/<login>/active")
@allow(*ADMIN)
def set_active(login: str) -> BaseResponse:
    active = request.form.get("active") == "1"
    with context().sessions.begin() as session:
        folded = users.set_active(session, login, active, by=current_actor()).login
        record_action(session, current_actor(), "user.enable" if active else "user.disable", folded, {})
    return _done("web.users.enabled" if active else "web.users.disabled", login=folded)


@bp.post("/users/<login>/role")
@allow(*ADMIN)
def set_role(login: str) -> BaseResponse:
    role = _role()
    agency = _field("agency", required=False) if role is Role.RECORDS_OFFICER else ""
    with context().sessions.begin() as session:
        row = users.set_role(session, login, role, agency=agency)
        params = {"role": role.value, "agency": agency}
        record_action(session, current_actor(), "user.role", row.login, params)
        folded = row.login
    return _done("web.users.role_set", login=folded)


@bp.post("/users/<login>/password")
@allow(*ADMIN)
def set_password(login: str) -> BaseResponse:
    password = _password()
    with context().sessions.begin() as session:
        folded = users.set_password(session, context().settings.access, login, password).login
        record_action(session, current_actor(), "user.passwd", folded, {})  # never the password
    return _done("web.users.password_set", login=folded)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=SETUP_SALT)


@bp.post("/users/<login>/setup")
@allow(*ADMIN)
def setup_link(login: str) -> str:
    """A one-time link for the user to set their own password; the old password stops working."""
    access = context().settings.access
    with context().sessions.begin() as session:
        row = users.set_password(session, access, login, secrets.token_urlsafe(32))
        token = _serializer().dumps({"login": row.login, "stamp": users.stamp_of(row)})
        record_action(session, current_actor(), "user.setup_link", row.login, {"hours": SETUP_HOURS})
        shown = {"login": row.login, "hours": SETUP_HOURS}
    shown["url"] = request.host_url.rstrip("/") + link("users.setup", token=token)
    return _shown_once(setup=shown)


def _setup_account(session: Session, token: str) -> UserAccount:
    """The account a setup link is for, while the link is unused and young enough; else 404 (one
    answer for a forged, expired or used link)."""
    try:
        data = _serializer().loads(token, max_age=SETUP_HOURS * 3600)
    except (SignatureExpired, BadSignature):
        raise NotFound() from None
    if not isinstance(data, dict):
        raise NotFound()
    try:
        user = users.find_user(session, str(data.get("login", "")))
    except AccountError:
        raise NotFound() from None
    if not user.active or users.stamp_of(user) != data.get("stamp"):
        raise NotFound()
    return user


@bp.route("/setup/<token>", methods=["GET", "POST"])
@allow(Role.PUBLIC)
def setup(token: str) -> str | BaseResponse:
    if request.method == "GET":
        with context().sessions() as session:
            user = _setup_account(session, token)
            return render_template("setup.html", login=user.login, token=token)
    password = _password()
    with context().sessions.begin() as session:
        user = _setup_account(session, token)
        users.set_password(session, context().settings.access, user.login, password)
        record_action(session, users.actor_of(user, Channel.WEB), "user.setup_done", user.login, {})
    return redirect(link("auth.login"))


@bp.post("/users/<login>/tokens")
@allow(*ADMIN)
def issue_token(login: str) -> str:
    label = _field("label")
    with context().sessions.begin() as session:
        issued = tokens.issue_token(session, login, label)
        record_action(
            session, current_actor(), "token.issue", issued.login, {"id": issued.id, "label": label}
        )
    shown = {"id": issued.id, "login": issued.login, "label": issued.label, "token": issued.token}
    return _shown_once(issued=shown)


@bp.post("/tokens/<int:token_id>/revoke")
@allow(*ADMIN)
def revoke_token(token_id: int) -> BaseResponse:
    with context().sessions.begin() as session:
        tokens.revoke_token(session, token_id)
        record_action(session, current_actor(), "token.revoke", str(token_id), {"id": token_id})
    return _done("web.users.token_revoked", id=token_id)


__all__ = ["SETUP_HOURS", "bp"]
