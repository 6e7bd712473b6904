"""The web app of Kho Lưu: the QĐ 458 dashboard, the fixity report for auditors, a health check,
and logging in (staff accounts, roles, API tokens: issue 13).

Every endpoint declares the roles that may use it (``entrypoints/web/access.py``); an endpoint
without a rule is refused. Sessions are signed cookies (HttpOnly, SameSite=Lax, Secure when
``[access] cookie_secure``) under a key kept in the data folder (``entrypoints/web/secret.py``);
every form POST carries a CSRF token (Flask-WTF). The app is built by
:func:`create_app` around settings loaded once at the entry point and a catalog session factory
(style guide item 16): nothing is read at import time and there is no module-level app, so
``kholuu serve`` and each test build their own. ``kholuu serve`` runs it under waitress; Flask's
development server is never used.

Domain errors know nothing about HTTP (style guide item 14): every coded error
(:class:`preservation.errors.KholuuError`) gets its status from its kind through the one table in
``entrypoints/errors.py``, which the CLI reads for its exit codes; :func:`_register_error_handlers`
applies it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, Response, jsonify, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from entrypoints.errors import http_status
from entrypoints.web.access import guard, is_api
from entrypoints.web.context import EXTENSION, WebContext, translator
from entrypoints.web.params import BadParameter, link, template_helpers
from entrypoints.web.secret import load_secret_key
from preservation.errors import ErrorKind, KholuuError
from repository.settings import Settings

log = logging.getLogger("kholuu.web")

SECURITY_HEADERS = {
    # Scripts only from /static (the ingest page's upload, a job's progress), never inline; they
    # talk to this site only. Inline <style> because the fixity report is one self-contained page.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no address leaves the site
    # The figures are the catalog's as of the request: never show a stale copy.
    "Cache-Control": "no-store",
}


def create_app(settings: Settings, sessions: sessionmaker[Session]) -> Flask:
    """The Flask app for this archive.

    Args:
        settings: loaded once by the caller (``kholuu serve``, a test).
        sessions: the catalog; the caller has checked it is at the current schema revision.

    Returns:
        A WSGI app; serve it with waitress (``kholuu serve``), never Flask's development server.
    """
    from entrypoints.web import (
        api,
        auth,
        dashboard,
        dissemination,
        health,
        holdings,
        incidents,
        jobs,
        oai,
        policy,
        public,
        public_api,
        reports,
        restrictions,
        transfers,
        users,
    )

    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Vietnamese stays readable
    app.extensions[EXTENSION] = WebContext(settings=settings, sessions=sessions)
    _configure_sessions(app, settings)
    app.before_request(guard)  # before every blueprint's own checks: who, and whether allowed
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(incidents.bp)
    app.register_blueprint(restrictions.bp)
    app.register_blueprint(transfers.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(public_api.bp)
    app.register_blueprint(oai.bp)
    app.register_blueprint(dissemination.bp)
    app.register_blueprint(holdings.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(policy.bp)
    app.register_blueprint(users.bp)
    app.context_processor(template_helpers)
    app.after_request(_security_headers)
    _register_error_handlers(app)
    return app


def _configure_sessions(app: Flask, settings: Settings) -> None:
    """Signed session cookies and CSRF tokens under the data folder's key; the client address
    from ``X-Forwarded-For`` only through as many proxies as ``[access] trusted_proxies`` says."""
    access = settings.access
    app.secret_key = load_secret_key(settings.home)
    app.config.update(
        SESSION_COOKIE_NAME="kholuu_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=access.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=access.session_hours),
        WTF_CSRF_CHECK_DEFAULT=False,  # access.guard checks every cookie-authenticated write
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session
        WTF_CSRF_SSL_STRICT=False,  # no Referer check: SameSite=Lax and the token suffice
    )
    CSRFProtect(app)
    if access.trusted_proxies:
        n = access.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _register_error_handlers(app: Flask) -> None:
    """Error → status code, in one place. Every error is a page in the reader's language naming
    the problem; nothing shows a traceback."""

    def page(status: int, code: str, params: dict[str, Any], default: str) -> tuple[str | Response, int]:
        t = translator()
        message = t.text(code, params, default=default)
        if is_api():  # the coded-error JSON of the CLI's --json
            body = {"error": {"code": code, "message": message, "params": _jsonable(params)}}
            return jsonify(body), status
        return render_template("error.html", status=status, message=message, code=code), status

    @app.errorhandler(KholuuError)
    def coded(exc: KholuuError) -> tuple[str | Response, int]:
        if exc.kind in (ErrorKind.FAILED, ErrorKind.UNAVAILABLE):
            log.error("%s: %s", exc.code, exc)
        return page(http_status(exc), exc.code, exc.params, str(exc))

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError) -> tuple[str | Response, int]:
        log.warning("CSRF check failed: %s", exc.description)
        return page(400, "web.auth.csrf_failed", {}, "the form has expired; reload the page")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str | Response, int]:
        status = exc.code or 500
        code = {404: "web.not_found", 403: "web.forbidden"}.get(status, "web.http_error")
        return page(status, code, {"status": status, "name": exc.name}, exc.description or exc.name)

    @app.errorhandler(SQLAlchemyError)
    def catalog_down(exc: SQLAlchemyError) -> tuple[str | Response, int]:
        log.error("catalog error: %s", exc)
        return page(
            http_status(ErrorKind.UNAVAILABLE),
            "web.catalog_unavailable",
            {"problem": type(exc).__name__},
            "catalog unavailable",
        )

    @app.errorhandler(Exception)
    def internal(exc: Exception) -> tuple[str | Response, int]:
        log.exception("unexpected error")
        return page(
            http_status(ErrorKind.FAILED),
            "web.internal_error",
            {"problem": type(exc).__name__},
            "internal error",
        )


def _jsonable(value: Any) -> Any:
    """Params as JSON can carry them (a path, a date: their text)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


__all__ = ["BadParameter", "WebContext", "create_app", "link"]
