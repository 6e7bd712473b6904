"""``/healthz``: whether this process can serve, for a load balancer or a monitoring probe.

It answers 200 ``{"status": "ok", "catalog": "ok"}`` after a real query of the catalog, and 503
``{"status": "unavailable", "catalog": "unreachable"}`` when the catalog cannot be queried (the
database is down, the file is gone): the app cannot show a figure without it. The error's class
is named, never its text, which can hold a database URL.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from entrypoints.web.access import allow
from entrypoints.web.context import context
from repository.actor import Role
from repository.catalog.models import Aip

bp = Blueprint("health", __name__)
log = logging.getLogger("kholuu.web")


@bp.get("/healthz")
@allow(Role.PUBLIC)  # a load balancer probes it without an account; it names no record
def healthz() -> tuple[Response, int]:
    try:
        with context().sessions() as session:
            session.execute(select(Aip.id).limit(1)).all()  # a table of ours, not just "select 1"
    except SQLAlchemyError as exc:
        log.warning("health check: the catalog cannot be queried: %s", type(exc).__name__)
        body = {"status": "unavailable", "catalog": "unreachable", "problem": type(exc).__name__}
        return jsonify(body), 503
    return jsonify({"status": "ok", "catalog": "ok"}), 200


__all__ = ["bp"]
