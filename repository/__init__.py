"""Kho Lưu application: catalog, storage, CLI (and later the web app and API)."""

__version__ = "0.1.0"
