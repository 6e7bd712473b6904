"""What the command line says when something is wrong (issue 11 items 8 and 9).

Every failure is one JSON object with ``--json`` (a sentence on stderr without), in the user's
language with every placeholder filled, and the exit code of its kind (docs/cli.md): never a
traceback, never ``{algorithm}``.
"""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from entrypoints.cli import app as cli
from entrypoints.cli.main import main
from repository.catalog.db import make_engine
from tests.conftest import SAMPLES, cli_env

KHOLUU = str(Path(sys.executable).parent / "kholuu")
EARK_SIP = Path(__file__).resolve().parents[1] / "data" / "eark-sip" / "minimal"


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The command line's answers do not depend on the catalog's engine (SQLite files are what
    can be "not a database" or locked by another process)."""
    return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"


class Kholuu:
    """``kholuu`` in-process against one home; a bug that raises reaches the test as it is."""

    def __init__(self, home: Path, database_url: str, **engine_options: Any) -> None:
        self.env = cli_env(home, database_url)
        self.engine_options = engine_options
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        engines: list[Engine] = []

        def engine(url: str, **kwargs: Any) -> Engine:
            made = make_engine(url, **{**kwargs, **self.engine_options})
            engines.append(made)
            return made

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cli, "make_engine", engine)
            try:
                return self.runner.invoke(main, list(args), env=self.env, catch_exceptions=False)
            finally:
                for made in engines:
                    made.dispose()


@pytest.fixture
def kholuu(home: Path, database_url: str) -> Iterator[Kholuu]:
    run = Kholuu(home, database_url)
    assert run("init", "--json").exit_code == 0
    yield run


def one_error(result: Result, code: str, exit_code: int) -> dict[str, Any]:
    """The run printed exactly one JSON object, the error ``code``, and exited with ``exit_code``."""
    assert result.exit_code == exit_code, result.output
    payload = json.loads(result.stdout)
    assert payload["error"]["code"] == code, payload
    assert "{" not in payload["error"]["message"], payload
    return payload


# --------------------------------------------------------------------------- item 8


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_bagit_checksum_refusal_is_filled(kholuu: Kholuu, tmp_path: Path, lang: str) -> None:
    bag = tmp_path / "bag"
    shutil.copytree(SAMPLES / "sip-bag-cong-van", bag)
    (bag / "data" / "mo-ta-ho-so.xml").write_text("<changed/>", encoding="utf-8")
    as_json = kholuu("--lang", lang, "ingest", str(bag), "--json")
    assert as_json.exit_code == 3, as_json.output
    payload = json.loads(as_json.stdout)
    assert "{" not in payload["error"]["message"], payload["error"]
    assert all("{" not in e["message"] for e in payload["errors"]), payload["errors"]
    assert any("mo-ta-ho-so.xml" in e["message"] for e in payload["errors"])
    text = kholuu("--lang", lang, "ingest", str(bag))
    assert text.exit_code == 3 and "{" not in text.output and "mo-ta-ho-so.xml" in text.output


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_issue11_item8_submission_that_is_a_link_names_its_target(
    kholuu: Kholuu, tmp_path: Path, lang: str
) -> None:
    """``Link '…' points outside the submission ({target})``: the target is named."""
    real = tmp_path / "real"
    shutil.copytree(SAMPLES / "sip-folder-quyet-dinh", real)
    link = tmp_path / "link"
    link.symlink_to(real)
    payload = one_error(kholuu("--lang", lang, "ingest", str(link), "--json"), "unpack.link_escapes", 3)
    assert str(real) in payload["error"]["message"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_issue11_item8_eark_checksum_refusal_is_filled(kholuu: Kholuu, tmp_path: Path, lang: str) -> None:
    sip = tmp_path / "sip"
    shutil.copytree(EARK_SIP, sip)
    (sip / "representations" / "rep1" / "data" / "phu-luc" / "danh-sach.txt").write_text(
        "sửa", encoding="utf-8"
    )
    result = kholuu("--lang", lang, "ingest", str(sip), "--json")
    payload = one_error(result, "fixity.supplied_mismatch", 3)
    message = payload["error"]["message"]
    assert "sha" in message.lower() and "danh-sach.txt" in message and "METS" in message, message
    (record,) = payload["errors"]
    assert "{" not in record["message"] and "danh-sach.txt" in record["message"]
    text = kholuu("--lang", lang, "ingest", str(sip))
    assert text.exit_code == 3 and "{" not in text.output


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_issue11_item8_an_uncoded_failure_shows_its_cause(
    kholuu: Kholuu, tmp_path: Path, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Lỗi nội bộ: {message}``: a step that raises an exception nobody coded (like Pillow's
    ``TypeError: Missing dimensions``) is named with its cause, in the error and in the job."""
    import workflows.ingest.steps as steps

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise TypeError("Missing dimensions")

    monkeypatch.setattr(steps, "payload_digest", broken)
    folder = tmp_path / "sip"
    shutil.copytree(SAMPLES / "sip-folder-quyet-dinh", folder)
    result = kholuu("--lang", lang, "ingest", str(folder), "--json")
    payload = one_error(result, "internal.error", 1)
    assert "TypeError: Missing dimensions" in payload["error"]["message"]
    (record,) = payload["errors"]
    assert "TypeError: Missing dimensions" in record["message"] and "{" not in record["message"]
    shown = kholuu("--lang", lang, "job", "show", payload["job_id"])
    assert shown.exit_code == 0 and "{" not in shown.output and "Missing dimensions" in shown.output


# --------------------------------------------------------------------------- item 9


@pytest.mark.parametrize("as_json", [True, False])
def test_issue11_item9_home_missing(tmp_path: Path, database_url: str, as_json: bool) -> None:
    run = Kholuu(tmp_path / "no-such-folder", f"sqlite:///{tmp_path / 'no-such-folder' / 'catalog.sqlite3'}")
    result = run("--lang", "en", "aip", "list", *(["--json"] if as_json else []))
    if as_json:
        payload = one_error(result, "settings.home_missing", 2)
        assert str(tmp_path / "no-such-folder") in payload["error"]["message"]
    else:
        assert result.exit_code == 2 and result.stdout == ""
        assert "kholuu init" in result.stderr and "no-such-folder" in result.stderr


def test_issue11_item9_catalog_not_a_database(kholuu: Kholuu, home: Path, database_url: str) -> None:
    catalog = Path(database_url.removeprefix("sqlite:///"))
    for leftover in catalog.parent.glob(catalog.name + "-*"):
        leftover.unlink()
    catalog.write_bytes(b"this is not a database, it is a text file\n" * 100)
    payload = one_error(kholuu("--lang", "vi", "aip", "list", "--json"), "catalog.not_a_database", 2)
    assert str(catalog) in payload["error"]["message"]
    assert kholuu("--lang", "en", "init", "--json").exit_code == 2


def test_issue11_item9_catalog_not_a_database_in_a_real_process(home: Path, tmp_path: Path) -> None:
    """The same, as an operator sees it: stderr holds one line, no traceback."""
    catalog = tmp_path / "catalog.sqlite3"
    catalog.write_bytes(b"\x00garbage" * 512)
    home.mkdir(exist_ok=True)
    env = cli_env(home, f"sqlite:///{catalog}")
    done = subprocess.run([KHOLUU, "aip", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert str(catalog) in done.stderr


def test_issue11_item9_catalog_locked_by_another_process(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    assert Kholuu(home, database_url)("init", "--json").exit_code == 0
    run = Kholuu(home, database_url, connect_args={"timeout": 0.2})  # not the usual 30 s wait
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        folder = tmp_path / "sip"
        shutil.copytree(SAMPLES / "sip-folder-quyet-dinh", folder)
        payload = one_error(run("--lang", "en", "ingest", str(folder), "--json"), "catalog.locked", 5)
        assert "another process" in payload["error"]["message"]
        text = run("--lang", "vi", "ingest", str(folder))
        assert text.exit_code == 5 and "khóa" in text.stderr
    finally:
        holder.close()


def test_issue11_item9_full_disk_is_an_error_not_a_traceback(
    kholuu: Kholuu, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI side of a full disk under the home: the file and the reason, exit code 1."""
    import workflows.ingest.pipeline as ingest_module

    where = str(tmp_path / "home" / "work" / "x")

    def full(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", where)

    monkeypatch.setattr(ingest_module, "ingest", full)
    folder = tmp_path / "sip"
    shutil.copytree(SAMPLES / "sip-folder-quyet-dinh", folder)
    payload = one_error(kholuu("--lang", "en", "ingest", str(folder), "--json"), "system.no_space", 1)
    assert where in payload["error"]["message"]
    text = kholuu("--lang", "vi", "ingest", str(folder))
    assert text.exit_code == 1 and "hết chỗ" in text.stderr


@pytest.mark.parametrize("as_json", [True, False])
def test_issue11_item9_report_from_year_one(kholuu: Kholuu, tmp_path: Path, as_json: bool) -> None:
    out = tmp_path / "report.html"
    args = ["--lang", "en", "report", "fixity", "--since", "0001-01-01", "--out", str(out)]
    result = kholuu(*args, *(["--json"] if as_json else []))
    if as_json:
        one_error(result, "report.bad_period", 2)
    else:
        assert result.exit_code == 2 and "0001-01-01" in result.stderr
    assert not out.exists()
