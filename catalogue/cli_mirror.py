"""``eti mirror``: keep a local store equal to what a caller may read of a catalogue,
by following its change feed. Plugged into ``eti`` through the ``eti.commands`` entry
points, like ``eti serve``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from eti.client.mirror import Mirror, MirrorError

from .cli_common import fail


@click.command("mirror")
@click.argument("url")
@click.option(
    "--store", "store_path", required=True, type=click.Path(path_type=Path), help="data folder"
)
@click.option("--token", envvar="ETI_TOKEN", help="bearer token of the caller (none: anonymous)")
@click.option("--interval", default=10.0, show_default=True, help="seconds between polls")
@click.option("--once", is_flag=True, help="sync once and stop (no polling)")
def mirror(url: str, store_path: Path, token: str | None, interval: float, once: bool) -> None:
    """Keep the embedded Oxigraph store in STORE equal to what the caller may read of the
    catalogue at URL: read its change feed (/feed) from where the last run stopped, then
    poll every INTERVAL seconds. A progress bar shows the first sync."""
    import time

    try:
        copy = Mirror(url, store_path, token=token)
    except OSError as exc:
        fail(f"cannot open the store {store_path}: {exc}")
    first = copy.position() is None
    bar = tqdm(desc="first sync", unit="member", disable=not first or None, file=sys.stderr)

    def progress(done: int, total: int | None) -> None:
        if total is not None and bar.total is None:
            bar.total = total
        bar.update(done)

    try:
        while True:
            applied = copy.sync(progress if first else None)
            bar.close()
            first = False
            click.echo(f"{applied} member(s) applied", err=True)
            if once:
                return
            time.sleep(interval)
    except MirrorError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass
    finally:
        copy.close()
