"""Per-file work of an ingest step on a few threads, results in the files' order.

The per-file work of text extraction and characterization mostly waits on a tool (``pdftotext``,
``ffprobe``, LibreOffice) or on C code that releases the GIL (pikepdf, lxml, Pillow), so a few
threads keep both cores busy without a process per file. At most ``workers × 4`` files are in
flight, so memory is bounded by that window, not by the package (issue 14).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WINDOW_PER_WORKER = 4
"""Files queued per worker thread ahead of the one whose result is awaited."""


def ordered_map(func: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[tuple[T, R]]:
    """``(item, func(item))`` for every item, in the items' order, computed by ``workers`` threads.

    An exception raised by ``func`` is raised here when its item's turn comes, as a plain loop
    would; the items after it are not started. ``workers`` ≤ 1 runs in the calling thread.
    """
    if workers <= 1:
        for item in items:
            yield item, func(item)
        return
    window = workers * WINDOW_PER_WORKER
    pending: deque[tuple[T, Future[R]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool:
        try:
            for item in items:
                pending.append((item, pool.submit(func, item)))
                if len(pending) >= window:
                    first, future = pending.popleft()
                    yield first, future.result()
            while pending:
                first, future = pending.popleft()
                yield first, future.result()
        finally:
            for _item, future in pending:
                future.cancel()
