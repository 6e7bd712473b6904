"""A per-file progress bar on a terminal, and nothing when the output is not a terminal.

Ingest of a large SIP takes minutes; an operator who sees nothing move assumes a stall (one of the
most common complaints about other repositories). The bar goes to stderr so that ``--json`` output
on stdout stays clean, and it is drawn only when stderr is a terminal.
"""

from __future__ import annotations

import shutil
import time
from typing import TextIO


class TerminalProgress:
    """``label  [#####-----]  12/50  name`` redrawn in place, at most ~20 times a second."""

    def __init__(self, stream: TextIO, *, min_interval: float = 0.05) -> None:
        self.stream = stream
        self.min_interval = min_interval
        self.label = ""
        self.total = 0
        self.done = 0
        self._last = 0.0
        self._active = False

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self._active = True
        self._draw("", force=True)

    def advance(self, item: str) -> None:
        self.done += 1
        self._draw(item)

    def finish(self) -> None:
        if self._active:
            self._draw("", force=True)
            self.stream.write("\n")
            self.stream.flush()
        self._active = False

    def _draw(self, item: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.min_interval and self.done != self.total:
            return
        self._last = now
        width = shutil.get_terminal_size((100, 20)).columns
        if self.total:
            filled = int(20 * self.done / self.total)
            bar = "#" * filled + "-" * (20 - filled)
            head = f"{self.label:<28} [{bar}] {self.done}/{self.total} "
        else:
            head = f"{self.label:<28} {self.done} "
        room = max(0, width - len(head) - 1)
        tail = item if len(item) <= room else "…" + item[-(room - 1) :] if room > 1 else ""
        self.stream.write("\r" + (head + tail).ljust(width - 1)[: width - 1])
        self.stream.flush()
