"""Thông tư 05/2025/TT-BNV packages and descriptive metadata (hồ sơ, tài liệu), and the legacy
NĐ 30/2020 / TT 02/2019 shapes mapped onto them. See ``../shared/docs/vn-standards.md``."""
