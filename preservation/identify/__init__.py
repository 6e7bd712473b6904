"""Format identification against PRONOM, behind a small engine interface.

Siegfried (in-process through pygfried, current PRONOM signatures) is the primary engine; opf-fido
(bundled signatures from 2020) is the second, used to cross-check. Engines are found through a
registry so that a third one is one module and one registration line.
"""

from preservation.identify.base import IdentificationEngine, get_engine, register_engine
from preservation.identify.fido import FidoEngine
from preservation.identify.siegfried import SiegfriedEngine

register_engine("siegfried", SiegfriedEngine)
register_engine("fido", FidoEngine)

__all__ = ["FidoEngine", "IdentificationEngine", "SiegfriedEngine", "get_engine", "register_engine"]
