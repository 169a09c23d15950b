"""What every ``eti`` command shares: exit codes, ``fail``, the store options, the
guard that turns the catalogue's errors into a message, progress bars and tables.

Exit codes: 0 ok, 1 a shared rule is broken, 2 bad input or usage.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from . import rdfio, remote
from .auth import Identity
from .config import Settings
from .core import Catalogue, QueryRefused
from .store import GraphRefused, QuerySyntaxError, StoreError

EXIT_OK, EXIT_RULE, EXIT_INPUT = 0, 1, 2
LOCAL_ADMIN = Identity(role="admin", name="cli")


def fail(message: str, code: int = EXIT_INPUT) -> None:
    """Print ``message`` to standard error and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def store_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--store/--store-url/--config for every command that touches the store. An option
    wins over the environment (``--store`` over ``ETI_STORE_URL`` too); both options
    together are a usage error."""

    @click.option(
        "--store",
        "store_path",
        type=click.Path(file_okay=False),
        default=None,
        help="Data folder of the embedded store [env ETI_STORE; default ./var/store].",
    )
    @click.option(
        "--store-url", default=None, help="URL of a remote SPARQL 1.1 store [env ETI_STORE_URL]."
    )
    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Settings file (TOML) [env ETI_CONFIG].",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        store_path: str | None,
        store_url: str | None,
        config_path: str | None,
        **kwargs: Any,
    ) -> Any:
        if store_path is not None and store_url is not None:
            raise click.UsageError("give --store PATH or --store-url URL, not both")
        try:
            settings = Settings.load(config_path, store=store_path, store_url=store_url)
        except ValueError as exc:
            fail(str(exc))
        return func(*args, settings=settings, **kwargs)

    return wrapper


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the catalogue's own errors into a message and exit code 2, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except rdfio.RdfInputError as exc:
            fail(str(exc))
        except QuerySyntaxError as exc:
            fail(f"the query does not parse: {exc}")
        except (QueryRefused, GraphRefused) as exc:
            fail(f"the query is refused: {exc}")
        except StoreError as exc:
            fail(str(exc))
        except remote.ServerRefused as exc:
            for line in exc.lines:
                click.echo(line, err=True)
            fail(exc.message, exc.code)

    return wrapper


def open_catalogue(settings: Settings) -> Catalogue:
    """The catalogue the settings name (errors become exit code 2)."""
    return Catalogue(settings)


def byte_progress(path: Path, label: str) -> tqdm:
    """A progress bar over the bytes of ``path`` (hidden when not on a terminal)."""
    return tqdm(
        total=path.stat().st_size,
        unit="B",
        unit_scale=True,
        desc=label,
        leave=False,
        disable=None,
        file=sys.stderr,
    )


def stage_progress(stages: int, show: bool | None) -> tqdm:
    """A progress bar over the stages of a long task, on standard error: shown when it is
    a terminal (``show`` None) or when asked for (``show`` True)."""
    return tqdm(
        total=stages,
        desc="reading",
        leave=False,
        disable=None if show is None else not show,
        file=sys.stderr,
        bar_format="{desc}: {bar} {n_fmt}/{total_fmt} [{elapsed}]",
    )


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows under a header, each column as wide as its widest cell (the last one free)."""
    cells = [[str(c) if c not in (None, "") else "-" for c in row] for row in rows]
    widths = [max(len(r[i]) for r in [list(header), *cells]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=False)) + "  " + r[-1]
        for r in [list(header), *cells]
    ]
    return "\n".join(line.rstrip() for line in lines)
