"""A lean path for repeated anonymous SPARQL queries: the whole HTTP answer Flask gave,
kept until the next write and sent again without the request machinery.

Channels send the same few query URLs again and again. Flask's request (routing, the
hooks, content negotiation, the view's access check, conditional headers) costs far more
than the answer, which the answer cache already holds. This middleware keeps the status,
headers and body of such an answer under everything that can change it: the query
string (and the body of a direct POST), every request header that may matter (all of
them but a few that never change an answer), the store's generation (read *before* the
first answer was made, as the answer cache does) and the catalogue's day. A later
identical request is answered from here, still counted in the metrics and logged. Only
what the answer cache would keep is kept here: anonymous requests (no ``Authorization``,
no cookie), ``GET /sparql?query=`` or a direct ``POST /sparql``
(``application/sparql-query``), a 200 of the query route (it carries
``Vary``), no agreement duties, a text that is neither volatile (``NOW()``,
``RAND()``…) nor federated, and only on the embedded store.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from eti.catalogue import clock, sparqlguard
from eti.catalogue.core import Catalogue
from eti.catalogue.store import OxigraphStore

from .metrics import Metrics

log = logging.getLogger("eti.server")

PATH = "/sparql"
ROUTE = "/sparql"  # the metrics' route label, as Flask's rule names it
# Request headers that never change an answer; every other header is part of the key.
IGNORED = frozenset(
    {
        "user-agent",
        "connection",
        "keep-alive",
        "accept-encoding",
        "x-request-id",
        "referer",
        "dnt",
        "upgrade-insecure-requests",
        "te",
    }
)
PRIVATE = frozenset({"authorization", "cookie"})  # a caller's view: never the lean path
MAX_ENTRY = 256 * 1024
MAX_QUERY_BODY = 64 * 1024  # a longer direct POST is never looked up
DIRECT = "application/sparql-query"


@dataclass(frozen=True)
class Kept:
    """One whole answer: the status line, headers without ``X-Request-Id``, the body."""

    generation: int
    day: object
    method: str
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    form: str
    query_hash: str


def request_key(
    query_string: str, headers: Iterable[tuple[str, str]], body: bytes | None = None
) -> tuple | None:
    """The key of an anonymous ``GET /sparql?query=`` or, with ``body``, a direct POST
    (lower-case header names), or None when the request is not one for the lean path."""
    if body is None and "query=" not in query_string:
        return None
    kept = []
    for name, value in headers:
        if name in PRIVATE:
            return None
        if name not in IGNORED:
            kept.append((name, value))
    kept.sort()
    return (query_string, tuple(kept), body)


def is_direct_post(method: str, content_type: str | None) -> bool:
    """Whether a request is a direct POST of a query (its body is the text)."""
    return method == "POST" and (content_type or "").split(";")[0].strip().lower() == DIRECT


def environ_headers(environ: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A WSGI request's headers as (lower-case name, value)."""
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            yield name[5:].replace("_", "-").lower(), value
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            yield name.replace("_", "-").lower(), environ[name]


class LeanAnswers:
    """WSGI middleware over the Flask app: answers a kept request at once, and keeps the
    answers that qualify (see the module). ``answer(key, request_id)`` is the same lookup
    for a front that has no WSGI environ (see ``front``)."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        catalogue: Catalogue,
        metrics: Metrics,
        max_bytes: int,
    ) -> None:
        self.app = app
        self.catalogue = catalogue
        self.metrics = metrics
        self.max_bytes = max_bytes
        # the embedded store only: a remote store's generation is a query to the store
        # (a kept answer would cost one, and a store gone away would fail it here)
        local = isinstance(catalogue.store, OxigraphStore)
        self.enabled = max_bytes > 0 and catalogue.answers is not None and local
        self._kept: OrderedDict[tuple, Kept] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        key = self.key_of(environ)
        if key is None:
            return self.app(environ, start_response)
        request_id = environ.get("HTTP_X_REQUEST_ID") or new_request_id()
        hit = self.answer(key, request_id, environ["REQUEST_METHOD"])
        if hit is not None:
            status, headers, body = hit
            start_response(status, headers)
            return [body]
        generation = self.catalogue.store.generation  # before the answer: see the module
        return self._record(environ, start_response, key, generation)

    def key_of(self, environ: dict[str, Any]) -> tuple | None:
        """The request's key; a direct POST's body is read here (and put back)."""
        if not self.enabled or environ.get("PATH_INFO") != PATH:
            return None
        method = environ.get("REQUEST_METHOD")
        query_string = environ.get("QUERY_STRING", "")
        if method == "GET":
            return request_key(query_string, environ_headers(environ))
        if not is_direct_post(method or "", environ.get("CONTENT_TYPE")):
            return None
        length = environ.get("CONTENT_LENGTH") or ""
        if not length.isdigit() or not 0 < int(length) <= MAX_QUERY_BODY:
            return None
        try:
            body = environ["wsgi.input"].read(int(length))
        except Exception as exc:  # a malformed body: the application answers it (400)
            environ["wsgi.input"] = _Failing(exc)
            return None
        environ["wsgi.input"] = io.BytesIO(body)
        if len(body) != int(length):
            return None
        return request_key(query_string, environ_headers(environ), body)

    def answer(
        self, key: tuple, request_id: str, method: str = "GET"
    ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The kept answer for ``key`` (counted and logged as Flask would), or None."""
        started = time.perf_counter()
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or kept.method != method:
                return None
            if kept.generation != self.catalogue.store.generation or kept.day != clock.today():
                self._drop(key)
                return None
            self._kept.move_to_end(key)
        took = time.perf_counter() - started
        self.metrics.answered_at_once(ROUTE, method, kept.form, took)
        if log.isEnabledFor(logging.INFO):
            log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": method,
                        "path": PATH,
                        "status": 200,
                        "ms": round(took * 1000, 2),
                        "query_hash": kept.query_hash,
                        "form": kept.form,
                        "lean": True,
                    }
                )
            )
        return kept.status, [*kept.headers, ("X-Request-Id", request_id)], kept.body

    def _record(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        key: tuple,
        generation: int,
    ) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, *exc)

        method = environ["REQUEST_METHOD"]
        body = self.app(environ, capture)
        if key[2] is not None:
            text = [key[2].decode("utf-8", "replace")]
        else:
            text = parse_qs(environ.get("QUERY_STRING", "")).get("query", [""])
        return _Recording(
            body, lambda chunks: self._keep(key, generation, method, seen, text, chunks)
        )

    def _keep(
        self,
        key: tuple,
        generation: int,
        method: str,
        seen: dict[str, Any],
        text: list[str],
        chunks: bytes,
    ) -> None:
        """Keep a whole answer that qualifies (see the module)."""
        status = seen.get("status", "")
        names = {name.lower() for name, _ in seen.get("headers", [])}
        if not status.startswith("200 ") or "vary" not in names or len(text) != 1:
            return
        if names & {"set-cookie", "eti-duties"} or len(chunks) > MAX_ENTRY:
            return
        try:
            info = sparqlguard.examine(text[0])
        except ValueError:
            return
        if info.volatile or info.services:
            return
        from .sparql import query_hash

        headers = [(n, v) for n, v in seen["headers"] if n.lower() != "x-request-id"]
        kept = Kept(
            generation,
            clock.today(),
            method,
            status,
            headers,
            chunks,
            info.form or "unknown",
            query_hash(text[0]),
        )
        with self._lock:
            self._drop(key)
            self._kept[key] = kept
            self._size += len(chunks)
            while self._size > self.max_bytes and self._kept:
                self._drop(next(iter(self._kept)))

    def _drop(self, key: tuple) -> None:
        old = self._kept.pop(key, None)
        if old is not None:
            self._size -= len(old.body)


class _Failing:
    """A request body whose reading failed: every read raises that error again."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def read(self, *_: Any) -> bytes:
        raise self.error

    readline = read


class _Recording:
    """A response body passed through, recorded up to ``MAX_ENTRY`` bytes; ``done`` gets
    the bytes once the server has sent it all and closes it."""

    def __init__(self, body: Iterable[bytes], done: Callable[[bytes], None]) -> None:
        self._body = body
        self._done = done
        self._chunks: list[bytes] | None = []
        self._size = 0
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            if self._chunks is not None:
                self._size += len(chunk)
                if self._size > MAX_ENTRY:
                    self._chunks = None
                else:
                    self._chunks.append(chunk)
            yield chunk
        self._finished = True

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()
        if self._finished and self._chunks is not None:
            self._done(b"".join(self._chunks))


def new_request_id() -> str:
    """A request id as the Flask app makes them (16 hex digits)."""
    return os.urandom(8).hex()
