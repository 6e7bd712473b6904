"""The OpenAPI 3.1 document of ``/api/v1``, built from the app's own views.

Each API view declares its operation next to itself with :func:`operation` (as it declares its
rule with ``allow``); :func:`openapi_document` walks ``app.url_map`` and collects them, so any
blueprint's routes are documented by declaring them, and a route under ``/api/v1`` with no
operation is found by the test that compares the two. Schemas an operation names are declared
with it (``schemas=``) and gathered into ``components``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from flask import Flask

F = TypeVar("F", bound=Callable[..., Any])
OPERATIONS_ATTRIBUTE = "kholuu_openapi"
API_V1 = "/api/v1"
_VARIABLE = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable error code (docs/cli.md)."},
                "message": {"type": "string", "description": "The problem in the reader's language."},
                "params": {"type": "object", "description": "The values the message names."},
            },
        }
    },
}
STATUS_TEXT = {
    400: "The request is not one the server can use.",
    401: "No valid API token (Authorization: Bearer …) or session.",
    403: "The token's role may not do this.",
    404: "Not found.",
    409: "Refused in the current state.",
    503: "The catalog or storage is unavailable; try again later.",
}


def error_response(status: int) -> dict[str, Any]:
    return {
        "description": STATUS_TEXT.get(status, "Error."),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def json_response(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": dict(schema)}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def operation(
    method: str,
    *,
    summary: str,
    responses: Mapping[int, Mapping[str, Any]],
    parameters: Sequence[Mapping[str, Any]] | None = None,
    request_body: Mapping[str, Any] | None = None,
    schemas: Mapping[str, Mapping[str, Any]] | None = None,
    errors: tuple[int, ...] = (401, 403),
    public: bool = False,
) -> Callable[[F], F]:
    """Declare the OpenAPI operation of a view for ``method`` (a view with several methods
    declares each). ``errors`` adds the coded-error responses; ``public`` drops the security."""

    def mark(view: F) -> F:
        declared: dict[str, Any] = dict(getattr(view, OPERATIONS_ATTRIBUTE, {}))
        op: dict[str, Any] = {
            "summary": summary,
            "operationId": f"{view.__name__}_{method.lower()}",
            "responses": {str(k): dict(v) for k, v in responses.items()}
            | {str(s): error_response(s) for s in errors if s not in responses},
        }
        if parameters:
            op["parameters"] = [dict(p) for p in parameters]
        if request_body is not None:
            op["requestBody"] = dict(request_body)
        if public:
            op["security"] = []
        declared[method.lower()] = (op, dict(schemas or {}))
        setattr(view, OPERATIONS_ATTRIBUTE, declared)
        return view

    return mark


def openapi_path(rule: str) -> str:
    """``/api/v1/aips/<aip_id>`` → ``/aips/{aip_id}`` (relative to the server's ``/api/v1``)."""
    return _VARIABLE.sub(r"{\1}", rule).removeprefix(API_V1)


def api_rules(app: Flask) -> list[tuple[str, str, str]]:
    """Every (rule, method, endpoint) of the app under ``/api/v1``."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_V1 + "/") or rule.rule == API_V1:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                out.append((rule.rule, method, rule.endpoint))
    return out


def openapi_document(app: Flask, *, title: str, version: str) -> dict[str, Any]:
    """The document: every declared operation of every ``/api/v1`` rule."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for rule, method, endpoint in api_rules(app):
        declared = getattr(app.view_functions.get(endpoint), OPERATIONS_ATTRIBUTE, {})
        if method.lower() not in declared:
            continue
        op, own = declared[method.lower()]
        paths.setdefault(openapi_path(rule), {})[method.lower()] = op
        schemas.update(own)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Kho Lưu REST API (docs/web.md). Errors are JSON: "
            '{"error": {"code", "message", "params"}}; the message is in the language of ?lang= '
            "or [ui] language.",
        },
        "servers": [{"url": API_V1}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def undocumented(app: Flask) -> list[str]:
    """``METHOD rule`` of every ``/api/v1`` route with no declared operation."""
    missing = []
    for rule, method, endpoint in api_rules(app):
        declared = getattr(app.view_functions.get(endpoint), OPERATIONS_ATTRIBUTE, {})
        if method.lower() not in declared:
            missing.append(f"{method} {rule}")
    return missing


__all__ = [
    "API_V1",
    "error_response",
    "json_response",
    "openapi_document",
    "openapi_path",
    "operation",
    "ref",
    "undocumented",
]
