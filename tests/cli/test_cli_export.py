"""``kholuu export`` as an archivist runs it (in-process, both catalogs): files written, what was
withheld and why, the exit codes and the messages of every refusal."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select

from entrypoints.cli import app as cli
from entrypoints.cli.main import main
from preservation.tt05.model import doc_code
from preservation.tt05.tables import load_tables
from repository.catalog.db import make_engine, session_factory
from repository.catalog.records import Dossier
from repository.catalog.records_store import restrict
from tests.conftest import HeadSchema
from tests.data_folder import DataFolders, data_folders
from tests.tt05 import FILE_CODE
from tests.workflows.test_export import DOCUMENTS, OPEN_PDF, documents_sip

RECIPIENT = "Trung tâm Lưu trữ quốc gia III"
TRANSFER = "42/QĐ-VTLTNN"


class Kholuu:
    """Runs ``kholuu`` in-process with this test's home and catalog."""

    def __init__(self, home: Path, database_url: str) -> None:
        self.database_url = database_url
        self.env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KHOLUU_")}
        self.env.update({"KHOLUU_HOME": str(home), "KHOLUU_DATABASE_URL": database_url})
        self.runner = CliRunner()

    def __call__(self, *args: str, lang: str = "en") -> Result:
        engines: list[Engine] = []

        def tracked_engine(url: str, **kwargs: Any) -> Engine:
            engine = make_engine(url, **kwargs)
            engines.append(engine)
            return engine

        with pytest.MonkeyPatch.context() as patch:  # one command, one engine, closed here
            patch.setattr(cli, "make_engine", tracked_engine)
            try:
                return self.runner.invoke(main, ["--lang", lang, *args], env=self.env, catch_exceptions=False)
            finally:
                for engine in engines:
                    engine.dispose()

    def json(self, *args: str, code: int = 0) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)

    def restrict(self, *, dossier: bool = False, ordinal: int = 0) -> None:
        restrict_the_dossier(self.database_url, dossier=dossier, ordinal=ordinal)


def restrict_the_dossier(database_url: str, *, dossier: bool = False, ordinal: int = 0) -> None:
    """Put the catalog's one hồ sơ (``dossier``) or its tài liệu ``ordinal`` on the list of tài liệu
    tiếp cận có điều kiện."""
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as s:
            row = s.scalars(select(Dossier)).one()
            restrict(
                s,
                dossier_id=row.id if dossier else None,
                document_id=None if dossier else row.documents[ordinal - 1].id,
                decision_number="15/QĐ-LTLS",
                decision_date=date(2025, 3, 1),
                reason="Đang chỉnh lý",
                by="Lê Văn Tâm",
            )
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def cli_dossier(
    tmp_path_factory: pytest.TempPathFactory, head_schema: HeadSchema
) -> Iterator[DataFolders[str]]:
    """A data folder initialised and filled by the command line (``kholuu init``, ``kholuu ingest``)
    with the four-document dossier of the workflow tests, document 4 restricted; once per session
    and backend."""

    def build(home: Path, database_url: str) -> str:
        kholuu = Kholuu(home, database_url)
        assert kholuu("init", "--json").exit_code == 0
        sip = documents_sip(home.parent, load_tables())
        aip_id = str(kholuu.json("ingest", str(sip))["aip_id"])
        kholuu.restrict(ordinal=4)
        return aip_id

    yield from data_folders(tmp_path_factory, head_schema, "cli-export-dossier", build)


@pytest.fixture
def stored(cli_dossier: DataFolders[str], database_url: str, tmp_path: Path) -> tuple[Kholuu, str]:
    """This test's own copy of that data folder and catalog."""
    copy = cli_dossier.copy(database_url, tmp_path / "home")
    return Kholuu(copy.home, database_url), copy.value


DIP_OPTIONS = (
    "--format",
    "tt05-dip",
    "--request-id",
    "YC-2025-0042",
    "--request-date",
    "20/03/2025",
    "--purpose",
    "cong vu",
    "--purpose-content",
    "Nghiên cứu lịch sử trụ sở",
)


def test_export_each_format_and_say_what_was_withheld(stored: tuple[Kholuu, str], tmp_path: Path) -> None:
    kholuu, aip_id = stored
    dip = tmp_path / "dip.zip"
    data = kholuu.json("export", aip_id[:13], *DIP_OPTIONS, "--out", str(dip))
    assert data["aip_id"] == aip_id and data["format"] == "tt05-dip" and dip.is_file()
    assert data["released"] == [doc_code(FILE_CODE, 1)]
    assert {w["ordinal"]: w["reason"] for w in data["withheld"]} == {
        2: "export.withheld_conditional",
        3: "export.withheld_secret",
        4: "export.withheld_restricted",
    }
    with zipfile.ZipFile(dip) as zf:
        data_files = [n.rsplit("/", 1)[1] for n in zf.namelist() if "/data/" in n]
    assert data_files == [OPEN_PDF]

    # the same in Vietnamese, for a person: the withheld documents with their reasons on stderr
    human = kholuu(
        "export",
        aip_id,
        *DIP_OPTIONS,
        "--approved-conditional",
        "27/QĐ-TTLT",
        "--out",
        str(tmp_path / "dip2.zip"),
        lang="vi",
    )
    assert human.exit_code == 0, human.output
    assert "Đã xuất AIP" in human.stdout and "27/QĐ-TTLT" in human.stdout
    assert f"+ {doc_code(FILE_CODE, 2)}" in human.stdout  # 02 released under the approval
    assert "Tài liệu không được cung cấp (không có trong DIP): 2." in human.stderr
    assert f"{doc_code(FILE_CODE, 3)}: mức độ tiếp cận Mật (03)" in human.stderr
    assert "quyết định 15/QĐ-LTLS ngày 2025-03-01" in human.stderr

    transfer = ("--recipient", RECIPIENT, "--decision", TRANSFER)
    aip = kholuu.json("export", aip_id, "--format", "tt05-aip", *transfer, "--out", str(tmp_path / "aip.zip"))
    assert aip["files"] > len(DOCUMENTS) and aip["withheld"] == [] and aip["dip_id"] is None
    assert (aip["recipient"], aip["decision"]) == (RECIPIENT, TRANSFER)
    assert [r["code"] for r in aip["restricted"]] == [doc_code(FILE_CODE, 3), doc_code(FILE_CODE, 4)]
    bag = kholuu(
        "export", aip_id, "--format", "bagit", *transfer, "--out", str(tmp_path / "bag.zip"), lang="vi"
    )
    assert bag.exit_code == 0 and "Đã xuất AIP" in bag.stdout and (tmp_path / "bag.zip").is_file()
    assert f"Nơi nhận: {RECIPIENT}." in bag.stdout
    assert f"Chuyển giao theo quyết định {TRANSFER}" in bag.stdout and doc_code(FILE_CODE, 3) in bag.stdout


def test_refusals_name_the_problem_and_write_nothing(stored: tuple[Kholuu, str], tmp_path: Path) -> None:
    kholuu, aip_id = stored
    out = tmp_path / "out.zip"

    bad = kholuu.json("export", aip_id, *DIP_OPTIONS, "--purpose", "09", "--out", str(out), code=2)
    assert bad["error"]["code"] == "export.bad_request"
    (detail,) = bad["details"]
    assert detail["code"] == "tt05.bad_code" and "purpose" in detail["text"] and "09" in detail["text"]

    wrong = kholuu.json("export", aip_id, "--format", "bagit", "--note", "x", "--out", str(out), code=2)
    assert wrong["error"]["code"] == "export.request_not_dip"
    missing = kholuu.json("export", aip_id, "--format", "tt05-dip", "--out", str(out), code=2)
    assert missing["error"]["code"] == "export.request_missing"
    unknown = kholuu.json(
        "export",
        "uuid-00000000-0000",
        "--format",
        "bagit",
        "--recipient",
        RECIPIENT,
        "--out",
        str(out),
        code=4,
    )
    assert unknown["error"]["code"] == "catalog.not_found"
    nobody = kholuu.json("export", aip_id, "--format", "tt05-aip", "--out", str(out), code=2)
    assert nobody["error"]["code"] == "export.recipient_missing"
    not_dip = kholuu.json("export", aip_id, *DIP_OPTIONS, "--recipient", RECIPIENT, "--out", str(out), code=2)
    assert not_dip["error"]["code"] == "export.transfer_not_dip"

    # Mật and listed records leave only under a decision: each is named, with why, and nothing written
    secret = kholuu(
        "export", aip_id, "--format", "bagit", "--recipient", RECIPIENT, "--out", str(out), lang="vi"
    )
    assert secret.exit_code == 3 and secret.stdout == ""
    assert "--decision" in secret.stderr
    assert f"  - {doc_code(FILE_CODE, 3)}: mức độ tiếp cận Mật (03)." in secret.stderr
    assert f"  - {doc_code(FILE_CODE, 4)}: thuộc danh mục tài liệu tiếp cận có điều kiện" in secret.stderr
    assert not out.exists()

    kholuu.restrict(dossier=True)
    refused = kholuu("export", aip_id, *DIP_OPTIONS, "--out", str(out))
    assert refused.exit_code == 3
    assert refused.stdout == "" and "No document of AIP" in refused.stderr
    assert "on the list of conditional-access records (H49.64.33.2024.01.XD" in refused.stderr
    assert refused.stderr.count("  - ") == len(DOCUMENTS)  # each withheld document, with its reason

    home = Path(str(kholuu.env["KHOLUU_HOME"]))
    (pdf,) = (home / "storage" / "primary").rglob("*.pdf")
    pdf.write_bytes(pdf.read_bytes()[::-1])
    damaged = kholuu.json(
        "export",
        aip_id,
        "--format",
        "tt05-aip",
        "--recipient",
        RECIPIENT,
        "--decision",
        TRANSFER,
        "--out",
        str(out),
        code=1,
    )
    assert damaged["error"]["code"] == "fetch.all_copies_failed"
    assert OPEN_PDF in damaged["error"]["message"]

    out.write_bytes(b"keep")
    exists = kholuu.json("export", aip_id, "--format", "bagit", "--out", str(out), code=2)
    assert exists["error"]["code"] == "export.out_exists" and out.read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
