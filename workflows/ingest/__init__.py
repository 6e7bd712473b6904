"""OAIS Ingest: submission packages through the steps into AIPs; legacy exports."""
