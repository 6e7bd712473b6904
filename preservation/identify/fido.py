"""opf-fido as the second identification engine, in-process.

Its bundled PRONOM signatures date from 2020 and cannot be updated offline, and it often returns
several matches per file; we keep every candidate in fido's order and choose the first. Useful as
a cross-check of Siegfried, not as the primary engine.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from preservation.events import Agent
from preservation.formats import UNIDENTIFIED, FormatIdentification, FormatMatch


class FidoEngine:
    name = "fido"

    def __init__(self, **_options: object) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from fido import __version__ as fido_version
            from fido.fido import Fido
            from fido.versions import get_local_versions
        self._matches: list[tuple[Any, str]] = []
        self._matchtype = ""
        versions = get_local_versions()
        # fido's own defaults name a signature file it does not ship (formats-v104.xml); its CLI reads
        # the installed versions from versions.xml, and so do we.
        self._fido = Fido(
            quiet=True,
            handle_matches=self._collect,
            format_files=[versions.pronom_signature, versions.fido_extension_signature],
        )
        signatures = ", ".join(
            str(getattr(versions, attr))
            for attr in ("pronom_signature", "pronom_container_signature", "fido_extension_signature")
            if getattr(versions, attr, None)
        )
        self._agent = Agent(name="fido", version=str(fido_version), note=f"signatures {signatures}")

    @property
    def agent(self) -> Agent:
        return self._agent

    def _collect(
        self, fullname: str, matches: list[tuple[Any, str]], delta_t: float, matchtype: str = ""
    ) -> None:
        self._matches = list(matches)
        self._matchtype = matchtype

    def identify(self, paths: Sequence[Path]) -> dict[Path, FormatIdentification]:
        out: dict[Path, FormatIdentification] = {}
        for p in paths:
            self._matches, self._matchtype = [], ""
            sink = io.StringIO()
            # fido never closes the file it opens; CPython closes it when identify_file returns, with a
            # ResourceWarning we silence here (the descriptor is not leaked).
            with (
                contextlib.redirect_stdout(sink),
                contextlib.redirect_stderr(sink),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore", ResourceWarning)
                self._fido.identify_file(str(p))
            candidates = [self._match(fmt, sig) for fmt, sig in self._matches]
            if not candidates:
                note = sink.getvalue().strip()
                candidates = [FormatMatch(UNIDENTIFIED, warning=note or "no match")]
            out[p] = FormatIdentification(
                agent=self._agent, chosen=candidates[0], candidates=tuple(candidates)
            )
        return out

    def _match(self, fmt: Any, signature: str) -> FormatMatch:
        def text(tag: str) -> str:
            el = fmt.find(tag)
            return el.text if el is not None and el.text else ""

        basis = f"{self._matchtype} match" + (f" ({signature})" if signature else "")
        warning = "extension only" if self._matchtype == "extension" else ""
        return FormatMatch(
            puid=self._fido.get_puid(fmt),
            name=text("name"),
            version=text("version"),
            mime=text("mime"),
            basis=basis,
            warning=warning,
        )
