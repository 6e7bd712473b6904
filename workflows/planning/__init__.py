"""Preservation planning, the OAIS function: which formats the archive holds and what its policy
does with each (format policy, holdings by format and risk, what a policy change would migrate),
and, built on it, normalisation at ingest, migration and access copies.

The policy itself and the conversions are in ``preservation.planning``; these workflows bring them
together with the catalog and the settings.
"""
