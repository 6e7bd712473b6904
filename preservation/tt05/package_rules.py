"""The package rules of a TT 05/2025 package, on its METS files (``config/tt05/package_rules.toml``).

Apart from reading the descriptions (:mod:`preservation.tt05.package`): these rules look at the
E-ARK packaging itself, which CSIP MUSTs refuse a TT 05 package and the one checksum type it may use.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from preservation.findings import Finding, Severity
from preservation.tt05.tables import DEFAULT_DIR


@dataclass(frozen=True)
class PackageRules:
    """``config/tt05/package_rules.toml``: which CSIP MUSTs refuse a TT 05 package, and the one
    checksum type it may use."""

    refuse_csip: frozenset[str]
    checksum_type: str


def load_package_rules(folder: Path = DEFAULT_DIR) -> PackageRules:
    with (folder / "package_rules.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    return PackageRules(refuse_csip=frozenset(raw["refuse_csip"]), checksum_type=raw["checksum_type"])


_METS = "{http://www.loc.gov/METS/}"


def check_mets(root: Path, rules: PackageRules, csip_findings: Sequence[Finding]) -> list[Finding]:
    """The package rules of a TT 05 package, on its METS files: the CSIP MUSTs of ``rules`` (from
    the CSIP findings already made for the package) and SHA-256 on every file and mdRef."""
    out = [
        Finding(
            code="description.csip_rule",
            severity=Severity.ERROR,
            where=f.where,
            message=f"{f.code}: {f.message}",
            params={"requirement": f.code, "file": f.where, "problem": f.message},
        )
        for f in csip_findings
        if f.severity is Severity.ERROR and f.code in rules.refuse_csip
    ]
    for mets in [root / "METS.xml", *sorted(root.glob("representations/*/METS.xml"))]:
        rel = mets.relative_to(root).as_posix()
        try:
            tree = etree.parse(
                str(mets), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            )
        except (etree.XMLSyntaxError, OSError):
            continue  # the CSIP findings already say so
        for el in tree.getroot().iter(f"{_METS}file", f"{_METS}mdRef"):
            kind = el.get("CHECKSUMTYPE")
            if kind is not None and kind != rules.checksum_type:
                out.append(
                    Finding(
                        code="description.checksum_type",
                        severity=Severity.ERROR,
                        where=f"{rel}:{el.sourceline}",
                        message=f"CHECKSUMTYPE {kind!r}; TT 05 packages use {rules.checksum_type}",
                        params={
                            "file": f"{rel}:{el.sourceline}",
                            "value": kind,
                            "expected": rules.checksum_type,
                        },
                    )
                )
    return out
