"""schemathesis against the WSGI app, on SQLite and PostgreSQL: requests generated from
/api/v1/openapi.json (valid and invalid ones), sent with a custody officer's API token, never get
a server error, and every answer conforms to the document (status codes, content types, JSON
schemas). An AIP and a job exist, so the paths that name one are reached too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import checks
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from repository.actor import Role
from repository.settings import Settings
from repository.storage.locations import open_locations
from tests.accounts import add_staff
from tests.web.test_staff import SAMPLE, bearer, transfer_home, wait_for

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]
"""Not ``positive_data_acceptance``: a request the schema allows may still be refused for what no
schema can say (a period longer than [audit] report_max_days, an agency not in the register)."""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return transfer_home(tmp_path)


@pytest.fixture
def ingested(settings: Settings, sessions: sessionmaker[Session]) -> tuple[Flask, dict[str, str]]:
    """The app with one AIP ingested through the API, and a custody officer's token."""
    open_locations(settings, initialize=True)
    app = create_app(settings, sessions)
    staff = add_staff(sessions, settings)
    auth = bearer(sessions, staff[Role.PRESERVATION_OFFICER])
    client = app.test_client()
    started = client.post("/api/v1/ingests", json={"transfer": SAMPLE.name}, headers=auth)
    assert wait_for(client, started.json["job_id"], auth)["status"] == "completed"
    (settings.home / "transfers" / SAMPLE.name).unlink()  # generated requests start no ingest
    return app, auth


@pytest.mark.timeout(900)
def test_generated_requests_get_no_server_error_and_answers_conform(
    ingested: tuple[Flask, dict[str, str]],
) -> None:
    app, auth = ingested
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tried: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
            database=None,
        )  # fmt: skip
        def call(case: Any) -> None:
            response = case.call(headers=auth)
            assert response.status_code < 500, (case.method, case.path, response.text[:500])
            case.validate_response(response, checks=CHECKS, headers=auth)

        call()
    assert len(tried) >= 8, tried
