"""The package facts file: what the ingest knew about a submission, as data inside the AIP.

Some facts the catalog keeps about an AIP are not stated by METS or PREMIS: how the submission
arrived (package kind, container), its submitted name, the submitted name of every metadata file
(``metadata/other/`` mixes files from several SIP folders, so the AIP path alone cannot say), the
agency and transfer the operator named, and whether hồ sơ/tài liệu records were registered from
the package. Without them a catalog rebuilt from storage would have to guess them from English
event prose. They are written as one small JSON document,
``metadata/preservation/kholuu-facts.json``, referenced from the package METS as a ``digiprovMD``
with ``MDTYPE="OTHER" OTHERMDTYPE="KHOLUU-FACTS"`` and listed with its SHA-256 like every other
file; :func:`read_facts` is the typed reader.

JSON rather than extra METS header elements because the submitted names are a map of any size and
METS has no place for them; rather than XML because nothing else needs to validate it and JSON maps
one to one onto the dataclass. ``format`` names the version of this layout; a reader refuses a
version it does not know instead of guessing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from preservation.errors import PreservationError

FACTS_PATH = "metadata/preservation/kholuu-facts.json"
"""Where the facts file sits inside the AIP."""
FACTS_MDTYPE = "KHOLUU-FACTS"
"""``OTHERMDTYPE`` of the facts file's ``mdRef`` in the package METS."""
FORMAT = "kholuu-package-facts/1"

__all__ = [
    "FACTS_MDTYPE",
    "FACTS_PATH",
    "FactsError",
    "PackageFacts",
    "RecordsRegistration",
    "facts_json",
    "read_facts",
]


class FactsError(PreservationError):
    """A facts file is not one this version can read (not JSON, unknown format, wrong types)."""

    code = "facts.invalid"

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}", path=where, params={"problem": problem})
        self.problem = problem


@dataclass(frozen=True)
class RecordsRegistration:
    """The hồ sơ/tài liệu description the ingest registered from the package.

    Attributes:
        source: ``tt05``, ``nd30-xml`` or ``muc-luc`` (how the description reached us).
        package_type: the TT 05 type of the archived package (``AIP_hoso`` or ``AIP_tailieu``).
        description: the package description (``EAD.xml``) inside the AIP.
        documents: how many tài liệu descriptions it has.
    """

    source: str
    package_type: str
    description: str
    documents: int


@dataclass(frozen=True)
class PackageFacts:
    """Attributes:
    aip_id: the AIP (OCFL object) id.
    job_id: the ingest job that built the package.
    source_name: the submission's name as it arrived (file or folder name).
    package_kind: ``folder``, ``bagit`` or ``eark-sip``.
    container: ``directory``, ``zip``, ``tar`` or ``tar.gz``.
    metadata_names: AIP path -> submitted name of every submitted metadata file.
    organ_id: the sending agency's mã định danh the operator named (``--agency``), or ``""``.
    transfer_id: the transfer (``kholuu transfer receive``) the package came in, or ``""``.
    records: the records registration, or None when the package carried no description.
    """

    aip_id: str
    job_id: str
    source_name: str
    package_kind: str
    container: str
    metadata_names: Mapping[str, str] = field(default_factory=dict)
    organ_id: str = ""
    transfer_id: str = ""
    records: RecordsRegistration | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "aip_id": self.aip_id,
            "job_id": self.job_id,
            "source_name": self.source_name,
            "package_kind": self.package_kind,
            "container": self.container,
            "metadata_names": dict(sorted(self.metadata_names.items())),
            "organ_id": self.organ_id,
            "transfer_id": self.transfer_id,
            "records": None
            if self.records is None
            else {
                "source": self.records.source,
                "package_type": self.records.package_type,
                "description": self.records.description,
                "documents": self.records.documents,
            },
        }


def facts_json(facts: PackageFacts) -> bytes:
    """The file's bytes: UTF-8 JSON, keys in a fixed order, names kept as written (no escapes)."""
    return (json.dumps(facts.as_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def read_facts(data: bytes, where: str = FACTS_PATH) -> PackageFacts:
    """Parse a facts file. ``where`` names it in errors.

    Raises:
        FactsError: not UTF-8 JSON, a ``format`` other than :data:`FORMAT`, or a field of the
            wrong type (a file we did not write, or damaged in a way its digest did not catch).
    """
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise FactsError(where, f"not UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise FactsError(where, "not a JSON object")
    if doc.get("format") != FORMAT:
        raise FactsError(where, f"format is {doc.get('format')!r}, this version reads {FORMAT!r}")
    text = {k: doc.get(k) for k in ("aip_id", "job_id", "source_name", "package_kind", "container")}
    text |= {k: doc.get(k, "") for k in ("organ_id", "transfer_id")}
    for key, value in text.items():
        if not isinstance(value, str):
            raise FactsError(where, f"{key} is not a string")
    names = doc.get("metadata_names", {})
    if not isinstance(names, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in names.items()
    ):
        raise FactsError(where, "metadata_names is not a map of paths to names")
    return PackageFacts(
        aip_id=str(text["aip_id"]),
        job_id=str(text["job_id"]),
        source_name=str(text["source_name"]),
        package_kind=str(text["package_kind"]),
        container=str(text["container"]),
        metadata_names=names,
        organ_id=str(text["organ_id"]),
        transfer_id=str(text["transfer_id"]),
        records=_records(doc.get("records"), where),
    )


def _records(value: object, where: str) -> RecordsRegistration | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FactsError(where, "records is not an object")
    text = {k: value.get(k) for k in ("source", "package_type", "description")}
    documents = value.get("documents")
    if not all(isinstance(v, str) for v in text.values()) or type(documents) is not int:
        raise FactsError(where, "records has a field of the wrong type")
    return RecordsRegistration(
        source=str(text["source"]),
        package_type=str(text["package_type"]),
        description=str(text["description"]),
        documents=documents,
    )
