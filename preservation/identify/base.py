"""The identification engine protocol and its registry (first-result semantics)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from preservation.events import Agent
from preservation.formats import FormatIdentification


class IdentificationEngine(Protocol):
    """Identifies many files at once (engines amortise start-up and signature loading)."""

    name: str

    @property
    def agent(self) -> Agent: ...

    def identify(self, paths: Sequence[Path]) -> dict[Path, FormatIdentification]: ...


_ENGINES: dict[str, Callable[..., IdentificationEngine]] = {}


def register_engine(name: str, factory: Callable[..., IdentificationEngine]) -> None:
    if not name or not callable(factory):
        raise ValueError(f"cannot register identification engine {name!r}")
    _ENGINES[name] = factory


def get_engine(name: str, **options: object) -> IdentificationEngine:
    """Build the engine registered as ``name``.

    Raises:
        ValueError: naming the unknown engine and the known ones.
    """
    try:
        factory = _ENGINES[name]
    except KeyError:
        raise ValueError(
            f"unknown identification engine {name!r}; known: {', '.join(sorted(_ENGINES))}"
        ) from None
    return factory(**options)
