"""Run the app under gunicorn: one worker process (the embedded store allows one writer
process) with threads, which really run queries in parallel (pyoxigraph releases the GIL).

Overload is shed, not queued: at most ``threads`` requests are answered at once, and one
more gets 503 with Retry-After at once (``InflightLimit``). gunicorn runs a few threads
more than that so that the refusal, ``/healthz`` and ``/metrics`` never wait behind the
requests being answered; without them an extra request would wait in gunicorn's queue
until a client's timeout cut its connection."""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import NoMoreData, ParseException
from werkzeug.exceptions import BadRequest

from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.catalogue.store import StoreLockedError, locked_message

from . import create_app, reading
from .errors import PLAIN_TEXT_PREFIXES
from .front import Front
from .lean import LeanAnswers

SPARE_THREADS = 4  # gunicorn threads beyond the limit: they only refuse or answer health
ALWAYS_ANSWERED = ("/healthz", "/metrics")  # monitoring must see an overloaded server
RETRY_AFTER = "2"


class InflightLimit:
    """WSGI middleware: at most ``limit`` requests are answered at once; a request beyond
    that is answered 503 with Retry-After straight away. A slot is held until the
    response's body is closed (answers stream), and ``/healthz`` and ``/metrics`` never
    take one."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], limit: int, on_shed: Callable[[str], Any]
    ) -> None:
        self.app = app
        self.limit = limit
        self.on_shed = on_shed
        self._slots = threading.BoundedSemaphore(limit)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "") in ALWAYS_ANSWERED:
            return self.app(environ, start_response)
        if not self._slots.acquire(blocking=False):
            return self._shed(environ, start_response)
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self._slots.release()
            raise
        return _Releasing(body, self._slots.release)

    def _shed(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        self.on_shed(method)
        detail = f"the server is answering {self.limit} requests already; try again shortly"
        if environ.get("PATH_INFO", "").startswith(PLAIN_TEXT_PREFIXES):
            media, text = "text/plain; charset=utf-8", f"Overloaded: {detail}\n".encode()
        else:
            media = "application/json"
            text = json.dumps({"error": "Overloaded", "detail": detail}).encode()
        headers = [
            ("Content-Type", media),
            ("Content-Length", str(len(text))),
            ("Retry-After", RETRY_AFTER),
        ]
        start_response("503 Service Unavailable", headers)
        return [] if method == "HEAD" else [text]


class _Releasing:
    """A response body that gives its slot back, once, when the server closes it."""

    def __init__(self, body: Iterable[bytes], release: Callable[[], None]) -> None:
        self._body = body
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class FramedBody:
    """WSGI middleware: a request body whose framing is broken (a bad chunk size, a
    missing terminator, a body cut short) is a 400 naming the fault. gunicorn finds such
    faults only while the application reads the body, where they used to become a 500."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "wsgi.input" in environ:
            environ["wsgi.input"] = _Input(environ["wsgi.input"])
        return self.app(environ, start_response)


class _Input:
    """``wsgi.input`` with gunicorn's framing errors turned into BadRequest."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def _guard(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except (ParseException, NoMoreData) as exc:
            raise BadRequest(f"the request body is malformed: {exc}") from None

    def read(self, size: int | None = None) -> bytes:
        return self._guard(self._inner.read, size)

    def readline(self, size: int | None = None) -> bytes:
        return self._guard(self._inner.readline, size)

    def readlines(self, hint: int | None = None) -> list[bytes]:
        return self._guard(self._inner.readlines, hint)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def _count_shed(app: Any) -> Callable[[str], None]:
    """Count a shed request in the application's metrics."""
    registry = app.extensions.get("eti.metrics")

    def count(method: str) -> None:
        if registry is not None:
            registry.request_done("(shed)", method, 503)
            registry.reject("overloaded")

    return count


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, demo_if_empty: bool) -> None:
        self.settings = settings
        self.demo_if_empty = demo_if_empty
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        self.cfg.set("bind", f"{s.host}:{s.port}")
        self.cfg.set("workers", 1)
        # gthread, but each request read whole before a thread takes it (slow clients)
        reading.LIMITS = reading.Limits(s.header_timeout, s.body_min_rate, s.max_body)
        self.cfg.set("worker_class", "eti.server.reading.BufferingWorker")
        self.cfg.set("threads", s.threads + SPARE_THREADS)  # see InflightLimit
        self.cfg.set("worker_connections", max(s.max_connections, s.threads + SPARE_THREADS + 1))
        self.cfg.set("timeout", max(60, int(s.query_timeout * 2)))
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("accesslog", None)
        self.cfg.set("limit_request_line", 8190)  # gunicorn's ceiling; longer lines: 414
        self.cfg.set("when_ready", _ready(s))
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25: no ~/.gunicorn/
            self.cfg.set("control_socket_disable", True)

    def load(self):  # type: ignore[no-untyped-def]
        app, catalogue = build(self.settings, self.demo_if_empty)
        inner = InflightLimit(app, self.settings.threads, _count_shed(app))
        return FramedBody(lean_path(inner, app, catalogue, self.settings))


def build(settings: Settings, demo_if_empty: bool) -> tuple[Flask, Catalogue]:
    """Open the catalogue and make the Flask app (in the worker process: see
    ``check_not_held``)."""
    catalogue = Catalogue(settings)
    done = catalogue.prepare(demo_if_empty=demo_if_empty)
    if done.get("products"):
        click.echo(
            f"loaded the demo catalogue: {done['products']} products, "
            f"{done['agreements']} agreements",
            err=True,
        )
    return create_app(settings, catalogue), catalogue


def lean_path(
    inner: Callable[..., Iterable[bytes]], app: Flask, catalogue: Catalogue, settings: Settings
) -> LeanAnswers:
    """``inner`` behind the lean path for repeated anonymous queries (``lean``), which
    answers before the overload limit: a kept answer costs no thread and no slot."""
    budget = settings.answer_cache * 1024 * 1024 // 4
    return LeanAnswers(inner, catalogue, app.extensions["eti.metrics"], budget)


_GRANIAN: tuple[Settings, bool] | None = None  # set by run(), read in granian's worker


def granian_app() -> Front:
    """granian's factory, called in its worker process: the RSGI front (``front``) on the
    same WSGI stack as gunicorn's, but the body read on the event loop."""
    assert _GRANIAN is not None, "granian_app is started by run()"
    settings, demo_if_empty = _GRANIAN
    app, catalogue = build(settings, demo_if_empty)
    lean = lean_path(
        InflightLimit(app, settings.threads, _count_shed(app)), app, catalogue, settings
    )
    limits = reading.Limits(settings.header_timeout, settings.body_min_rate, settings.max_body)
    _end_with_master(catalogue)
    _ready(settings)(None)
    return Front(lean, lean, limits, settings.threads + SPARE_THREADS)


def _end_with_master(catalogue: Catalogue, every: float = 0.5) -> None:
    """End this worker when granian's master is gone (killed with SIGKILL): otherwise the
    orphan would keep the port and the store's lock, and a restart would find the store
    held. gunicorn's workers do the same by themselves."""
    master = os.getppid()

    def watch() -> None:
        while os.getppid() == master:
            time.sleep(every)
        try:
            catalogue.close()  # the query workers and the store
        finally:
            os._exit(1)

    threading.Thread(target=watch, name="eti-master-watch", daemon=True).start()


def _run_granian(settings: Settings, demo_if_empty: bool) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    global _GRANIAN
    _GRANIAN = (settings, demo_if_empty)
    # granian's limit on reading a head is in milliseconds, at most 60 s
    head_ms = max(1, min(60_000, int(settings.header_timeout * 1000)))
    Granian(
        "eti.server.wsgi:granian_app",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.RSGI,
        factory=True,
        workers=1,
        http=HTTPModes.http1,
        websockets=False,
        backpressure=settings.max_connections,
        http1_settings=HTTP1Settings(header_read_timeout=head_ms),
        log_level=LogLevels.warning,
        respawn_failed_workers=True,
    ).serve()


def run(settings: Settings, *, demo_if_empty: bool = False) -> None:
    """Serve until stopped; print the URLs to open once the port is bound.

    An embedded data folder held by another process is found here, before gunicorn
    starts, so it is a one-line message and exit code 2 (``guarded``), not a worker's
    traceback and gunicorn's exit code 3."""
    if not settings.store_url:
        check_not_held(Path(settings.store))
    sys.argv = sys.argv[:1]
    if settings.server == "granian":
        _run_granian(settings, demo_if_empty)
    else:
        _Gunicorn(settings, demo_if_empty).run()


def check_not_held(folder: Path) -> None:
    """Raise StoreLockedError when another process holds the data folder's lock.

    Probed with the lock file itself, not by opening the store: RocksDB would start its
    background threads in this (master) process, and the worker gunicorn forks from it
    would inherit a thread pool without threads, so its first flush would wait forever."""
    lock = folder / "LOCK"
    if not lock.exists():
        return
    with lock.open("rb+") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StoreLockedError(locked_message(folder)) from None
        fcntl.lockf(handle, fcntl.LOCK_UN)


def _ready(settings: Settings) -> Callable[[Any], None]:
    def when_ready(server: Any) -> None:  # gunicorn's hook: the port is bound
        base = f"http://{settings.host}:{settings.port}"
        click.echo(
            f"ETI catalogue on {base}  (store: {settings.store_url or settings.store})\n"
            f"  catalogue      {base}/\n"
            f"  SPARQL         {base}/sparql\n"
            f"  ontology       {base}/ontology\n"
            f"  health         {base}/healthz",
            err=True,
        )

    return when_ready
