"""A deployer's own validator (veraPDF, JHOVE) plugged in by configuration; a script stands in."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from preservation.characteristics import Validity
from preservation.characterize import CharacterizeOptions, ExternalValidator, characterize, characterizers
from preservation.formats import FormatMatch
from repository.settings import SettingsError, load_settings
from tests.conftest import write_home_config

SCRIPT = Path(__file__).resolve().parents[1] / "data" / "fake_validator.py"
PDF = FormatMatch("fmt/276", mime="application/pdf")


def validator(**changes: object) -> ExternalValidator:
    fields: dict[str, object] = {
        "name": "fake",
        "argv": (sys.executable, str(SCRIPT), "{input}"),
        "puids": ("fmt/276",),
        "timeout_seconds": 20.0,
        "version": "1.0",
    }
    fields.update(changes)
    return ExternalValidator(**fields)  # type: ignore[arg-type]


def run(tmp_path: Path, content: bytes, config: ExternalValidator) -> tuple[Validity, list[str], str]:
    path = tmp_path / "file.pdf"
    path.write_bytes(content)
    chosen = [c for c in characterizers(CharacterizeOptions(external=(config,))) if c.name == config.name]
    (r,) = characterize(path, PDF, chosen)
    assert r.agent.name == config.name
    return r.validity, [f.code for f in r.findings], " ".join(f.message for f in r.findings)


@pytest.mark.parametrize("regex", [False, True])
def test_exit_code_or_output_gives_the_verdict(tmp_path: Path, regex: bool) -> None:
    config = validator(valid_pattern="(?m)^PASS ", invalid_pattern="(?m)^FAIL ") if regex else validator()
    assert run(tmp_path, b"good", config)[:2] == (Validity.VALID, [])
    validity, codes, text = run(tmp_path, b"bad", config)
    assert (validity, codes) == (Validity.INVALID, ["external.invalid"])
    assert "object 12 is broken" in text and str(tmp_path) not in text
    assert run(tmp_path, b"???", config)[:2] == (Validity.COULD_NOT_CHECK, ["external.no_verdict"])


def test_time_limit_stops_it(tmp_path: Path) -> None:
    started = time.monotonic()
    validity, codes, _ = run(tmp_path, b"slow good", validator(timeout_seconds=1.0))
    assert (validity, codes) == (Validity.COULD_NOT_CHECK, ["external.timeout"])
    assert time.monotonic() - started < 10


def test_missing_program_is_could_not_check(tmp_path: Path) -> None:
    validity, codes, text = run(tmp_path, b"good", validator(argv=("/opt/verapdf/verapdf", "{input}")))
    assert (validity, codes) == (Validity.COULD_NOT_CHECK, ["external.missing"])
    assert "/opt/verapdf/verapdf is not installed" in text


def test_applies_only_to_its_formats() -> None:
    (c,) = [
        c
        for c in characterizers(CharacterizeOptions(external=(validator(mime_types=("image/tiff",)),)))
        if c.name == "fake"
    ]
    assert c.applies(PDF) and c.applies(FormatMatch("fmt/353", mime="image/tiff"))
    assert not c.applies(FormatMatch("fmt/11", mime="image/png"))


def test_configured_from_kholuu_toml(tmp_path: Path) -> None:
    home = tmp_path / "home"
    entry = (
        '[[characterization.external]]\nname = "verapdf"\n'
        f'argv = ["{SCRIPT}", "{{input}}"]\npuids = ["fmt/95"]\n'
    )
    write_home_config(home, entry)
    (configured,) = load_settings(home, environ={}).characterization.external
    assert configured.argv == (str(SCRIPT), "{input}") and configured.valid_exit_codes == (0,)
    write_home_config(home, entry.replace('"{input}"', '"--strict"'))
    with pytest.raises(SettingsError) as caught:
        load_settings(home, environ={})
    assert caught.value.key == "characterization.external.verapdf.argv"
