"""Fair shares of the query engine: how many queries one caller may run at once.

The query workers are few (one per core); without a limit per caller, one client that
sends as many heavy queries as there are workers holds all of them for the whole time
limit and everyone else is refused. A caller is a token (its id) or, anonymous, a client
address; beyond ``per_caller_queries`` running queries it is refused at once (HTTP 429
with Retry-After), never queued, so that waiting costs no thread either.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from .executor import Answer


class TooManyQueries(RuntimeError):
    """The caller runs as many queries (or validations) as it may already."""


class CallerLimit:
    """Counts the queries each caller is running."""

    def __init__(self, limit: int, what: str = "queries") -> None:
        self.limit = limit
        self.what = what
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, caller: str | None) -> Callable[[], None]:
        """Take a slot for ``caller`` (None: no limit); the function returned gives it
        back (once, however often it is called). Raises TooManyQueries."""
        if caller is None:
            return lambda: None
        with self._lock:
            running = self._running.get(caller, 0)
            if running >= self.limit:
                raise TooManyQueries(
                    f"you are running {running} {self.what} already, as many as one caller may "
                    f"(per_caller_queries = {self.limit}); wait for them to end"
                )
            self._running[caller] = running + 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                left = self._running[caller] - 1
                if left:
                    self._running[caller] = left
                else:
                    del self._running[caller]

        return release


def holding(answer: Answer, release: Callable[[], None]) -> Answer:
    """``answer`` whose body gives the slot back when it ends or is closed."""
    return replace(answer, chunks=_Held(answer.chunks, release))


class _Held:
    def __init__(self, chunks: Iterator[bytes] | Any, release: Callable[[], None]) -> None:
        self._chunks = iter(chunks)
        self._inner = chunks
        self._release = release

    def __iter__(self) -> _Held:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self._release()
            raise

    def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None) or getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            self._release()
