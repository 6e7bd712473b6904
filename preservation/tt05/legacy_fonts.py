"""Vietnamese text typed in a legacy font encoding and read as if it were Unicode.

Before Unicode (TCVN 6909:2001), Vietnamese documents were typed with 8-bit font encodings:
TCVN3 (ABC, TCVN 5712:1993) and VNI. A value copied out of such a document, or exported by an
old system that wrote the bytes as Windows-1252, arrives as well-formed UTF-8 that no reader can
use: "Quyết định" becomes "QuyÕt ®Þnh" (TCVN3) or "Quyeát ñònh" (VNI). It is not refused (the
agency may only have it this way), but it is named, so that a person looks at it before it is
catalogued and searched.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["legacy_font"]

_TCVN3_MARKS = frozenset("®¬©ª«¨¸µ¶·¹ÕÞÖ¦§¢£¤¥")
"""Characters a TCVN3 byte becomes in Windows-1252 that Vietnamese text in Unicode never holds:
đ (®), ơ (¬), â (©), ê (ª), ô («), ă (¨), á à ả ã ạ (¸ µ ¶ · ¹), ế (Õ), ị (Þ), ệ (Ö), and the
capitals Ă Â Ê Ô Ơ Ư Đ (¡ ¢ £ ¤ ¥ ¦ §)."""
_VNI_PAIR = re.compile(r"[aeiouyAEIOUY][ùøûõïâêôäëöåãáàéèíìóòúæçþ]")
"""A plain vowel followed by a VNI tone or hat byte read as Windows-1252 ("Vieät", "Quyeát")."""
_VNI_D = re.compile(r"[ñÑ][^\x00-\x7f]")
"""VNI's đ (ñ) followed by another VNI byte ("ñònh"); Spanish "año" has a plain vowel after it."""
_VIETNAMESE = frozenset("ăđơưĂĐƠƯ")  # â ê ô are Latin-1 too: VNI bytes read as Windows-1252 give them


def _has_vietnamese_letters(text: str) -> bool:
    return any(c in _VIETNAMESE or 0x1EA0 <= ord(c) <= 0x1EF9 for c in unicodedata.normalize("NFC", text))


def legacy_font(text: str) -> str | None:
    """``"TCVN3"`` or ``"VNI"`` when ``text`` looks like Vietnamese in that legacy encoding read as
    Windows-1252, else None. Text that already has Vietnamese letters in Unicode is never flagged
    (a real "Hồ sơ" beside a stray "®" is Unicode text with a symbol in it)."""
    if text.isascii() or _has_vietnamese_letters(text):
        return None
    if sum(c in _TCVN3_MARKS for c in text) >= 2:
        return "TCVN3"
    if len(_VNI_PAIR.findall(text)) + len(_VNI_D.findall(text)) >= 2:
        return "VNI"
    return None
