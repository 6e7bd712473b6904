"""The public viewer of access copies, on an AIP ingested by ``kholuu ingest`` and read back from
storage (both catalogs): a public tài liệu's PDF inline with byte ranges; closed ones not found."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from entrypoints.web import create_app
from preservation.tt05.model import doc_code
from repository.catalog.db import make_engine, session_factory
from repository.settings import load_settings
from tests.cli.test_cli_export import Kholuu, cli_dossier, stored  # noqa: F401  (fixtures)
from tests.tt05 import FILE_CODE
from tests.workflows.test_export import DOCUMENTS, OPEN_PDF


@pytest.fixture
def client(stored: tuple[Kholuu, str], database_url: str) -> tuple[FlaskClient, Engine]:  # noqa: F811
    kholuu, _ = stored
    home = Path(str(kholuu.env["KHOLUU_HOME"]))
    settings = load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})
    engine = make_engine(database_url)
    return create_app(settings, session_factory(engine)).test_client(), engine


def test_a_public_pdf_is_shown_inline_with_ranges_and_closed_files_are_not_found(
    client: tuple[FlaskClient, Engine],
) -> None:
    web, engine = client
    try:
        page = web.get(f"/records/{quote(FILE_CODE)}/{quote(doc_code(FILE_CODE, 1))}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert OPEN_PDF in html and 'data-mime="application/pdf"' in html
        (link,) = [part.split('"')[0] for part in html.split('href="')[1:] if "/files/" in part]
        with web.get(link) as whole:  # the test client keeps the file open until closed
            assert whole.status_code == 200 and whole.mimetype == "application/pdf"
            assert whole.get_data() == DOCUMENTS[OPEN_PDF][2]
            assert whole.headers["Content-Disposition"].startswith("inline")
        with web.get(link, headers={"Range": "bytes=0-7"}) as ranged:
            assert ranged.status_code == 206 and ranged.get_data() == DOCUMENTS[OPEN_PDF][2][:8]
        dossier = web.get(f"/records/{quote(FILE_CODE)}").get_data(as_text=True)
        listed = [d for d in DOCUMENTS.values() if d[1] in dossier]
        assert listed == [DOCUMENTS[OPEN_PDF]]  # 02, 03 and the restricted one are not listed
        for ordinal in (2, 3, 4):
            closed = f"/records/{quote(FILE_CODE)}/{quote(doc_code(FILE_CODE, ordinal))}"
            assert web.get(closed).status_code == 404
            assert (
                web.get(
                    link.replace(quote(doc_code(FILE_CODE, 1)), quote(doc_code(FILE_CODE, ordinal)))
                ).status_code
                == 404
            )
    finally:
        engine.dispose()
