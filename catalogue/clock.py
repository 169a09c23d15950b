"""The catalogue's one clock: every date and time the catalogue decides on comes from here.

Agreements in force, expiry, freshness, the situation, history and record timestamps,
token expiry and the demo's dates all read ``now()`` / ``today()``. By default that is
the real clock. The ``clock`` setting (TOML ``clock = "2026-12-01"``, ``ETI_TODAY`` or
``ETI_NOW``) moves it, for demos and tests: the clock then reads the given instant when
the setting is read (a bare date means 12:00 UTC that day) and runs on at real speed from
there, so timestamps still increase and a day never ends halfway through a test run.

No other module reads ``datetime.now()`` or ``date.today()`` (a test greps for it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["Clock", "now", "parse", "setting_from_env", "today", "use"]


def parse(text: str) -> datetime:
    """The instant a ``clock`` setting names: an ISO date (12:00 UTC that day) or an ISO
    date-time (UTC when it names no offset). Raises ValueError with what was expected."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(12), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"setting clock: {text!r} is neither a date (YYYY-MM-DD) nor a date-time "
            "(YYYY-MM-DDTHH:MM:SSZ)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def setting_from_env(env: Mapping[str, str]) -> str | None:
    """The clock an environment asks for: ``ETI_NOW`` wins over ``ETI_TODAY``."""
    return env.get("ETI_NOW") or env.get("ETI_TODAY") or env.get("ETI_CLOCK") or None


class Clock:
    """The real clock, or one moved to start at a given instant and run on from there."""

    def __init__(self, setting: str | None = None) -> None:
        self.setting = setting or None
        self._offset = timedelta(0)
        if self.setting:
            self._offset = parse(self.setting) - _real_now()

    @property
    def moved(self) -> bool:
        """True when this clock is not the real one."""
        return self.setting is not None

    def now(self) -> datetime:
        """The current instant (UTC, aware)."""
        return _real_now() + self._offset

    def today(self) -> date:
        """The current day (UTC)."""
        return self.now().date()

    def __repr__(self) -> str:
        return f"Clock({self.setting!r})" if self.setting else "Clock(real)"


def _real_now() -> datetime:
    return datetime.now(UTC)


_LOCK = threading.Lock()
_current = Clock(setting_from_env(os.environ))


def use(setting: str | Clock | None) -> Clock:
    """Make ``setting`` (a Clock, a date or date-time text, or None for the real clock)
    the catalogue's clock; returns the clock it replaced."""
    global _current
    new = setting if isinstance(setting, Clock) else Clock(setting)
    with _LOCK:
        old, _current = _current, new
    return old


def current() -> Clock:
    """The clock in use."""
    return _current


def now() -> datetime:
    """The catalogue's current instant (UTC, aware)."""
    return _current.now()


def today() -> date:
    """The catalogue's current day (UTC)."""
    return _current.today()
