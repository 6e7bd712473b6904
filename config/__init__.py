"""Shipped configuration data (defaults, message catalogs, TT 05 tables, retention schedules, the
format policy, test virus signatures). Only data lives here; this file exists so that a wheel
carries the folder as the package ``kholuu_config`` (see ``preservation/shipped.py``)."""
