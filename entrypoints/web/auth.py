"""``/login``, ``/logout``, ``/account`` and ``/api/whoami``: logging in and out, and who you are.

The login form posts the login name and password with its CSRF token; a refused login answers
401 with one message for every cause (unknown name, wrong password, disabled account), a
throttled one 429 with ``Retry-After`` (``workflows.accounts.throttle``). A successful login starts
a new session (the old one is cleared, so a session id planted before login is worthless) and
goes to ``next`` when that is a page of this site the user may open, else to the first page their
role may open. ``/logout`` is a POST (with the CSRF token), so that no link or image elsewhere can
log anyone out.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import replace
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response as BaseResponse

from entrypoints.web.access import STAFF, allow, current_actor, rule_for
from entrypoints.web.context import context
from entrypoints.web.params import check_language, link
from repository.actor import Actor, Channel, Role
from repository.catalog.auditlog import record_action
from workflows.accounts.errors import LoginRefusedError, LoginThrottledError
from workflows.accounts.users import authenticate

bp = Blueprint("auth", __name__)
bp.before_request(check_language)

LANDINGS = ("dashboard.index", "reports.fixity", "transfers.index", "auth.account")
"""Where a user goes after login when no ``next`` was asked for: the first their role may open."""
PAGES = {
    "dashboard.index": "web.nav.dashboard",
    "reports.fixity": "web.nav.fixity",
    "incidents.index": "web.nav.incidents",
    "restrictions.index": "web.nav.restrictions",
    "transfers.index": "web.nav.transfers",
    "requests.queue": "web.nav.requests",
    "policy.index": "web.nav.policy",
    "users.index": "web.nav.users",
}
"""The staff pages the account page links to, with their names' message codes."""


def _landing(role: Role) -> str:
    for endpoint in LANDINGS:
        roles = rule_for(current_app, endpoint)
        if roles is not None and role in roles:
            return link(endpoint)
    return link("auth.account")


def _safe_next(target: str, role: Role) -> str | None:
    """``target`` if it is a path of this site that ``role`` may open, else None (no open
    redirect to another site, no landing on a 403)."""
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith("//")
        or parts.scheme
        or parts.netloc
        or "\\" in target
    ):
        return None
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(parts.path, method="GET")
    except (HTTPException, RequestRedirect):
        return None
    roles = rule_for(current_app, endpoint)
    return target if roles is not None and role in roles and endpoint != "auth.login" else None


@bp.route("/login", methods=["GET", "POST"])
@allow(Role.PUBLIC)
def login() -> BaseResponse | tuple[str, int, dict[str, str]] | str:
    next_target = request.values.get("next", "")
    actor = current_actor()
    if actor.role is not Role.PUBLIC and request.method == "GET":
        return redirect(_safe_next(next_target, actor.role) or _landing(actor.role))
    if request.method == "GET":
        return render_template("login.html", next=next_target, login="", problem=None)
    name, password = request.form.get("login", ""), request.form.get("password", "")
    settings = context().settings
    problem: LoginRefusedError | LoginThrottledError | None = None
    with context().sessions.begin() as db:  # committed on a refusal too: the failure is counted
        address = request.remote_addr or ""
        try:
            done = authenticate(db, settings.access, name, password, address=address)
        except (LoginRefusedError, LoginThrottledError) as exc:
            problem = exc
            anonymous = Actor(
                name=unicodedata.normalize("NFC", name.strip())[:200],
                role=Role.PUBLIC,
                channel=Channel.WEB,
                address=address,
            )
            record_action(db, anonymous, "user.login_refused", anonymous.name, {"reason": exc.code})
        else:
            record_action(db, replace(done.actor, address=address), "user.login", done.actor.name, {})
    if problem is not None:
        headers = {}
        status = 401
        if isinstance(problem, LoginThrottledError):
            status, headers = 429, {"Retry-After": str(problem.retry_after)}
        page = render_template("login.html", next=next_target, login=name, problem=problem)
        return page, status, headers
    session.clear()
    session.permanent = True
    session["login"], session["stamp"], session["name"] = done.actor.name, done.stamp, done.display_name
    session["since"] = int(time.time())
    return redirect(_safe_next(next_target, done.actor.role) or _landing(done.actor.role))


@bp.post("/logout")
@allow(Role.PUBLIC)
def logout() -> BaseResponse:
    actor = current_actor()
    if actor.role is not Role.PUBLIC:
        with context().sessions.begin() as db:
            record_action(db, actor, "user.logout", actor.name, {})
    session.clear()
    return redirect(link("auth.login"))


@bp.get("/account")
@allow(*STAFF)
def account() -> str:
    role = current_actor().role
    pages = [(e, code) for e, code in PAGES.items() if role in (rule_for(current_app, e) or ())]
    return render_template("account.html", actor=current_actor(), name=session.get("name", ""), pages=pages)


@bp.get("/api/whoami")
@allow(*STAFF)
def whoami() -> Response:
    """Who the request is authenticated as (a bearer token's owner, or the session's user)."""
    actor = current_actor()
    return jsonify(
        {
            "login": actor.name,
            "role": actor.role.value,
            "agency": actor.agency,
            "channel": actor.channel.value,
        }
    )


__all__ = ["LANDINGS", "bp"]
