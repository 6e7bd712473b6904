"""Preservation planning (OAIS): format policy, conversions and their verification, OCR.

A library like the rest of ``preservation/``: it imports nothing of ours outside ``preservation``.
The workflows that use it live in ``workflows/planning/``.
"""
