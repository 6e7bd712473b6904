"""CSIP 2.0.4 METS-level checks (CSIP1-CSIP119) for the package METS and representation METS.

Each method checks the requirements of one METS section; the requirement id is the finding code.
Requirements written "MUST … if present" are checked only when the element is present. The
structMap's checks are in :mod:`preservation.csip_mets_structmap`, the shared state and the link
checks in :mod:`preservation.csip_mets_base`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from lxml import etree

from preservation.csip_mets_base import CSIP, NS, XTYPE, is_datetime
from preservation.csip_mets_structmap import StructMapChecks

# mdRef requirement ids per section, in the order:
# LOCTYPE, xlink:type, href, MDTYPE, MIMETYPE, SIZE, CREATED, CHECKSUM, CHECKSUMTYPE
MDREF_IDS = {
    "dmdSec": ("CSIP22", "CSIP23", "CSIP24", "CSIP25", "CSIP26", "CSIP27", "CSIP28", "CSIP29", "CSIP30"),
    "digiprovMD": ("CSIP36", "CSIP37", "CSIP38", "CSIP39", "CSIP40", "CSIP41", "CSIP42", "CSIP43", "CSIP44"),
    "rightsMD": ("CSIP49", "CSIP50", "CSIP51", "CSIP52", "CSIP53", "CSIP54", "CSIP55", "CSIP56", "CSIP57"),
}
MDTYPES = frozenset(
    {
        *("MARC", "MODS", "EAD", "DC", "NISOIMG", "LC-AV", "VRA", "TEIHDR", "DDI", "FGDC", "LOM"),
        *("PREMIS", "PREMIS:OBJECT", "PREMIS:AGENT", "PREMIS:RIGHTS", "PREMIS:EVENT", "TEXTMD", "METSRIGHTS"),
        *("ISO 19115:2003 NAP", "EAC-CPF", "LIDO", "OTHER"),
    }
)


class MetsChecker(StructMapChecks):
    """The CSIP checks of one METS document, section by section (the structMap's are inherited)."""

    # ------------------------------------------------------------------ entry

    def check(self, doc: etree._ElementTree, rel: str, *, is_root: bool) -> None:
        self.rel = rel
        self.base = posixpath.dirname(rel)
        self.is_root = is_root
        mets = doc.getroot()
        self._register_ids(mets)
        self._mets_root(mets)
        self._header(mets)
        self._dmd(mets)
        self._amd(mets)
        groups = self._filesec(mets)
        self._structmap(mets, groups)

    def _register_ids(self, mets: etree._Element) -> None:
        for el in mets.iter():
            if not isinstance(el.tag, str):
                continue
            ident = el.get("ID")
            if ident is None:
                continue
            rid = _id_requirement(el)
            if ident in self.ids:
                self.r.add(
                    rid, self._w(el), f"ID {ident!r} is used twice in the package (also at {self.ids[ident]})"
                )
            else:
                self.ids[ident] = self._w(el)

    # ------------------------------------------------------------------ mets root and header

    def _mets_root(self, mets: etree._Element) -> None:
        if not mets.get("OBJID"):
            self.r.add("CSIP1", self._w(mets), "mets/@OBJID is missing or empty")
        elif not self.is_root:
            folder = posixpath.basename(self.base)
            if mets.get("OBJID") not in {folder, f"{folder}"}:
                pass  # the representation OBJID recording the folder name is a recommendation, not checked
        category = mets.get("TYPE")
        if not category:
            self.r.add("CSIP2", self._w(mets), "mets/@TYPE (content category) is missing")
        elif category not in self.vocab("content_category") and category != "OTHER":
            self.r.add(
                "CSIP2", self._w(mets), f"mets/@TYPE {category!r} is not in the content category vocabulary"
            )
        if category == "OTHER" and not mets.get(f"{{{CSIP}}}OTHERTYPE"):
            self.r.add("CSIP3", self._w(mets), "TYPE is OTHER but csip:OTHERTYPE is missing")
        cit = mets.get(f"{{{CSIP}}}CONTENTINFORMATIONTYPE")
        if cit is None:
            req_level = "for a representation METS it is mandatory" if not self.is_root else "recommended"
            self.r.add(
                "CSIP4",
                self._w(mets),
                f"csip:CONTENTINFORMATIONTYPE is missing ({req_level})",
                representation=not self.is_root,
            )
        elif cit not in self.vocab("content_information_type"):
            self.r.add(
                "CSIP4", self._w(mets), f"csip:CONTENTINFORMATIONTYPE {cit!r} is not in the vocabulary"
            )
        if cit == "OTHER" and not mets.get(f"{{{CSIP}}}OTHERCONTENTINFORMATIONTYPE"):
            self.r.add(
                "CSIP5",
                self._w(mets),
                "CONTENTINFORMATIONTYPE is OTHER but OTHERCONTENTINFORMATIONTYPE is missing",
            )
        if not mets.get("PROFILE"):
            self.r.add("CSIP6", self._w(mets), "mets/@PROFILE is missing")

    def _header(self, mets: etree._Element) -> None:
        hdr = mets.find("mets:metsHdr", NS)
        if hdr is None:
            self.r.add("CSIP117", self._w(mets), "no metsHdr")
            return
        created = hdr.get("CREATEDATE")
        if not created or not is_datetime(created):
            self.r.add(
                "CSIP7", self._w(hdr), f"metsHdr/@CREATEDATE is missing or not a date-time ({created!r})"
            )
        ptype = hdr.get(f"{{{CSIP}}}OAISPACKAGETYPE")
        if ptype is None or ptype not in self.vocab("oais_package_type"):
            self.r.add(
                "CSIP9", self._w(hdr), f"csip:OAISPACKAGETYPE is missing or not in the vocabulary ({ptype!r})"
            )
        elif self.expected_type and ptype != self.expected_type:
            self.r.add(
                "CSIP9",
                self._w(hdr),
                f"csip:OAISPACKAGETYPE is {ptype!r}, expected {self.expected_type!r}",
                expected=self.expected_type,
                found=ptype,
            )
        agents = hdr.findall("mets:agent", NS)
        if not agents:
            self.r.add("CSIP10", self._w(hdr), "no agent records the software that created the package")
            return
        creators = [a for a in agents if a.get("ROLE") == "CREATOR"]
        if not creators:
            self.r.add("CSIP11", self._w(hdr), "no agent with ROLE='CREATOR'")
            return
        software = [a for a in creators if a.get("TYPE") == "OTHER" and a.get("OTHERTYPE") == "SOFTWARE"]
        if not any(a.get("TYPE") == "OTHER" for a in creators):
            self.r.add("CSIP12", self._w(creators[0]), "the creator agent's TYPE is not 'OTHER'")
        if not software:
            self.r.add("CSIP13", self._w(creators[0]), "the creator agent's OTHERTYPE is not 'SOFTWARE'")
            software = creators
        agent = software[0]
        if not (agent.findtext("mets:name", default="", namespaces=NS) or "").strip():
            self.r.add("CSIP14", self._w(agent), "the software agent has no name")
        note = agent.find("mets:note", NS)
        if note is None or not (note.text or "").strip():
            self.r.add("CSIP15", self._w(agent), "the software agent has no note with its version")
        elif note.get(f"{{{CSIP}}}NOTETYPE") != "SOFTWARE VERSION":
            self.r.add("CSIP16", self._w(note), "the agent note's csip:NOTETYPE is not 'SOFTWARE VERSION'")

    # ------------------------------------------------------------------ metadata sections

    def _dmd(self, mets: etree._Element) -> None:
        sections = mets.findall("mets:dmdSec", NS)
        descriptive = self._files_under("metadata/descriptive")
        if descriptive and not sections:
            self.r.add("CSIP17", self._w(mets), "descriptive metadata files exist but there is no dmdSec")
        referenced = self._md_sections(sections, "dmdSec", "CSIP18", "CSIP19", "CSIP20", "CSIP21")
        for path in descriptive:
            if path not in referenced:
                self.r.add(
                    "CSIP17", f"{self.rel}: {path}", "descriptive metadata file not described by a dmdSec"
                )

    def _amd(self, mets: etree._Element) -> None:
        amds = mets.findall("mets:amdSec", NS)
        preservation = self._files_under("metadata/preservation")
        if len(amds) > 1:
            self.r.add(
                "CSIP31", self._w(amds[1]), "more than one amdSec: all administrative metadata belongs in one"
            )
        if preservation and not amds:
            self.r.add("CSIP31", self._w(mets), "preservation metadata exists but there is no amdSec")
        digiprov = [d for a in amds for d in a.findall("mets:digiprovMD", NS)]
        rights = [d for a in amds for d in a.findall("mets:rightsMD", NS)]
        referenced = self._md_sections(digiprov, "digiprovMD", "CSIP33", None, "CSIP34", "CSIP35")
        for path in preservation:
            if path.lower().endswith(".xml") and "premis" in path.lower() and path not in referenced:
                self.r.add("CSIP32", f"{self.rel}: {path}", "PREMIS file without a digiprovMD")
        self._md_sections(rights, "rightsMD", "CSIP46", None, "CSIP47", "CSIP48")
        for a in amds:
            for other in (*a.findall("mets:sourceMD", NS), *a.findall("mets:techMD", NS)):
                for ref in other.findall("mets:mdRef", NS):
                    self._target(ref, "CSIP38", check=("CSIP43", "CSIP41", "CSIP44"))

    def _md_sections(
        self,
        sections: Iterable[etree._Element],
        kind: str,
        id_req: str,
        created_req: str | None,
        status_req: str,
        mdref_req: str,
    ) -> set[str]:
        loc, xtype, href, mdtype, mime, size, created, checksum, checksumtype = MDREF_IDS[kind]
        referenced: set[str] = set()
        for sec in sections:
            if not sec.get("ID"):
                self.r.add(id_req, self._w(sec), f"{kind} without ID")
            if created_req and (not sec.get("CREATED") or not is_datetime(sec.get("CREATED", ""))):
                self.r.add(created_req, self._w(sec), f"{kind}/@CREATED is missing or not a date-time")
            status = sec.get("STATUS")
            if status is None or status not in self.vocab("status"):
                self.r.add(
                    status_req,
                    self._w(sec),
                    f"{kind}/@STATUS is missing or not CURRENT/SUPERSEDED ({status!r})",
                )
            ref = sec.find("mets:mdRef", NS)
            if ref is None:
                self.r.add(mdref_req, self._w(sec), f"{kind} has no mdRef to a metadata file")
                continue
            if ref.get("LOCTYPE") != "URL":
                self.r.add(loc, self._w(ref), f"mdRef/@LOCTYPE is {ref.get('LOCTYPE')!r}, not 'URL'")
            if ref.get(XTYPE) != "simple":
                self.r.add(xtype, self._w(ref), "mdRef/@xlink:type is not 'simple'")
            if not ref.get("MDTYPE") or ref.get("MDTYPE") not in MDTYPES:
                self.r.add(
                    mdtype,
                    self._w(ref),
                    f"mdRef/@MDTYPE is missing or not a METS value ({ref.get('MDTYPE')!r})",
                )
            if not ref.get("MIMETYPE"):
                self.r.add(mime, self._w(ref), "mdRef/@MIMETYPE is missing")
            if not ref.get("CREATED") or not is_datetime(ref.get("CREATED", "")):
                self.r.add(created, self._w(ref), "mdRef/@CREATED is missing or not a date-time")
            target = self._target(ref, href, check=(checksum, size, checksumtype))
            if target:
                referenced.add(target)
        return referenced

    # ------------------------------------------------------------------ files

    def _filesec(self, mets: etree._Element) -> dict[str, tuple[str, etree._Element]]:
        """Returns fileGrp ID -> (USE, element)."""
        secs = mets.findall("mets:fileSec", NS)
        if len(secs) > 1:
            self.r.add("CSIP58", self._w(secs[1]), "more than one fileSec")
        groups: dict[str, tuple[str, etree._Element]] = {}
        uses: list[str] = []
        for sec in secs:
            if not sec.get("ID"):
                self.r.add("CSIP59", self._w(sec), "fileSec without ID")
            for grp in sec.findall("mets:fileGrp", NS):
                use = grp.get("USE")
                if not use:
                    self.r.add("CSIP64", self._w(grp), "fileGrp without USE")
                    use = ""
                uses.append(use)
                if not grp.get("ID"):
                    self.r.add("CSIP65", self._w(grp), "fileGrp without ID")
                else:
                    groups[grp.get("ID", "")] = (use, grp)
                if use.startswith("Representations") and self.is_root:
                    cit = grp.get(f"{{{CSIP}}}CONTENTINFORMATIONTYPE")
                    if cit is None:
                        self.r.add(
                            "CSIP62",
                            self._w(grp),
                            "representations fileGrp without csip:CONTENTINFORMATIONTYPE",
                        )
                    elif cit == "OTHER" and not grp.get(f"{{{CSIP}}}OTHERCONTENTINFORMATIONTYPE"):
                        self.r.add(
                            "CSIP63",
                            self._w(grp),
                            "CONTENTINFORMATIONTYPE OTHER without OTHERCONTENTINFORMATIONTYPE",
                        )
                admid = grp.get("ADMID")
                if admid is not None and not self._ids_exist(admid):
                    self.r.add(
                        "CSIP61", self._w(grp), f"fileGrp/@ADMID {admid!r} refers to no amdSec section"
                    )
                files = grp.findall("mets:file", NS)
                if not files:
                    self.r.add("CSIP66", self._w(grp), "fileGrp without file")
                for f in files:
                    self._file(f)
        if self.is_root:
            if self._files_under("documentation") and "Documentation" not in uses:
                self.r.add(
                    "CSIP60", self.rel, "documentation exists but there is no fileGrp USE='Documentation'"
                )
            if self._files_under("schemas") and "Schemas" not in uses:
                self.r.add("CSIP113", self.rel, "schemas exist but there is no fileGrp USE='Schemas'")
            if self._files_under("representations") and not any(
                u.startswith("Representations") for u in uses
            ):
                self.r.add(
                    "CSIP114",
                    self.rel,
                    "representations exist but there is no fileGrp USE='Representations…'",
                )
        return groups

    def _file(self, f: etree._Element) -> None:
        if not f.get("ID"):
            self.r.add("CSIP67", self._w(f), "file without ID")
        if not f.get("MIMETYPE"):
            self.r.add("CSIP68", self._w(f), "file/@MIMETYPE is missing")
        if not f.get("CREATED") or not is_datetime(f.get("CREATED", "")):
            self.r.add("CSIP70", self._w(f), "file/@CREATED is missing or not a date-time")
        for attr, rid in (("OWNERID", ""), ("ADMID", "CSIP74"), ("DMDID", "CSIP75")):
            value = f.get(attr)
            if rid and value is not None and not self._ids_exist(value):
                self.r.add(rid, self._w(f), f"file/@{attr} {value!r} refers to nothing")
        locs = f.findall("mets:FLocat", NS)
        if len(locs) != 1:
            self.r.add("CSIP76", self._w(f), f"file has {len(locs)} FLocat elements, exactly one is required")
            if not locs:
                return
        loc = locs[0]
        if loc.get("LOCTYPE") != "URL":
            self.r.add("CSIP77", self._w(loc), f"FLocat/@LOCTYPE is {loc.get('LOCTYPE')!r}, not 'URL'")
        if loc.get(XTYPE) != "simple":
            self.r.add("CSIP78", self._w(loc), "FLocat/@xlink:type is not 'simple'")
        self._target(loc, "CSIP79", check=("CSIP71", "CSIP69", "CSIP72"), holder=f)


def _id_requirement(el: etree._Element) -> str:
    tag = etree.QName(el).localname
    parent = el.getparent()
    ptag = etree.QName(parent).localname if parent is not None else ""
    return {
        "dmdSec": "CSIP18",
        "digiprovMD": "CSIP33",
        "rightsMD": "CSIP46",
        "fileSec": "CSIP59",
        "fileGrp": "CSIP65",
        "file": "CSIP67",
        "structMap": "CSIP83",
    }.get(tag) or (
        "CSIP85" if tag == "div" and ptag == "structMap" else "CSIP106" if tag == "div" else "CSIP67"
    )
