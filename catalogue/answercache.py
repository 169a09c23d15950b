"""Whole answers of read queries, kept until the next write.

Channels send the same few texts again and again (a site's "what applies in my
municipality" page). An answer is a function of the text, the caller's dataset, the
media type and the row limit, and of the data: it is kept under those and the store's
generation read *before* the query ran, and dropped at the next write. Texts whose answer
changes by itself (NOW(), RAND(), UUID()…) or that reach another endpoint (SERVICE) are
never kept. Only the embedded store is cached: a remote store may be written by others.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

from .executor import Answer


@dataclass(frozen=True)
class _Entry:
    generation: int
    kind: str
    media: str
    rows: int
    truncated: bool
    body: bytes


class AnswerCache:
    """A bounded LRU of whole answers; thread-safe."""

    def __init__(self, max_bytes: int, max_entry: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_entry = max_entry if max_entry is not None else max(1, max_bytes // 16)
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, generation: int) -> Answer | None:
        """The kept answer for ``key`` if the data has not changed since."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.generation != generation:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        return Answer(entry.kind, entry.media, entry.rows, entry.truncated, iter([entry.body]))

    def keep(self, key: Hashable, generation: int, answer: Answer) -> Answer:
        """``answer`` itself, recording its body as it streams; kept once read to the end."""
        return Answer(
            answer.kind,
            answer.media,
            answer.rows,
            answer.truncated,
            _Recording(self, key, generation, answer),
        )

    def _put(self, key: Hashable, entry: _Entry) -> None:
        size = len(entry.body)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old.body)
            self._entries[key] = entry
            self._size += size
            while self._size > self.max_bytes and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped.body)

    def clear(self) -> None:
        """Forget every answer (called after each write)."""
        with self._lock:
            self._entries.clear()
            self._size = 0

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._size


class _Recording:
    """The chunks of an answer, passed on and recorded; ``close`` passes on too (a WSGI
    server calls it when the client goes away)."""

    def __init__(self, cache: AnswerCache, key: Hashable, generation: int, answer: Answer):
        self._cache, self._key, self._generation = cache, key, generation
        self._answer = answer
        self._chunks: Iterator[bytes] = iter(answer.chunks)
        self._parts: list[bytes] | None = []
        self._length = 0

    def __iter__(self) -> _Recording:
        return self

    def __next__(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            if self._parts is not None:
                a = self._answer
                body = b"".join(self._parts)
                self._parts = None
                entry = _Entry(self._generation, a.kind, a.media, a.rows, a.truncated, body)
                self._cache._put(self._key, entry)
            raise
        if self._parts is not None:
            self._length += len(chunk)
            if self._length > self._cache.max_entry:
                self._parts = None  # too big to keep: just pass it on
            else:
                self._parts.append(chunk)
        return chunk

    def close(self) -> None:
        self._parts = None
        close = getattr(self._answer.chunks, "close", None)
        if close is not None:
            close()
