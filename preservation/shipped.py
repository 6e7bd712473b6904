"""Where the data shipped with the program lives: ``config/`` and ``migrations/``.

Both folders sit at the top of the source tree (the design card keeps config as data beside the
code), and a wheel carries them as the packages ``kholuu_config`` and ``kholuu_migrations``
(``pyproject.toml`` maps those names onto the folders). A source checkout finds them beside the
packages; an installed program finds them through the import system. One function decides, so
that settings, message catalogs, TT 05 tables, the format policy and migrations never disagree about
where they are.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

__all__ = ["ShippedDataMissing", "shipped_dir"]

_SOURCE_ROOT = Path(__file__).resolve().parents[1]
#: A file each folder must hold, so that an unrelated ``config`` folder is never mistaken for ours.
_MARKER = {"config": "defaults.toml", "migrations": "env.py"}
_PACKAGE = {"config": "kholuu_config", "migrations": "kholuu_migrations"}


class ShippedDataMissing(RuntimeError):
    """The program was installed without its data: a packaging bug, never the user's fault."""


def shipped_dir(kind: Literal["config", "migrations"]) -> Path:
    """The folder of shipped ``kind`` data: the source tree's when there is one, else the
    installed package's."""
    source = _SOURCE_ROOT / kind
    if (source / _MARKER[kind]).is_file():
        return source
    spec = importlib.util.find_spec(_PACKAGE[kind])
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            folder = Path(location)
            if (folder / _MARKER[kind]).is_file():
                return folder
    raise ShippedDataMissing(
        f"the shipped {kind} data is missing: neither {source} nor the package {_PACKAGE[kind]} "
        "holds it; reinstall Kho Lưu"
    )
