"""OAIS Archival Storage: audits and repair, verify, replication, new versions, retrieval,
rebuilding the catalog from storage, fixity report data."""
