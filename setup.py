"""Packages of the wheel: our three code packages, and the shipped data folders under names that
cannot collide with anyone else's (``config/`` → ``kholuu_config``, ``migrations/`` →
``kholuu_migrations``; see ``preservation/shipped.py``). Everything else is in pyproject.toml; this
file exists only because pyproject's package finder cannot add renamed folders."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["entrypoints*", "preservation*", "repository*", "workflows*"]),
        "kholuu_config",
        "kholuu_migrations",
    ],
    package_dir={"kholuu_config": "config", "kholuu_migrations": "migrations"},
)
