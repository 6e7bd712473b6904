"""Who may use which page: the one rule table of the web app, and the check before every request.

Every view declares the roles that may use it with :func:`allow` (``@allow(*STAFF_PAGES)``); the
rule table is read from the app's own view functions (:func:`rule_table`), so a page and its rule
cannot drift apart. Before each request :func:`guard`:

1. checks the CSRF token of every POST, PUT, PATCH and DELETE that is not authenticated by a
   bearer token (Flask-WTF; the token is in every form as ``csrf_token``);
2. identifies the actor (``g.actor``, a :class:`repository.actor.Actor`): a bearer API token on
   ``/api/…``, else the session cookie, else the anonymous public;
3. lets the request through when the endpoint's rule allows the actor's role (a rule with
   :attr:`Role.PUBLIC` allows everyone, logged in or not). Otherwise an anonymous reader is sent
   to the login page (``/api/…``: 401 JSON with ``WWW-Authenticate: Bearer``) and a logged-in
   one gets 403. **An endpoint with no rule is refused to everyone** (deny by default) and logged.

A public page (the catalog, search, OAI-PMH) is declared ``@allow(Role.PUBLIC)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, jsonify, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response as BaseResponse

from entrypoints.web.context import context, translator
from repository.actor import Actor, Channel, Role
from workflows.accounts.errors import TokenRefusedError
from workflows.accounts.tokens import authenticate_token
from workflows.accounts.users import session_actor

log = logging.getLogger("kholuu.web")

F = TypeVar("F", bound=Callable[..., Any])
RULE_ATTRIBUTE = "kholuu_roles"
EVERYONE = frozenset(Role)
STAFF = frozenset(r for r in Role if r is not Role.PUBLIC)
STAFF_PAGES = (Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER, Role.AUDITOR, Role.READER_SERVICES)
"""The dashboard: every staff role that reads across agencies (not a records officer, who sees
only their own agency's transfers)."""
CUSTODY = (Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER)
"""Who takes material into custody: ingest (browser upload, transfer folder, POST /api/v1/ingests)."""
FIXITY_READERS = (Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER, Role.AUDITOR)
"""The fixity report names damaged files of restricted hồ sơ: custody staff and auditors only."""
BUILTIN_RULES: Mapping[str, frozenset[Role]] = {"static": EVERYONE}
"""Endpoints Flask makes itself (the stylesheet)."""
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/"


def allow(*roles: Role) -> Callable[[F], F]:
    """Declare who may use a view. ``Role.PUBLIC`` among them means everyone."""
    allowed = EVERYONE if Role.PUBLIC in roles else frozenset(roles)
    if not allowed:
        raise ValueError("allow() needs at least one role")

    def mark(view: F) -> F:
        setattr(view, RULE_ATTRIBUTE, allowed)
        return view

    return mark


def rule_for(app: Flask, endpoint: str) -> frozenset[Role] | None:
    """The roles allowed on ``endpoint``; None when it has no rule (and is therefore refused)."""
    if endpoint in BUILTIN_RULES:
        return BUILTIN_RULES[endpoint]
    view = app.view_functions.get(endpoint)
    roles = getattr(view, RULE_ATTRIBUTE, None)
    return roles if isinstance(roles, frozenset) else None


def rule_table(app: Flask) -> dict[str, frozenset[Role] | None]:
    """Every endpoint of the app's route table with its rule (None: no rule)."""
    return {rule.endpoint: rule_for(app, rule.endpoint) for rule in app.url_map.iter_rules()}


def is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def _address() -> str:
    return request.remote_addr or ""


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _identify() -> Actor | Response:
    """The actor of this request, or the 401 answer to a bad token."""
    channel = Channel.API if is_api() else Channel.WEB
    token = _bearer() if is_api() else None
    sessions = context().sessions
    if token is not None:
        try:
            with sessions.begin() as db:
                return authenticate_token(db, token, address=_address())
        except TokenRefusedError as exc:
            return _api_answer(401, exc.code, exc.params)
    login, stamp, since = session.get("login"), session.get("stamp"), session.get("since")
    if isinstance(login, str) and isinstance(stamp, str) and _fresh(since):
        with sessions() as db:
            actor = session_actor(db, login, stamp, channel=channel, address=_address())
        if actor is not None:
            return actor
    if "login" in session:
        session.clear()  # expired, disabled, or the password changed since: log in again
    return Actor(name="", role=Role.PUBLIC, channel=channel, address=_address())


def _fresh(since: object) -> bool:
    """Whether a session opened at ``since`` (seconds since the epoch) is younger than
    ``[access] session_hours``: a session ends that long after login, however busy (the cookie's
    own expiry moves on with each request)."""
    hours = context().settings.access.session_hours
    return isinstance(since, int | float) and 0 <= time.time() - since < hours * 3600


def _api_answer(status: int, code: str, params: Mapping[str, Any] | None = None) -> Response:
    body = {"error": {"code": code, "message": translator().text(code, dict(params or {}))}}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kholuu"'
    return response


def guard() -> BaseResponse | None:
    """The check before every request (see the module's docstring)."""
    endpoint = request.endpoint
    if endpoint is None:  # no route: the 404 / 405 handler answers
        return None
    if request.method in UNSAFE_METHODS and not (is_api() and _bearer()):
        csrf: CSRFProtect = current_app.extensions["csrf"]
        csrf.protect()
    roles = rule_for(current_app, endpoint)
    try:
        found = _identify()
    except SQLAlchemyError:
        if roles != EVERYONE:
            raise  # a 503 page: who is asking cannot be known
        # /healthz, the stylesheet, a public page: they answer (or fail) on their own
        log.warning("catalog unreachable: %s %s served as to the public", request.method, request.path)
        found = Actor(name="", role=Role.PUBLIC, channel=Channel.API if is_api() else Channel.WEB)
    if isinstance(found, Response):
        return found
    g.actor = actor = found
    if roles is None:
        log.error("refused %s %s: the endpoint %r has no access rule", request.method, request.path, endpoint)
    elif actor.role in roles:
        return None
    if actor.role is Role.PUBLIC and roles is not None:
        if is_api():
            return _api_answer(401, "web.auth.login_required")
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("auth.login", next=target))
    if is_api():
        return _api_answer(403, "web.forbidden")
    raise Forbidden()


def current_actor() -> Actor:
    """The actor of this request (set by :func:`guard`)."""
    actor = g.get("actor")
    if not isinstance(actor, Actor):
        return Actor(name="", role=Role.PUBLIC, channel=Channel.WEB, address=_address())
    return actor


def may(endpoint: str) -> bool:
    """Whether this request's actor may use ``endpoint`` (for links in templates)."""
    roles = rule_for(current_app, endpoint)
    return roles is not None and current_actor().role in roles


__all__ = [
    "BUILTIN_RULES",
    "CUSTODY",
    "EVERYONE",
    "FIXITY_READERS",
    "STAFF",
    "STAFF_PAGES",
    "allow",
    "current_actor",
    "guard",
    "is_api",
    "may",
    "rule_for",
    "rule_table",
]
