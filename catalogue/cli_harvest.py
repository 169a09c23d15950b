"""``eti harvest``: producers' own DCAT-AP-NO catalogues as sources, harvested on demand."""

from __future__ import annotations

import sys

import click
from tqdm import tqdm

from . import harvest
from .cli_common import EXIT_INPUT, fail, guarded, open_catalogue, store_options
from .config import Settings


@click.group("harvest")
def harvest_group() -> None:
    """Harvest producers' own DCAT-AP-NO catalogues."""


@harvest_group.command("add")
@click.argument("url")
@click.option("--org", required=True, help="Organisation number the source speaks for.")
@store_options
@guarded
def harvest_add(url: str, org: str, settings: Settings) -> None:
    """Add a catalogue URL to harvest for an organisation."""
    with open_catalogue(settings) as cat:
        try:
            source = harvest.add_source(cat.store, url, org)
        except ValueError as exc:
            fail(str(exc))
    click.echo(f"added source {source.id}: {url} ({org})")


@harvest_group.command("run")
@click.argument("url", required=False)
@click.option("--all", "run_all", is_flag=True, help="Harvest every source.")
@store_options
@guarded
def harvest_run(url: str | None, run_all: bool, settings: Settings) -> None:
    """Harvest one source (URL) or --all; print each run's report."""
    with open_catalogue(settings) as cat:
        chosen = [s for s in harvest.sources(cat.store) if run_all or s.url == url]
        if not chosen:
            fail("no such source: add it with 'eti harvest add', or use --all")
        failed = False
        for source in chosen:
            with tqdm(
                desc=source.url, unit="dataset", leave=False, disable=None, file=sys.stderr
            ) as bar:

                def step(done: int, total: int, bar: tqdm = bar) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                report = harvest.run(
                    cat.store, source, allow_private=settings.allow_private_urls, progress=step
                )
            _print_harvest(report)
            failed |= not report.ok
    if failed:
        sys.exit(EXIT_INPUT)


def _print_harvest(report: harvest.HarvestReport) -> None:
    if not report.ok:
        click.echo(f"{report.url}: failed: {report.error}")
        return
    counts = ", ".join(f"{k} {v}" for k, v in report.counts().items())
    click.echo(f"{report.url}: {report.datasets} datasets: {counts}")
    for refusal in report.refused:
        click.echo(f"  refused {refusal['dataset']}: {refusal['reason']}")


@harvest_group.command("list")
@store_options
@guarded
def harvest_list(settings: Settings) -> None:
    """List sources and their latest reports."""
    with open_catalogue(settings) as cat:
        for source in harvest.sources(cat.store):
            click.echo(f"{source.id}  {source.org}  {source.url}")
        for report in harvest.reports(cat.store, limit=20):
            click.echo(
                f"{report['started']}  {report['url']}  "
                f"{'ok' if report['ok'] else 'failed: ' + str(report['error'])}"
            )
