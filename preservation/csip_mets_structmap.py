"""CSIP 2.0.4 structural map checks (CSIP80-CSIP116): the CSIP structMap and its divisions.

A section of its own because the structMap is checked against everything the other sections
declared (the file groups, the amdSec and dmdSec IDs, the representation METS files), after them.
"""

from __future__ import annotations

import posixpath

from lxml import etree

from preservation.csip_mets_base import HREF, NS, XTITLE, XTYPE, MetsCheckBase, resolve_href


class StructMapChecks(MetsCheckBase):
    """The checks of the CSIP structMap; :class:`preservation.csip_mets.MetsChecker` runs them last."""

    def _structmap(self, mets: etree._Element, groups: dict[str, tuple[str, etree._Element]]) -> None:
        maps = mets.findall("mets:structMap", NS)
        if not maps:
            self.r.add("CSIP80", self._w(mets), "no structMap")
            return
        csip_maps = [m for m in maps if m.get("LABEL") == "CSIP"]
        if len(csip_maps) != 1:
            self.r.add(
                "CSIP82",
                self._w(maps[0]),
                f"{len(csip_maps)} structMaps labelled 'CSIP', exactly one is required",
            )
            if not csip_maps:
                return
        smap = csip_maps[0]
        if smap.get("TYPE") != "PHYSICAL":
            self.r.add(
                "CSIP81", self._w(smap), f"the CSIP structMap's TYPE is {smap.get('TYPE')!r}, not 'PHYSICAL'"
            )
        if not smap.get("ID"):
            self.r.add("CSIP83", self._w(smap), "the CSIP structMap has no ID")
        tops = smap.findall("mets:div", NS)
        if len(tops) != 1:
            self.r.add(
                "CSIP84",
                self._w(smap),
                f"the CSIP structMap has {len(tops)} top divisions, exactly one is required",
            )
            if not tops:
                return
        top = tops[0]
        if not top.get("ID"):
            self.r.add("CSIP85", self._w(top), "the main division has no ID")
        if top.get("LABEL") != mets.get("OBJID"):
            self.r.add(
                "CSIP86", self._w(top), f"the main division's LABEL {top.get('LABEL')!r} is not the OBJID"
            )
        divs = top.findall("mets:div", NS)
        self._metadata_div(mets, divs)
        if self.is_root:
            self._group_div(
                divs, groups, "Documentation", ("CSIP93", "CSIP94", "CSIP96", "CSIP116", "CSIP95")
            )
            self._group_div(divs, groups, "Schemas", ("CSIP97", "CSIP98", "CSIP100", "CSIP118", "CSIP99"))
            self._group_div(
                divs, groups, "Representations", ("CSIP101", "CSIP102", "CSIP104", "CSIP119", "CSIP103")
            )
            self._representation_divs(divs, groups)

    def _metadata_div(self, mets: etree._Element, divs: list[etree._Element]) -> None:
        amd_ids = [
            el.get("ID", "") for a in mets.findall("mets:amdSec", NS) for el in a if isinstance(el.tag, str)
        ]
        dmd_ids = [d.get("ID", "") for d in mets.findall("mets:dmdSec", NS)]
        meta = [d for d in divs if d.get("LABEL") == "Metadata"]
        labelled_elsewhere = [
            d for d in divs if d.get("LABEL") != "Metadata" and (d.get("ADMID") or d.get("DMDID"))
        ]
        if labelled_elsewhere:
            self.r.add(
                "CSIP90",
                self._w(labelled_elsewhere[0]),
                f"the division referring to metadata is labelled {labelled_elsewhere[0].get('LABEL')!r}, "
                "not 'Metadata'",
            )
        if (amd_ids or dmd_ids) and len(meta) != 1:
            self.r.add("CSIP88", self._w(mets), f"{len(meta)} 'Metadata' divisions, exactly one is required")
            return
        if not meta:
            return
        div = meta[0]
        if not div.get("ID"):
            self.r.add("CSIP89", self._w(div), "the Metadata division has no ID")
        admid = set((div.get("ADMID") or "").split())
        missing = [i for i in amd_ids if i and i not in admid]
        if missing:
            self.r.add(
                "CSIP91",
                self._w(div),
                f"amdSec sections not listed in the Metadata division's ADMID: {missing}",
            )
        dmdid = set((div.get("DMDID") or "").split())
        missing = [i for i in dmd_ids if i and i not in dmdid]
        if missing:
            self.r.add(
                "CSIP92",
                self._w(div),
                f"dmdSec sections not listed in the Metadata division's DMDID: {missing}",
            )
        if not self._ids_exist(" ".join(admid | dmdid)):
            self.r.add("CSIP91", self._w(div), "ADMID/DMDID refer to sections that do not exist")

    def _group_div(
        self,
        divs: list[etree._Element],
        groups: dict[str, tuple[str, etree._Element]],
        label: str,
        reqs: tuple[str, ...],
    ) -> None:
        """Documentation / Schemas / (undivided) Representations: one division pointing at the file groups."""
        single_req, id_req, fptr_req, fileid_req, label_req = reqs
        group_ids = [gid for gid, (use, _) in groups.items() if use == label]
        matching = [d for d in divs if d.get("LABEL") == label]
        if not group_ids:
            return
        if not matching:
            self.r.add(
                label_req, self.rel, f"file groups USE='{label}' exist but no division is labelled '{label}'"
            )
            return
        if len(matching) > 1:
            self.r.add(single_req, self._w(matching[1]), f"more than one '{label}' division")
        div = matching[0]
        if not div.get("ID"):
            self.r.add(id_req, self._w(div), f"the {label} division has no ID")
        fptrs = div.findall("mets:fptr", NS)
        pointed = [p.get("FILEID") for p in fptrs]
        if any(p is None for p in pointed):
            self.r.add(fileid_req, self._w(div), f"an fptr in the {label} division has no FILEID")
        wrong = [p for p in pointed if p is not None and p not in group_ids]
        if wrong:
            self.r.add(fileid_req, self._w(div), f"fptr FILEID {wrong} is not a '{label}' file group")
        unreferenced = [g for g in group_ids if g not in pointed]
        if unreferenced:
            self.r.add(
                fptr_req, self._w(div), f"'{label}' file groups not referenced by an fptr: {unreferenced}"
            )

    def _representation_divs(
        self, divs: list[etree._Element], groups: dict[str, tuple[str, etree._Element]]
    ) -> None:
        rep_mets = sorted(
            p.relative_to(self.root).as_posix() for p in (self.root / "representations").glob("*/METS.xml")
        )
        pointed: set[str] = set()
        for div in divs:
            label = div.get("LABEL") or ""
            mptrs = div.findall("mets:mptr", NS)
            if not label.startswith("Representations/") and not mptrs:
                continue
            if not div.get("ID"):
                self.r.add("CSIP106", self._w(div), "representation division without ID")
            if len(mptrs) != 1:
                self.r.add(
                    "CSIP109",
                    self._w(div),
                    f"representation division with {len(mptrs)} mptr, exactly one is required",
                )
                if not mptrs:
                    continue
            mptr = mptrs[0]
            href = mptr.get(HREF)
            target = resolve_href(href, self.base) if href else None
            if not href:
                self.r.add("CSIP110", self._w(mptr), "mptr/@xlink:href is missing")
            elif target is None or not (self.root / target).is_file():
                self.r.add(
                    "CSIP110", self._w(mptr), f"mptr/@xlink:href {href!r} is not a file of the package"
                )
            else:
                pointed.add(target)
            if mptr.get(XTYPE) != "simple":
                self.r.add("CSIP111", self._w(mptr), "mptr/@xlink:type is not 'simple'")
            if mptr.get("LOCTYPE") != "URL":
                self.r.add("CSIP112", self._w(mptr), f"mptr/@LOCTYPE is {mptr.get('LOCTYPE')!r}, not 'URL'")
            expected_label = (
                f"Representations/{posixpath.basename(posixpath.dirname(target))}" if target else None
            )
            if expected_label and label != expected_label:
                self.r.add(
                    "CSIP107",
                    self._w(div),
                    f"label {label!r} should be {expected_label!r}, the path of its METS",
                )
            title = mptr.get(XTITLE)
            if not title or title not in groups or groups[title][0] != label:
                self.r.add(
                    "CSIP108",
                    self._w(mptr),
                    f"mptr/@xlink:title {title!r} is not the ID of the file group USE={label!r}",
                )
        for rel in rep_mets:
            if rel not in pointed:
                self.r.add("CSIP105", rel, "representation METS not referenced by a representation division")
