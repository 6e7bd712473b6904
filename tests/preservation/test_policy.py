"""The format policy registry: the shipped policy, the override laid over it field by field, and
every way a policy file can be wrong, each reported with its file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from preservation.planning.model import Check, Purpose, Risk
from preservation.planning.policy import (
    DEFAULT_FILE,
    GOVERNING,
    PolicyError,
    PolicyRegistry,
    Source,
    TechnicalParameters,
)
from repository.i18n import Translator


@pytest.fixture(scope="module")
def shipped() -> PolicyRegistry:
    return PolicyRegistry.load()


def with_override(tmp_path: Path, text: str) -> PolicyRegistry:
    override = tmp_path / "formats.toml"
    override.write_text(text, encoding="utf-8")
    return PolicyRegistry.load(DEFAULT_FILE, override)


def test_shipped_policy_normalises_word_files_and_keeps_pdfa(shipped: PolicyRegistry) -> None:
    doc = shipped.get("fmt/40")
    assert doc is not None and doc.name.startswith("Microsoft Word 97-2003")
    assert doc.risk is Risk.MEDIUM and doc.media == "text"
    assert doc.accepted == {"tt05": False, "tt02": False}
    assert doc.preservation is not None
    assert (doc.preservation.tool, doc.preservation.output_puid) == ("libreoffice", "fmt/477")
    assert Check.PDFA in doc.preservation.checks
    pdfa = shipped.get("fmt/477")
    assert pdfa is not None and pdfa.accepted["tt05"] and pdfa.preservation is None
    assert shipped.action("fmt/477", Purpose.PRESERVATION) is None
    tiff = shipped.get("fmt/353")
    assert tiff is not None and tiff.accepted["tt05"] and tiff.ocr
    assert tiff.access is not None and tiff.access.output_puid == "fmt/43"
    assert shipped.get("fmt/999999") is None
    assert shipped.parameters == TechnicalParameters(
        text_dpi=200, map_dpi=300, photo_dpi=200, colour_depth=24, video_kbps=1500, audio_kbps=128
    )


def test_every_output_is_a_format_the_policy_accepts(shipped: PolicyRegistry) -> None:
    """No chains: what a preservation action writes is itself kept as it is under TT 05, and every
    access copy is a format the policy knows."""
    for entry in shipped.policies():
        if entry.preservation is not None:
            target = shipped.get(entry.preservation.output_puid)
            assert target is not None and target.accepted[GOVERNING], entry.puid
            assert not entry.accepted[GOVERNING], entry.puid
        if entry.access is not None:
            assert shipped.get(entry.access.output_puid) is not None, entry.puid


def test_the_brief_s_formats_are_covered(shipped: PolicyRegistry) -> None:
    wanted = str.split("""fmt/14 fmt/18 fmt/20 fmt/276 fmt/1129 fmt/95 fmt/354 fmt/476 fmt/477 fmt/480
    fmt/481 fmt/40
    fmt/412 fmt/290 fmt/291 fmt/1756 fmt/355 x-fmt/111 fmt/61 fmt/62 fmt/214 fmt/294 fmt/295 x-fmt/18
    fmt/126 fmt/215 fmt/293 fmt/96 fmt/471 fmt/483 x-fmt/44 x-fmt/394 x-fmt/238 x-fmt/114 fmt/43 fmt/44
    fmt/42 fmt/353 fmt/11 fmt/12 fmt/13 fmt/4 x-fmt/392 fmt/116 fmt/141 fmt/142 fmt/134 fmt/132 fmt/1812
    fmt/199 fmt/5 fmt/133 x-fmt/384 x-fmt/385 x-fmt/386""")
    assert [p for p in wanted if shipped.get(p) is None] == []
    assert [p.puid for p in shipped.policies()][:3] == ["fmt/3", "fmt/4", "fmt/5"]


def test_override_changes_a_field_and_keeps_the_others(tmp_path: Path, shipped: PolicyRegistry) -> None:
    registry = with_override(
        tmp_path,
        """
        [formats."fmt/40"]
        risk = "high"
        accepted = { tt02 = true }

        [formats."fmt/1234"]
        name = "A local format"
        media = "image"
        access = "image-jpeg"

        [parameters]
        audio_kbps = 1500
        """,
    )
    doc, before = registry.get("fmt/40"), shipped.get("fmt/40")
    assert doc is not None and before is not None
    assert doc.risk is Risk.HIGH and doc.name == before.name and doc.preservation == before.preservation
    assert doc.accepted == {"tt05": False, "tt02": True}
    provenance = registry.provenance("fmt/40")
    assert provenance is not None
    assert provenance.sources["risk"] is Source.OVERRIDE
    assert provenance.sources["accepted.tt02"] is Source.OVERRIDE
    assert provenance.sources["accepted.tt05"] is Source.SHIPPED
    assert provenance.sources["name"] is Source.SHIPPED
    assert provenance.sources["ocr"] is Source.DEFAULT
    assert provenance.actions == {"preservation": "text-pdfa", "access": "text-pdfa"}
    local = registry.get("fmt/1234")
    assert local is not None and local.risk is Risk.UNKNOWN and local.accepted == {}
    assert local.access is not None and local.access.output_puid == "fmt/43"
    assert registry.parameters.audio_kbps == 1500 and registry.parameters.video_kbps == 1500
    assert registry.parameter_sources()["audio_kbps"] is Source.OVERRIDE
    assert registry.parameter_sources()["text_dpi"] is Source.SHIPPED
    assert registry.files == (DEFAULT_FILE, tmp_path / "formats.toml")
    # a new risk is not a new policy for the files; a new action is
    assert registry.fingerprint("fmt/40") != shipped.fingerprint("fmt/40")  # tt02 changed
    risk_only = with_override(tmp_path, '[formats."fmt/40"]\nrisk = "high"\n')
    assert risk_only.fingerprint("fmt/40") == shipped.fingerprint("fmt/40")


def test_override_redefines_an_action_everywhere_and_removes_one(
    tmp_path: Path, shipped: PolicyRegistry
) -> None:
    registry = with_override(
        tmp_path,
        """
        [actions.text-pdfa]
        tool = "command"
        output_puid = "fmt/477"
        output_extension = "pdf"
        args = ["/opt/convert", "{input}", "{output}"]
        timeout = 60

        [formats."fmt/412"]
        access = "none"
        """,
    )
    for puid in ("fmt/40", "fmt/412", "x-fmt/44"):
        entry = registry.get(puid)
        assert entry is not None and entry.preservation is not None
        assert entry.preservation.tool == "command" and entry.preservation.timeout == 60.0
        provenance = registry.provenance(puid)
        assert provenance is not None and provenance.sources["preservation"] is Source.OVERRIDE
        assert registry.fingerprint(puid) != shipped.fingerprint(puid)
    docx = registry.get("fmt/412")
    assert docx is not None and docx.access is None
    unchanged = registry.get("fmt/18")
    assert (
        unchanged is not None and unchanged.preservation == (shipped.get("fmt/18") or unchanged).preservation
    )


#: a format entry, and an action table that is fine, for the cases that break one of their fields
F = '[formats."fmt/40"]\n'
X = '[actions.x]\ntool = "image"\noutput_puid = "fmt/11"\noutput_extension = "png"\n'
PANDOC = X.replace("[actions.x]", '[formats."fmt/40".preservation]').replace('"image"', '"pandoc"')
NO_TOOL = F + 'preservation = { output_puid = "fmt/477", output_extension = "pdf" }'
U, W, V = "policy.unknown_key", "policy.wrong_type", "policy.bad_value"

# (override text, error code, entry, field) — the override is the file named in every case
BAD = [
    ('colour = "red"', U, "—", "colour"),
    (F + 'colour = "red"', U, "fmt/40", "colour"),
    (F + "risk = 3", W, "fmt/40", "risk"),
    (F + 'risk = "extreme"', V, "fmt/40", "risk"),
    (F + 'media = "paper"', V, "fmt/40", "media"),
    (F + "accepted = { tt99 = true }", U, "fmt/40", "accepted.tt99"),
    (F + 'accepted = { tt02 = "yes" }', W, "fmt/40", "accepted.tt02"),
    (F + "ocr = 1", W, "fmt/40", "ocr"),
    (F + "accepted = { tt05 = true }", "policy.accepted_with_action", "fmt/40", "preservation"),
    (F + 'preservation = "no-such-action"', "policy.unknown_action", "fmt/40", "preservation"),
    (F + "preservation = 7", W, "fmt/40", "preservation"),
    ('[formats."pdf"]\nname = "PDF"', "policy.bad_puid", "pdf", "—"),
    ('[formats."fmt/0"]\nname = "Zero"', "policy.bad_puid", "fmt/0", "—"),
    ('[formats."fmt/1234"]\nrisk = "low"', "policy.missing_field", "fmt/1234", "name"),
    (PANDOC, "policy.unknown_tool", "fmt/40", "preservation.tool"),
    (NO_TOOL, "policy.missing_field", "fmt/40", "preservation.tool"),
    (X + 'checks = ["opens", "smell"]', "policy.unknown_check", "actions.x", "checks[1]"),
    (X.replace('"fmt/11"', '"png"'), "policy.bad_puid", "actions.x", "output_puid"),
    (X.replace('= "png"', '= ".png"'), V, "actions.x", "output_extension"),
    (X.replace('"image"', '"command"') + 'args = ["conv", "{input}"]', V, "actions.x", "args"),
    (X + "text_similarity = 1.5", V, "actions.x", "text_similarity"),
    (X + "memory_mb = 512.5", W, "actions.x", "memory_mb"),
    (X + "speed = 2", U, "actions.x", "speed"),
    (X.replace("actions.x", "actions.none"), V, "actions.none", "—"),
    ('[parameters]\naudio_kbps = "128"', W, "parameters", "audio_kbps"),
    ("[parameters]\naudio_kbps = 0", V, "parameters", "audio_kbps"),
    ("[parameters]\nbit_depth = 8", U, "parameters", "bit_depth"),
    ("formats = 3", W, "—", "formats"),
    ("[formats", "policy.not_toml", "—", "—"),
]


@pytest.mark.parametrize(("text", "code", "entry", "field"), BAD, ids=[f"{c}-{f}" for _, c, _, f in BAD])
def test_a_bad_override_names_file_entry_and_field(
    tmp_path: Path, text: str, code: str, entry: str, field: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        with_override(tmp_path, text)
    error = caught.value
    assert (error.code, error.entry, error.field) == (code, entry, field)
    assert error.file == tmp_path / "formats.toml"
    assert error.puid == (entry if entry.startswith(("fmt/", "x-fmt/")) and entry != "fmt/0" else "")
    assert error.kind.value == "usage"
    for language in ("vi", "en"):  # strict in tests: an unfilled placeholder raises
        shown = Translator(language).text(error.code, error.params)
        assert str(tmp_path / "formats.toml") in shown


def test_an_unreadable_override_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        PolicyRegistry.load(DEFAULT_FILE, tmp_path)  # a folder, not a file
    assert caught.value.code == "policy.unreadable" and caught.value.file == tmp_path
