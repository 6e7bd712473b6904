"""One coded-error root (issue 10) and filled message templates (issue 11 item 8).

Every error class Kho Lưu raises derives from :class:`KholuuError` and states a kind; every one,
built as its raise sites build it, renders in Vietnamese and English with no placeholder left; and
every raise site that names a code and literal params gives every value its code's text uses.
The renderer is strict in tests (``tests/conftest.py``), so any unfilled placeholder raises.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import preservation
import repository
import workflows
from entrypoints.errors import ANSWERS, SystemFailure, exit_code, http_status
from entrypoints.reports.errors import ChromiumNotFound, PdfFailed, ReportError
from entrypoints.web.params import BadParameter
from entrypoints.web.secret import SecretKeyError
from preservation.container import ContainerLimitError
from preservation.errors import (
    ChecksumMismatchError,
    ErrorKind,
    InvalidPackageError,
    KholuuError,
    PreservationError,
    SchemaValidationError,
    ToolError,
    UnsafePackageError,
)
from preservation.facts import FactsError
from preservation.mets_read import MetsReadError
from preservation.package import SuppliedChecksum
from preservation.planning.policy import PolicyError
from preservation.premis_read import PremisReadError
from preservation.supplied import SuppliedCheck, raise_on_mismatch
from preservation.tt05.ead import DescriptionWriteError
from preservation.tt05.mapping import LegacyError
from preservation.tt05.tables import TablesError
from repository.catalog.db import CatalogError
from repository.catalog.dump import BackupError
from repository.catalog.journal import JournalError
from repository.catalog.models import JobStatus
from repository.catalog.queries import NotFoundError
from repository.catalog.records_store import RecordNotFoundError, RecordsError
from repository.i18n import Translator, UnfilledPlaceholder, placeholders, strict, template
from repository.settings import SettingsError
from repository.storage.copyset import NoGoodCopy
from repository.storage.errors import BackendUnavailable, IntegrityError, NotFound, StorageError
from workflows.access.errors import ExportError, RequestError
from workflows.access.oai import OaiError
from workflows.accounts.errors import (
    AccountError,
    AccountNotFoundError,
    LoginRefusedError,
    LoginThrottledError,
    TokenRefusedError,
)
from workflows.custody.fixity_data import ReportPeriodError
from workflows.custody.rebuild import RebuildError
from workflows.custody.retrieve import RetrieveError
from workflows.custody.update import UpdateError
from workflows.ingest.errors import IngestRequestError
from workflows.ingest.uploads import UploadError, UploadNotFoundError, UploadOffsetError
from workflows.jobs.outcome import JobTakenOver
from workflows.jobs.runner import Refusal, StepFailed
from workflows.planning.normalize import UnacceptableFormatError
from workflows.records.transfers import KINDS, TransferError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (preservation, repository, workflows)


def _import_everything() -> None:
    for package in PACKAGES:
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)


def _subclasses(cls: type[KholuuError]) -> Iterator[type[KholuuError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


#: Each error class, built as its raise sites build it (its class code, its usual params).
FACTORIES: dict[type[KholuuError], Callable[[], KholuuError]] = {
    KholuuError: lambda: KholuuError("something nobody coded"),
    JobTakenOver: lambda: JobTakenOver(
        "job 1 is interrupted", code="job.taken_over", params={"job_id": "1", "status": "interrupted"}
    ),
    PreservationError: lambda: PreservationError("bad", path="a.txt"),
    UnsafePackageError: lambda: UnsafePackageError("unsafe", path="../x"),
    InvalidPackageError: lambda: InvalidPackageError("invalid", path="METS.xml"),
    ChecksumMismatchError: lambda: ChecksumMismatchError("a.txt", "sha256", "ab", "cd", source="manifest"),
    ToolError: lambda: ToolError("crashed", tool="siegfried", exit_code=2, stderr="boom"),
    SchemaValidationError: lambda: SchemaValidationError("our METS does not validate"),
    PremisReadError: lambda: PremisReadError("metadata/preservation/premis.xml", "not PREMIS 3"),
    DescriptionWriteError: lambda: DescriptionWriteError("cannot write", path="EAD.xml"),
    LegacyError: lambda: LegacyError("not a spreadsheet", path="muc-luc.xlsx"),
    TablesError: lambda: TablesError("bad tables", path="config/tt05"),
    UnacceptableFormatError: lambda: UnacceptableFormatError("a.wpd", "x-fmt/44", "LibreOffice failed"),
    PolicyError: lambda: PolicyError("expected text", file="formats.toml", entry="fmt/40", field="name"),
    CatalogError: lambda: CatalogError("the catalog cannot be used"),
    BackupError: lambda: BackupError(
        "damaged", code="backup.damaged", params={"file": "kholuu.toml", "problem": "changed", "path": "/b"}
    ),
    NotFoundError: lambda: NotFoundError("AIP", "uuid-1234"),
    RecordsError: lambda: RecordsError(
        "records.file_invalid", "bad", {"path": "x.csv", "count": 1, "errors": "-"}
    ),
    RecordNotFoundError: lambda: RecordNotFoundError("internal.error", "no such dossier"),
    SystemFailure: lambda: SystemFailure.from_os_error(OSError(28, "No space left on device", "/data/x")),
    ReportError: lambda: ReportError("report failed"),
    ChromiumNotFound: lambda: ChromiumNotFound("no chromium", params={"tried": "chromium"}),
    ContainerLimitError: lambda: ContainerLimitError(
        "over a limit",
        path="catalogue.xlsx",
        params={"limit": "max_ratio", "value": 1000, "allowed": 100, "member": "xl/worksheets/sheet1.xml"},
    ),
    FactsError: lambda: FactsError("metadata/preservation/kholuu-facts.json", "not UTF-8 JSON"),
    MetsReadError: lambda: MetsReadError("METS.xml", "not a METS document with an OBJID"),
    NoGoodCopy: lambda: NoGoodCopy(
        "no good copy",
        key="uuid-1",
        params={"aip_id": "uuid-1", "version": 2, "problems": "primary: missing"},
    ),
    JournalError: lambda: JournalError(
        "no location took the entry", code="journal.not_written", params={"locations": "primary"}
    ),
    ReportPeriodError: lambda: ReportPeriodError(
        "too long", code="report.period_too_long", params={"days": 400, "max_days": 366}
    ),
    PdfFailed: lambda: PdfFailed("no pdf", params={"tool": "chromium", "problem": "exit 1"}),
    SettingsError: lambda: SettingsError("ui.language", "not a language", "kholuu.toml"),
    StorageError: lambda: StorageError("broken", key="k", location="primary"),
    NotFound: lambda: NotFound("absent", key="k", location="primary"),
    IntegrityError: lambda: IntegrityError("damaged", key="k", location="primary", algorithm="sha512"),
    BackendUnavailable: lambda: BackendUnavailable("unmounted", location="primary"),
    OaiError: lambda: OaiError("badResumptionToken", "expired"),
    BadParameter: lambda: BadParameter("web.bad_year", "bad year", {"name": "year", "value": "x"}),
    IngestRequestError: lambda: IngestRequestError(
        "conversion.transfer_many", "one package per transfer", params={"count": 2, "transfer": "t-1"}
    ),
    ExportError: lambda: ExportError("exists", code="export.out_exists", kind=ErrorKind.USAGE, path="/o.zip"),
    RequestError: lambda: RequestError("used", code="request.link_used", params={"request": "YC-1"}),
    RebuildError: lambda: RebuildError("uuid-1", "METS.xml", "no OBJID"),
    RetrieveError: lambda: RetrieveError("could not copy"),
    Refusal: lambda: Refusal("declined"),
    StepFailed: lambda: StepFailed("validate", JobStatus.FAILED, TypeError("Missing dimensions"), []),
    TransferError: lambda: TransferError("transfer.not_found", "no transfer", params={"transfer": "t-1"}),
    UpdateError: lambda: UpdateError("could not update"),
    AccountError: lambda: AccountError(
        "short", code="account.weak_password", params={"minimum": 12, "length": 5}
    ),
    AccountNotFoundError: lambda: AccountNotFoundError("no user", params={"login": "lan"}),
    LoginRefusedError: lambda: LoginRefusedError("wrong password"),
    LoginThrottledError: lambda: LoginThrottledError(300),
    TokenRefusedError: lambda: TokenRefusedError("revoked"),
    SecretKeyError: lambda: SecretKeyError("readable", params={"path": "/h/web-secret.key", "mode": "0644"}),
    UploadError: lambda: UploadError("bad", params={"name": "a.exe", "suffixes": ".zip, .tar"}),
    UploadNotFoundError: lambda: UploadNotFoundError("0" * 32),
    UploadOffsetError: lambda: UploadOffsetError("0" * 32, 100, 0),
}


def test_every_error_class_derives_from_the_root_and_has_a_factory() -> None:
    _import_everything()
    assert set(_subclasses(KholuuError)) | {KholuuError} == set(FACTORIES)


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("cls", list(FACTORIES), ids=lambda c: c.__name__)
def test_issue11_item8_every_error_class_renders_filled(cls: type[KholuuError], language: str) -> None:
    error = FACTORIES[cls]()
    assert isinstance(error, cls) and isinstance(error.kind, ErrorKind)
    assert template(error.code, language) is not None, error.code
    text = Translator(language).text(error.code, error.params)
    assert text and "{" not in text, text


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("code", sorted(KINDS))
def test_every_transfer_code_has_a_text(code: str, language: str) -> None:
    assert template(code, language) is not None
    assert TransferError(code, "x").kind is KINDS[code]


def test_one_table_for_exit_codes_and_http_statuses() -> None:
    assert set(ANSWERS) == set(ErrorKind)
    # README's exit codes, and 5 for "try again later"
    assert {k.value: exit_code(k) for k in ErrorKind} == {
        "failed": 1,
        "usage": 2,
        "refused": 3,
        "not_found": 4,
        "unavailable": 5,
    }
    assert http_status(NotFoundError("AIP", "x")) == 404 and http_status(BadParameter("c", "m", {})) == 400
    assert exit_code(TransferError("transfer.bad_input", "x", params={"problem": "-"})) == 2
    assert exit_code(TransferError("transfer.already_decided", "x")) == 3
    assert exit_code(BackendUnavailable("down", location="s3")) == 5


def test_renderer_is_strict_in_tests() -> None:
    assert strict()
    with pytest.raises(UnfilledPlaceholder):
        Translator("en").text("fixity.supplied_mismatch", {"path": "a.txt"})


def test_step_failed_carries_its_cause() -> None:
    cause = InvalidPackageError("bad bag", code="bag.invalid", path="bagit.txt", params={"x": 1})
    failure = StepFailed("unpack", JobStatus.REFUSED, cause, [])
    assert (failure.code, failure.kind, failure.path, failure.params["x"]) == (
        "bag.invalid",
        ErrorKind.REFUSED,
        "bagit.txt",
        1,
    )
    assert failure.params is not cause.params or failure.params == cause.params
    uncoded = StepFailed("characterize", JobStatus.FAILED, TypeError("Missing dimensions"), [])
    assert Translator("vi").text(uncoded.code, uncoded.params) == "Lỗi nội bộ: TypeError: Missing dimensions"


# --------------------------------------------------------------------------- raise sites

#: Constructors whose first positional argument is the code (and, for some, the third the params).
_CODE_FIRST = {"TransferError": None, "RecordsError": 2, "RecordNotFoundError": 2, "BadParameter": 2}
#: Keyword arguments the error classes turn into params themselves.
_IMPLIED = {"path": "path", "key": "key", "location": "location", "algorithm": "algorithm"}
_IMPLIED |= {"expected": "expected", "found": "found", "tool": "tool", "exit_code": "exit_code"}
_IMPLIED |= {"stderr": "stderr", "file": "file", "entry": "entry", "field": "field"}


def _raise_sites() -> Iterator[tuple[str, str, set[str]]]:
    """(where, code, param names given) for every error constructed with a literal code and
    literal params; sites that build their params at run time are left to the CLI tests."""
    _import_everything()
    names = {cls.__name__ for cls in _subclasses(KholuuError)} | {"KholuuError"}
    for package in PACKAGES:
        for path in sorted(Path(package.__path__[0]).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else ""
                )
                if name not in names:
                    continue
                keywords = {k.arg: k.value for k in node.keywords if k.arg}
                code_node = keywords.get("code")
                params_node = keywords.get("params")
                if name in _CODE_FIRST:
                    code_node = node.args[0] if node.args else code_node
                    position = _CODE_FIRST[name]
                    if position is not None and len(node.args) > position:
                        params_node = node.args[position]
                if not (isinstance(code_node, ast.Constant) and isinstance(code_node.value, str)):
                    continue
                given: set[str] = set()
                if params_node is not None:
                    if not isinstance(params_node, ast.Dict) or any(
                        not isinstance(k, ast.Constant) for k in params_node.keys
                    ):
                        continue  # built at run time
                    given = {str(k.value) for k in params_node.keys if isinstance(k, ast.Constant)}
                for keyword, param in _IMPLIED.items():
                    value = keywords.get(keyword)
                    if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
                        given.add(param)
                if name == "PremisReadError":
                    given |= {"path", "problem"}
                if name == "NotFoundError":
                    given |= {"kind", "id"}
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                yield where, code_node.value, given


def test_raise_sites_are_found() -> None:
    codes = {code for _, code, _ in _raise_sites()}
    assert {"catalog.not_initialised", "unpack.link_escapes", "transfer.already_decided"} <= codes


@pytest.mark.parametrize("language", ["vi", "en"])
def test_issue11_item8_every_raise_site_fills_its_text(language: str) -> None:
    missing = []
    for where, code, given in _raise_sites():
        text = template(code, language)
        if text is None:
            continue  # test_messages says so
        lacking = placeholders(text) - given
        if lacking:
            missing.append(f"{where} {code}: {sorted(lacking)}")
    assert missing == []


def test_a_moment_renders() -> None:
    # datetimes in params render as text, never as a placeholder
    text = Translator("en").text(
        "cli.report.empty_period", {"since": datetime(2026, 1, 1, tzinfo=UTC), "until": "x"}
    )
    assert "2026-01-01" in text


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("source", ["representations/rep1/METS.xml", "manifest-sha256.txt"])
def test_issue11_item8_supplied_checksum_refusal_is_filled(language: str, source: str) -> None:
    """E-ARK (METS) and BagIt (manifest) checksums that differ: the refusal names the file, the
    algorithm, both digests and where the expected one was given, in both languages."""
    check = SuppliedCheck(
        checksum=SuppliedChecksum(
            file_uuid="", path="data/a.txt", algorithm="sha256", value="ab12", source=source
        ),
        found="cd34",
        ok=False,
    )
    with pytest.raises(InvalidPackageError) as refused:
        raise_on_mismatch([check])
    error = refused.value
    assert error.code == "fixity.supplied_mismatch" and error.kind is ErrorKind.REFUSED
    text = Translator(language).text(error.code, error.params)
    assert all(part in text for part in ("data/a.txt", "sha256", "ab12", "cd34", source)), text
