"""The web app of Kho Lưu: the QĐ 458 dashboard, the fixity report for auditors, a health check.

Read-only in this version, and with no authentication yet: ``kholuu serve`` binds to loopback by
default and docs/web.md says what a deployment must put in front of it. The app is built by
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
from typing import Any

from flask import Flask, Response, render_template
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException

from entrypoints.errors import http_status
from entrypoints.web.context import EXTENSION, WebContext, translator
from entrypoints.web.params import BadParameter, link, template_helpers
from preservation.errors import ErrorKind, KholuuError
from repository.settings import Settings

log = logging.getLogger("kholuu.web")

SECURITY_HEADERS = {
    # No script anywhere; inline <style> because the fixity report is one self-contained page.
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
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
    from entrypoints.web import dashboard, health, oai, public, public_api, reports

    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Vietnamese stays readable
    app.extensions[EXTENSION] = WebContext(settings=settings, sessions=sessions)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(public_api.bp)
    app.register_blueprint(oai.bp)
    app.context_processor(template_helpers)
    app.after_request(_security_headers)
    _register_error_handlers(app)
    return app


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _register_error_handlers(app: Flask) -> None:
    """Error → status code, in one place. Every error is a page in the reader's language naming
    the problem; nothing shows a traceback."""

    def page(status: int, code: str, params: dict[str, Any], default: str) -> tuple[str, int]:
        t = translator()
        message = t.text(code, params, default=default)
        return render_template("error.html", status=status, message=message, code=code), status

    @app.errorhandler(KholuuError)
    def coded(exc: KholuuError) -> tuple[str, int]:
        if exc.kind in (ErrorKind.FAILED, ErrorKind.UNAVAILABLE):
            log.error("%s: %s", exc.code, exc)
        return page(http_status(exc), exc.code, exc.params, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        status = exc.code or 500
        code = "web.not_found" if status == 404 else "web.http_error"
        return page(status, code, {"status": status, "name": exc.name}, exc.description or exc.name)

    @app.errorhandler(SQLAlchemyError)
    def catalog_down(exc: SQLAlchemyError) -> tuple[str, int]:
        log.error("catalog error: %s", exc)
        return page(
            http_status(ErrorKind.UNAVAILABLE),
            "web.catalog_unavailable",
            {"problem": type(exc).__name__},
            "catalog unavailable",
        )

    @app.errorhandler(Exception)
    def internal(exc: Exception) -> tuple[str, int]:
        log.exception("unexpected error")
        return page(
            http_status(ErrorKind.FAILED),
            "web.internal_error",
            {"problem": type(exc).__name__},
            "internal error",
        )


__all__ = ["BadParameter", "WebContext", "create_app", "link"]
