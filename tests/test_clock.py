"""One clock for the server, the CLI and the tests (issue 13): nothing ages.

The suite runs on a clock pinned by conftest (ETI_TODAY). These tests move it to the days
the issue names, and to the real one, and check that a demo loaded on that day looks like
a live catalogue; `.ci/run` runs this module again with the real clock moved by faketime.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyoxigraph as ox
import pytest

from eti.catalogue import agreements, clock, demo
from eti.catalogue.auth import Identity, TokenTable
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.server import create_app

ROOT = Path(__file__).resolve().parents[1]
DAYS = ["2026-12-21", "2027-06-01", "2031-01-01"]
APP = "https://eti.example/channels/familieapp"
NAV_PLEIEPENGER = "https://eti.example/products/nav-pleiepenger"


@pytest.fixture
def moved() -> Iterator[object]:
    """Move the catalogue's clock inside a test; put the suite's clock back after."""
    before = clock.current()
    yield clock.use
    clock.use(before)


# --- one clock -----------------------------------------------------------------------------

_REAL_CLOCK = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|datetime\.today)\(")


def test_no_module_reads_the_real_clock_but_the_clock_module() -> None:
    readers = []
    for folder in ("catalogue", "server"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "clock.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _REAL_CLOCK.search(line):
                    readers.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert readers == [], "read eti.catalogue.clock instead:\n" + "\n".join(readers)


def test_no_shipped_query_reads_the_engines_clock() -> None:
    """NOW() is the engine's real clock; the catalogue's day is eti:today()."""
    texts = [*(ROOT / "catalogue").rglob("*.rq")]
    users = [str(p.relative_to(ROOT)) for p in texts if "NOW()" in p.read_text("utf-8")]
    assert users == []


def test_a_date_setting_starts_the_clock_at_noon_that_day_and_it_runs_on() -> None:
    moved = clock.Clock("2031-01-01")
    first = moved.now()
    assert moved.today() == date(2031, 1, 1)
    assert first.tzinfo is not None and first.hour == 12
    assert moved.now() >= first  # it runs at real speed, never backwards
    assert clock.Clock("2027-06-01T23:30:00Z").now() >= datetime(2027, 6, 1, 23, 30, tzinfo=UTC)
    assert clock.Clock("2027-06-01T23:30:00+02:00").today() == date(2027, 6, 1)
    assert clock.Clock().moved is False and moved.moved is True


def test_the_clock_setting_comes_from_toml_and_environment(tmp_path: Path) -> None:
    toml = tmp_path / "eti.toml"
    toml.write_text('clock = "2027-06-01"\n', encoding="utf-8")
    assert Settings.load(toml, env={}).clock == "2027-06-01"
    assert Settings.load(toml, env={"ETI_TODAY": "2031-01-01"}).clock == "2031-01-01"
    assert Settings.load(env={"ETI_NOW": "2031-01-01T08:00:00Z"}).clock == "2031-01-01T08:00:00Z"
    both = {"ETI_NOW": "2031-01-01T08:00:00Z", "ETI_TODAY": "2027-06-01"}
    assert Settings.load(env=both).clock == "2031-01-01T08:00:00Z"  # the finer one wins
    assert Settings.load(env={}).clock is None  # the real clock


@pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01", "01.12.2026"])
def test_a_bad_clock_setting_is_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match="setting clock"):
        Settings.load(env={"ETI_TODAY": bad})


def test_a_catalogue_with_a_clock_setting_runs_on_it(tmp_path: Path, moved) -> None:
    settings = Settings.load(env={}, store=str(tmp_path / "s"), query_workers=0, clock="2031-01-01")
    with Catalogue(settings):
        assert clock.today() == date(2031, 1, 1)


def test_tokens_expire_on_the_catalogues_clock(tmp_path: Path, moved) -> None:
    with Catalogue(Settings.load(env={}, store=str(tmp_path / "s"), query_workers=0)) as cat:
        table = TokenTable(cat.store)
        _, secret = table.create("admin", days=30)
        assert table.authenticate(secret).role == "admin"
        moved((clock.today() + timedelta(days=31)).isoformat())
        with pytest.raises(ValueError, match="expired"):
            table.authenticate(secret)


def test_sparql_today_is_the_catalogues_day(tmp_path: Path, moved) -> None:
    moved("2031-01-01")
    settings = Settings.load(env={}, store=str(tmp_path / "s"), query_workers=1)
    with Catalogue(settings) as cat:
        cat.prepare()
        answer = cat.answer(
            "SELECT (<https://w3id.org/eti#today>() AS ?d) {}",
            solutions_media="text/csv",
        )
        assert "2031-01-01" in b"".join(answer.chunks).decode()


# --- a demo loaded any day is a live catalogue ---------------------------------------------


def _live_demo(folder: Path) -> tuple[Catalogue, object]:
    cat = Catalogue(Settings.load(env={}, store=str(folder), query_workers=0))
    cat.prepare(demo_if_empty=True)
    return cat, create_app(cat.settings, catalogue=cat).test_client()


def _check_demo_is_live(cat: Catalogue, client, today: date) -> None:
    # products: updated recently, by their promised frequency
    doc = client.get("/api/situation", query_string={"municipality": "4207"}).json
    found = [s for group in doc["groups"] for s in group["services"]]
    sources = {s["source"]["product"]: s["source"] for s in found}
    assert sources[NAV_PLEIEPENGER]["fresh"] is True
    assert all(s["fresh"] for s in sources.values()), sources
    for product in demo.products(today):
        for t in product.description:
            if t.predicate.value == "http://purl.org/dc/terms/modified":
                assert date.fromisoformat(t.object.value[:10]) <= today
    # agreements: one expired, one terminated, the rest in force
    admin = Identity("admin")
    states = [a.effective(today) for a in agreements.for_caller(cat.store, admin)]
    assert sorted(states).count("expired") == 1, states
    assert states.count("terminated") == 1, states
    assert states.count("active") == len(states) - 2, states
    channel = Identity("channel", channel=APP)
    assert cat.access(channel).agreements, "the family app reads through an agreement in force"


@pytest.mark.parametrize("day", DAYS)
def test_the_demo_loaded_on_a_later_day_is_live(tmp_path: Path, moved, day: str) -> None:
    moved(day)
    cat, client = _live_demo(tmp_path / "store")
    with cat:
        _check_demo_is_live(cat, client, date.fromisoformat(day))


def test_the_demo_loaded_on_the_real_day_is_live(tmp_path: Path, moved) -> None:
    """On the real clock (under faketime in CI: a year and five years on)."""
    moved(None)
    cat, client = _live_demo(tmp_path / "store")
    with cat:
        _check_demo_is_live(cat, client, clock.today())


def test_the_demo_ages_after_it_is_loaded(tmp_path: Path, moved) -> None:
    """Loaded once, the demo is a real catalogue: a year later its agreements have ended."""
    cat, _ = _live_demo(tmp_path / "store")
    with cat:
        moved((clock.today() + timedelta(days=3 * 365)).isoformat())
        states = [
            a.effective(clock.today()) for a in agreements.for_caller(cat.store, Identity("admin"))
        ]
        assert "active" not in states


def test_the_demo_keeps_its_facts_when_its_dates_move() -> None:
    """Only typed dates move: legal identifiers like "LOV-2011-06-24-30 § 3-2" stay."""
    same = demo.products(demo.WRITTEN_ON)
    later = demo.products(demo.WRITTEN_ON + timedelta(days=400))
    for a, b in zip(same, later, strict=True):
        assert len(a.description) == len(b.description)
        moved = [  # blank nodes differ between two parses: compare literals
            (x, y)
            for x, y in zip(a.description + a.content, b.description + b.content, strict=True)
            if isinstance(x.object, ox.Literal) and x.object != y.object
        ]
        assert moved, a.ident
        for x, y in moved:
            assert x.object.datatype.value.endswith(("#date", "#dateTime")), (x, y)
            old = date.fromisoformat(x.object.value[:10])
            assert date.fromisoformat(y.object.value[:10]) - old == timedelta(days=400)
