"""``kholuu worker``: run queued jobs (ingests, audit batches, migrations, DIP builds) from the
PostgreSQL job queue until stopped; docs/deploy.md "Workers"."""

from __future__ import annotations

import os

import click

from entrypoints.cli.app import current_app, handles_errors, main
from entrypoints.errors import EXIT_USAGE


@main.command()
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    default=1,
    show_default=True,
    help="How many jobs at once: one worker process each.",
)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="NAME",
    help="Take jobs of this queue only (kholuu, kholuu-large); repeatable. Default: every queue.",
)
@handles_errors
def worker(concurrency: int, queues: tuple[str, ...]) -> None:
    """Run queued jobs until Ctrl-C or SIGTERM (a running job finishes first). Any number of
    workers, on any number of machines, may share one catalog."""
    from workflows.jobs.queue import uses_queue
    from workflows.jobs.worker import run_workers

    app = current_app()
    if not uses_queue(app.settings):
        app.fail(
            "cli.worker.no_queue",
            "the job queue needs a PostgreSQL catalog ([jobs] dispatch)",
            EXIT_USAGE,
            params={"dispatch": app.settings.jobs.dispatch},
        )
    app.sessions  # noqa: B018  (the data folder and the catalog's schema checked before any fork)
    click.echo(
        app.t.text("cli.worker.started", {"count": concurrency, "queues": ", ".join(queues) or "*"}), err=True
    )
    environ = {k: v for k, v in os.environ.items() if k.startswith("KHOLUU_")}
    code = run_workers(app.settings, environ, concurrency, list(queues) or None)
    if code:
        raise SystemExit(code)
