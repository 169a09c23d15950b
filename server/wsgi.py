"""Run the app under gunicorn: one worker process (the embedded store allows one writer
process) with threads, which really run queries in parallel (pyoxigraph releases the GIL)."""

from __future__ import annotations

import sys

import click
from gunicorn.app.base import BaseApplication

from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue

from . import create_app


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, demo_if_empty: bool) -> None:
        self.settings = settings
        self.demo_if_empty = demo_if_empty
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        self.cfg.set("bind", f"{s.host}:{s.port}")
        self.cfg.set("workers", 1)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", s.threads)
        self.cfg.set("timeout", max(60, int(s.query_timeout * 2)))
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("accesslog", None)
        self.cfg.set("limit_request_line", 8190)  # gunicorn's ceiling; longer lines: 414

    def load(self):  # type: ignore[no-untyped-def]
        catalogue = Catalogue(self.settings)
        done = catalogue.prepare(demo_if_empty=self.demo_if_empty)
        if done.get("products"):
            click.echo(
                f"loaded the demo catalogue: {done['products']} products, "
                f"{done['agreements']} agreements",
                err=True,
            )
        return create_app(self.settings, catalogue)


def run(settings: Settings, *, demo_if_empty: bool = False) -> None:
    """Serve until stopped; print the URLs to open."""
    base = f"http://{settings.host}:{settings.port}"
    where = settings.store_url or settings.store
    click.echo(
        f"ETI catalogue on {base}  (store: {where})\n"
        f"  catalogue      {base}/\n"
        f"  SPARQL         {base}/sparql\n"
        f"  ontology       {base}/ontology\n"
        f"  health         {base}/healthz",
        err=True,
    )
    sys.argv = sys.argv[:1]
    _Gunicorn(settings, demo_if_empty).run()
