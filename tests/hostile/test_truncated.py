"""Truncated files of each format we characterise: cut in half, and cut to their first 40 bytes.
None may be called valid, none may raise; each names its damage with the characterizer's code.
The whole file is checked as well, so that the cut is what the check answers to."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from preservation.characteristics import Validity
from preservation.characterize import CharacterizeOptions, characterize, characterizers
from tests.hostile.corpus import Case, Outcome
from tests.hostile.samples import SAMPLES

KIND = "truncated files"
CODES = {
    "pdf": ("pdf.syntax", "pdf.damaged"),
    "xml": ("xml.not_well_formed",) * 2,
    "wav": ("av.damaged",) * 2,
    "jp2": ("jp2.test_failed",) * 2,
    "docx": ("office.zip_damaged",) * 2,
    "odt": ("office.zip_damaged",) * 2,
    "rtf": ("office.rtf_damaged",) * 2,
}
CUTS: dict[str, Callable[[bytes], bytes]] = {
    "half": lambda b: b[: len(b) // 2],
    "first-40-bytes": lambda b: b[:40],
}
CASES: list[Case] = []


@cache
def _whole(kind: str) -> bytes:
    return SAMPLES[kind][0]()


def _cut(kind: str, cut: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        path = d / f"{cut}.{kind}"
        path.write_bytes(CUTS[cut](_whole(kind)))
        return path

    return build


for _kind in SAMPLES:
    for _i, _cut_name in enumerate(CUTS):
        _code = CODES.get(_kind, ("image.damaged",) * 2)[_i]
        # a damaged file is kept (it is what the agency holds); its check says invalid
        CASES.append(Case(f"{_cut_name}-{_kind}", KIND, _cut(_kind, _cut_name), _code, Outcome.WARNED))

OPTIONS = CharacterizeOptions(timeout=60)


@pytest.mark.parametrize("hostile", CASES, ids=[c.id for c in CASES])
def test_truncated_file_is_named_damaged(hostile: Case, tmp_path: Path) -> None:
    path = hostile.build(tmp_path)
    kind = path.suffix[1:]
    results = characterize(path, SAMPLES[kind][1], characterizers(OPTIONS))
    assert results
    assert all(r.validity in (Validity.INVALID, Validity.COULD_NOT_CHECK) for r in results), results
    assert hostile.code in {f.code for r in results for f in r.findings}
    assert all(str(tmp_path) not in f.message for r in results for f in r.findings)


@pytest.mark.parametrize("kind", [k for k in SAMPLES if k != "wav"])
def test_the_whole_file_is_valid(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"whole.{kind}"
    path.write_bytes(_whole(kind))
    results = characterize(path, SAMPLES[kind][1], characterizers(OPTIONS))
    assert results and all(r.validity is Validity.VALID for r in results), results
