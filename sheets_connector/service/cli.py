"""The ``serve`` command (registered on the main ``sheets-connector`` group in ``cli.py``)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..errors import ConnectorError
from ..state.location import ENV_URL
from . import log


def _use_state_url(value: str | None) -> str | None:
    if value:
        os.environ[ENV_URL] = value
    return value


@click.command("serve")
@click.option("--configs", "configs", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder with one mapping YAML per spreadsheet (each with a service: section).")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="SHEETS_CONNECTOR_HOST",
              help="Address to listen on. Keep 127.0.0.1 behind an HTTPS reverse proxy.")
@click.option("--port", "-p", default=8787, show_default=True, envvar="SHEETS_CONNECTOR_PORT", help="Port (0 = any free port).")
@click.option("--max-parallel", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Syncs of different spreadsheets that may run at the same time.")
@click.option("--state-url", default=None, expose_value=False, metavar="URL",
              callback=lambda ctx, param, value: _use_state_url(value),
              help="The state store every sync of this service uses (locks, history, the feed): "
                   "postgresql://user@host/db for several replicas. Default: $SHEETS_CONNECTOR_STATE_URL, else each "
                   "mapping's state_url/state_dir.")
@click.option("--max-connections", default=1000, show_default=True, type=click.IntRange(16, 1_000_000),
              help="Open client connections kept; above it, the one waiting longest for its request is closed.")
@click.option("--root-path", default="", help="Path prefix when a proxy serves the service under one (e.g. /connector).")
def serve_command(configs: Path, host: str, port: int, max_parallel: int, max_connections: int,
                  root_path: str) -> None:
    """Run the web service for the sheet menu (inwise ▸ Sync now) and the schedules.

    \b
    Example:
      export INWISE_API_KEY=...  SALES_SHEET_SECRET=...
      sheets-connector serve --configs sheets/ --port 8787

    Stops on SIGTERM/Ctrl-C: running syncs are cancelled, their sent rows keep their results.
    """
    from .guard import ClientLimits
    from .runner import sync_runner
    from .server import ServeOptions, serve

    log.configure()
    try:
        serve(ServeOptions(configs=configs, host=host, port=port, max_parallel=max_parallel,
                           root_path=root_path, clients=ClientLimits(max_connections=max_connections)), sync_runner)
    except ConnectorError as e:
        click.echo("Error: " + str(e), err=True)
        sys.exit(e.exit_code)
    except OSError as e:  # the port is taken...
        click.echo(f"Error: the service cannot start: {e.strerror or e}", err=True)
        sys.exit(1)
