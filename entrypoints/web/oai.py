"""``/oai``: the OAI-PMH 2.0 endpoint of the public catalog (:mod:`workflows.access.oai`).

GET and POST (``application/x-www-form-urlencoded``) as the protocol allows; every answer,
errors included, is an OAI-PMH document with HTTP 200, ``text/xml``. No login: the endpoint is in
:data:`entrypoints.web.public.PUBLIC_ENDPOINTS`.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from flask import Blueprint, Response, request, send_file, url_for

from entrypoints.web.access import allow
from entrypoints.web.context import context
from preservation.tt05.xsdgen import OAI_SCHEMA
from repository.actor import Role
from workflows.access.oai import Repository, respond

bp = Blueprint("oai", __name__)


def _repository() -> Repository:
    settings = context().settings
    root = request.url_root.rstrip("/")

    def url_of(dossier_code: str, key: str | None) -> str:
        if key is None:
            return root + url_for("public.dossier", code=dossier_code)
        return root + url_for("public.document", code=dossier_code, doc=key)

    return Repository(
        name=settings.archive.name or "Kho Lưu",
        base_url=root + url_for("oai.endpoint"),
        admin_email=_email(settings.archive.address),
        archive_id=settings.records.archive_id or "kholuu",
        url_of=url_of,
    )


def _email(address: str) -> str:
    """``[archive] address`` when it is a ``mailto:`` URI, else the host's postmaster (RFC 5321)."""
    if address.lower().startswith("mailto:") and "@" in address:
        return address[len("mailto:") :].split("?")[0]
    return f"postmaster@{socket.getfqdn()}"


@bp.route("/oai", methods=["GET", "POST"])
@allow(Role.PUBLIC)
def endpoint() -> Response:
    args = request.form if request.method == "POST" else request.args
    arguments = {key: args.getlist(key) for key in args}
    with context().sessions() as session:
        body = respond(session, _repository(), arguments, datetime.now(UTC).replace(microsecond=0))
    return Response(body, mimetype="text/xml")


@bp.route("/oai/tt05_ead.xsd")
@allow(Role.PUBLIC)
def tt05_schema() -> Response:
    """The schema of the ``tt05_ead`` format, where ListMetadataFormats says it is."""
    return send_file(OAI_SCHEMA, mimetype="application/xml", max_age=86400)


__all__ = ["bp"]
