"""Entry points: the command line and the web application. They parse, authorize, call a
workflow and render; nothing below imports them (tests/test_boundaries.py)."""
