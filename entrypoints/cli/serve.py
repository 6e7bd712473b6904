"""``kholuu serve``: the web app under waitress, optionally with the audit schedules in the same
process.

waitress is a production WSGI server (a pool of worker threads behind one event loop); Flask's
development server is never used. Staff log in (docs/web.md); the default address is loopback,
and a deployment puts a TLS-terminating reverse proxy in front. SIGTERM and SIGINT stop the
server, let the requests and a running audit finish, and exit 0.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Any

import click

from entrypoints.cli.app import EXIT_FAILED, current_app, handles_errors, main


def _stop(signum: int, frame: FrameType | None) -> None:
    """SIGTERM: leave waitress's loop the way Ctrl-C does (it catches SystemExit, then drains)."""
    raise SystemExit(0)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port (0: any free one)."
)
@click.option(
    "--threads", type=click.IntRange(min=1), default=4, show_default=True, help="Requests served at once."
)
@click.option(
    "--scheduler", "with_scheduler", is_flag=True, help="Also run the audit schedules ([[audit.schedules]])."
)
@handles_errors
def serve(host: str, port: int, threads: int, with_scheduler: bool) -> None:
    """Serve the web app (dashboard, fixity report) until stopped (Ctrl-C / SIGTERM)."""
    import waitress

    from entrypoints.web import create_app
    from entrypoints.web.jobs import stop_ingests
    from workflows.jobs.scheduler import start_in_background

    app = current_app()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web = create_app(app.settings, app.sessions)  # app.sessions: the catalog is at the current revision
    try:
        server: Any = waitress.create_server(web, host=host, port=port, threads=threads, ident="kholuu")
    except OSError as exc:
        app.fail(
            "cli.serve.cannot_listen",
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            EXIT_FAILED,
            params={"host": host, "port": port, "problem": exc.strerror or str(exc)},
        )
    t = app.t
    sched = None
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        if with_scheduler:
            sched, jobs = start_in_background(app.settings)
            click.echo(t.text("cli.scheduler.started", {"jobs": ", ".join(jobs) or "-"}), err=True)
        listening = getattr(server, "effective_listen", None) or [
            (server.effective_host, server.effective_port)
        ]
        for bound_host, bound_port in listening:
            shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
            url = f"http://{shown}:{bound_port}/"
            click.echo(t.text("cli.serve.started", {"url": url, "threads": threads}), err=True)
        server.run()  # returns after SIGINT / SIGTERM, once the worker threads are done
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        stop_ingests(web)  # the running ingest ends as a job does; queued ones never start
        if sched is not None:
            sched.shutdown(wait=True)
        app.engine.dispose()
    click.echo(t.text("cli.serve.stopped"), err=True)
