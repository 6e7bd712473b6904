"""Command groups of ``kholuu`` beyond ingest and AIPs; importing a module registers its commands
on :data:`repository.cli.main`."""
