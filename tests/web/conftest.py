"""Web tests: every data folder hashes passwords with cheap argon2 parameters (tests/accounts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.accounts import FAST_ARGON2
from tests.conftest import write_home_config


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    write_home_config(path, FAST_ARGON2)
    return path
