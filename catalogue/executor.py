"""Running read queries so that a timeout really stops the work.

``Store.query`` has no timeout and a blocking operator (an aggregate over a cross
product, an ORDER BY) runs inside the engine without a way to interrupt it. So the
embedded store's queries run in worker processes, each with a read-only handle
of the data folder; at the deadline the worker is killed (the CPU is free at once)
and replaced. Writes stay in the server process, which flushes after every write
and bumps a generation number; a worker reopens its handle (≈25 ms after a flush)
when the generation moved, so a read that follows an acknowledged write sees it,
and a handle always shows whole transactions.

Each worker reads up to ``max_rows + 1`` rows before writing a byte, so the answer's
status and its truncation are known before the body starts: a timeout is a clean
error, never a 200 with a half-written body.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from . import clock, netless
from .results import GRAPH_MEDIA, SOLUTION_MEDIA, write_boolean, write_graph, write_solutions
from .store import GraphRefused, StoreError, StoreTimeout, graph_terms

CHUNK = 64 * 1024
REOPEN_ATTEMPTS = 5


class QueryTimeout(RuntimeError):
    """The query ran past its time limit and was stopped."""


class Overloaded(RuntimeError):
    """No worker became free in time; the caller should retry later."""


class QueryFailed(RuntimeError):
    """The engine refused the query; ``kind`` is 'syntax', 'query', 'refused' (the
    store would not send it: ``GraphRefused``) or 'store'."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Job:
    """One query to answer."""

    query: str
    default_graph: Sequence[str] | None = None
    named_graphs: Sequence[str] | None = None
    union: bool = False
    solutions_media: str = "application/sparql-results+json"
    graph_media: str = "text/turtle"
    max_rows: int = 10_000
    prefixes: dict[str, str] = field(default_factory=dict)


@dataclass
class Answer:
    """The head of an answer (known before the body) and its body chunks."""

    kind: str  # "boolean", "solutions" or "graph"
    media: str
    rows: int
    truncated: bool
    chunks: Iterator[bytes]


# --- the part that runs the query (in a worker process, or in this process) ---------------


class _Sink(io.RawIOBase):
    """A writer that hands out chunks of about CHUNK bytes."""

    def __init__(self, emit: Any) -> None:
        self._buffer = bytearray()
        self._emit = emit

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._emit(bytes(self._buffer))
            self._buffer.clear()


def execute(store: ox.Store, job: Job, emit_head: Any, emit_chunk: Any) -> None:
    """Run ``job`` on ``store``: emit_head(kind, media, rows, truncated), then chunks."""
    kwargs: dict[str, Any] = {}
    if job.default_graph is not None:
        kwargs["default_graph"] = graph_terms(job.default_graph)
    elif job.union:
        kwargs["use_default_graph_as_union"] = True
    if job.named_graphs is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs if g]
    if isinstance(store, ox.Store):
        kwargs["custom_functions"] = _functions()
    result = store.query(job.query, **kwargs)
    limit = job.max_rows if job.max_rows > 0 else None
    sink = _Sink(emit_chunk)
    if isinstance(result, ox.QueryBoolean):
        emit_head("boolean", job.solutions_media, 1, False)
        write_boolean(bool(result), SOLUTION_MEDIA[job.solutions_media], sink)
    elif isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows, truncated, rest = _window(result, limit)
        emit_head("solutions", job.solutions_media, len(rows), truncated)
        write_solutions(
            variables, _chain(rows, rest), SOLUTION_MEDIA[job.solutions_media], sink, truncated
        )
    else:
        rows, truncated, rest = _window(result, limit)
        emit_head("graph", job.graph_media, len(rows), truncated)
        write_graph(_chain(rows, rest), GRAPH_MEDIA[job.graph_media], sink, job.prefixes or None)
    sink.flush()


def _functions() -> dict[ox.NamedNode, Any]:
    """The catalogue's SPARQL extension functions (eti:textMatch, eti:textScore,
    eti:today)."""
    from .search import sparql_functions

    return sparql_functions()


def _window(result: Iterator[Any], limit: int | None) -> tuple[list[Any], bool, Iterator[Any]]:
    """Up to ``limit`` items read ahead, whether more exist, and the rest (unlimited only)."""
    if limit is None:
        return [], False, result
    rows = []
    for item in result:
        if len(rows) == limit:
            return rows, True, iter(())
        rows.append(item)
    return rows, False, iter(())


def _chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


def _is_storage_error(exc: Exception) -> bool:
    """True for a failure of the store (a read-only handle meeting a compacted file),
    as opposed to the query's own (an unknown function, a type error)."""
    text = str(exc)
    return isinstance(exc, OSError) or "IO error" in text or "Corruption" in text


def _worker_main(
    conn: Connection, path: str, moved: clock.Clock | None = None, offline: bool = False
) -> None:
    """A query worker: answers jobs on ``conn`` from a read-only handle of ``path``, on
    the server's clock (``moved``: the same moved clock, offset included); ``offline``:
    cut off the network first (no SERVICE is allowed, see ``netless``).

    A read-only handle can meet a file that the writer's compaction has just removed;
    then the handle is reopened and the job tried again, as long as nothing was sent.
    """
    if moved is not None:
        clock.use(moved)
    if offline:
        netless.cut_network()
    store: ox.Store | None = None
    opened = -1
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        generation, job = message
        sent = False

        def head(*values: Any) -> None:
            nonlocal sent
            sent = True
            conn.send(("head", values))

        for attempt in range(REOPEN_ATTEMPTS):
            try:
                if store is None or generation != opened:
                    store = None
                    store = ox.Store.read_only(path)
                    opened = generation
                execute(store, job, head, lambda chunk: conn.send(("data", chunk)))
                conn.send(("end", None))
                break
            except SyntaxError as exc:
                conn.send(("error", ("syntax", str(exc))))
                break
            except Exception as exc:
                if not _is_storage_error(exc):  # e.g. an unsupported function: the query's
                    conn.send(("error", ("query", str(exc))))
                    break
                store, opened = None, -1
                if sent or attempt == REOPEN_ATTEMPTS - 1:
                    conn.send(("error", ("store", f"{type(exc).__name__}: {exc}")))
                    break
                time.sleep(0.01 * (attempt + 1))


# --- the pool ----------------------------------------------------------------------------


class Worker:
    """A child process (``target(conn, *args)``) joined to this one by a pipe."""

    def __init__(self, ctx: Any, target: Any, *args: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(child, *args), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


class WorkerPool:
    """Worker processes of one kind (``_new``), the idle ones in a queue; one that ran
    late or failed is killed and replaced (in the background: a new one starts slowly).

    Workers start from a fresh interpreter (``spawn``), never forked from the server's
    threads. A pool may name modules to ``preload``: its workers are then forked from a
    fork server that imported them once (a clean single-threaded process, started fresh
    as ``spawn`` does), instead of each importing them anew."""

    preload: tuple[str, ...] = ()

    def __init__(self, size: int, idle: queue.Queue[Any]) -> None:
        if self.preload:
            self._ctx = mp.get_context("forkserver")
            self._ctx.set_forkserver_preload(list(self.preload))
        else:
            self._ctx = mp.get_context("spawn")
        self._idle = idle
        self._closed = False
        for _ in range(size):
            self._idle.put(self._new())

    def _new(self) -> Any:
        raise NotImplementedError

    def _replace(self, worker: Worker) -> None:
        worker.kill()
        if not self._closed:
            self._idle.put(self._new())

    def _replace_later(self, worker: Worker) -> None:
        threading.Thread(target=self._replace, args=(worker,), daemon=True).start()

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                return


class QueryPool(WorkerPool):
    """Worker processes answering read queries over an on-disk store. A worker is
    replaced after every timeout and every answer its client left: forked from a fork
    server that holds this module, a replacement answers in milliseconds, where a
    spawned one spent about half a second importing the application."""

    preload = (__name__, f"{__package__}.search")  # search: the extension functions

    def __init__(
        self,
        path: str,
        *,
        workers: int = 2,
        timeout: float = 30.0,
        queue_wait: float = 10.0,
        offline: bool = False,
    ) -> None:
        self.path = path
        self.offline = offline  # workers without network (no SERVICE allowed)
        self.size = max(1, workers)
        self.timeout = timeout
        self.queue_wait = queue_wait
        self.generation = 0
        self._lock = threading.Lock()
        self.timeouts = 0
        super().__init__(self.size, queue.LifoQueue())

    def _new(self) -> Worker:
        return Worker(self._ctx, _worker_main, self.path, clock.current(), self.offline)

    def written(self) -> None:
        """Tell the workers a write was flushed: their next query reopens the store."""
        with self._lock:
            self.generation += 1

    def run(self, job: Job, timeout: float | None = None) -> Answer:
        """Answer ``job``; raises QueryTimeout, Overloaded or QueryFailed."""
        limit = timeout if timeout is not None else self.timeout
        deadline = time.monotonic() + limit
        try:
            worker = self._idle.get(timeout=self.queue_wait)
        except queue.Empty:
            raise Overloaded("every query worker is busy") from None
        try:
            worker.conn.send((self.generation, job))
            tag, payload = self._receive(worker, deadline, limit)
        except BaseException:
            self._replace_later(worker)
            raise
        if tag == "error":
            self._idle.put(worker)
            raise QueryFailed(*payload)
        kind, media, rows, truncated = payload
        return Answer(kind, media, rows, truncated, _Stream(self, worker, deadline, limit))

    def _receive(self, worker: Worker, deadline: float, limit: float) -> tuple[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not worker.conn.poll(remaining):
            self.timeouts += 1
            raise QueryTimeout(f"the query ran longer than {limit:g} s and was stopped")
        try:
            return worker.conn.recv()
        except EOFError:
            raise QueryFailed("store", "the query worker stopped unexpectedly") from None

    def _release(self, worker: Worker, done: bool) -> None:
        if done:
            self._idle.put(worker)
        else:  # timed out, failed, or the client went away: stop the work now
            self._replace_later(worker)


class _Stream:
    """The body chunks of an answer from a worker. The worker goes back to the pool when
    the body is read to its end, and is replaced when ``close()`` comes first (a client
    that went away, a HEAD request, an error) — also if the body was never started."""

    def __init__(self, pool: QueryPool, worker: Worker, deadline: float, limit: float) -> None:
        self._pool, self._worker, self._deadline, self._limit = pool, worker, deadline, limit
        self._released = False

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> bytes:
        if self._released:
            raise StopIteration
        try:
            tag, payload = self._pool._receive(self._worker, self._deadline, self._limit)
        except BaseException:
            self._release(False)
            raise
        if tag == "data":
            return payload
        if tag == "end":
            self._release(True)
            raise StopIteration
        self._release(False)
        raise QueryFailed(*payload)

    def _release(self, done: bool) -> None:
        if not self._released:
            self._released = True
            self._pool._release(self._worker, done)

    def close(self) -> None:
        """Give up the rest of the body (WSGI servers call this when they are done)."""
        self._release(False)


class InlineRunner:
    """Answers jobs in this process (remote stores, in-memory stores, tests): the time
    limit is checked between rows only."""

    def __init__(self, query: Any, timeout: float = 30.0) -> None:
        self._query = query
        self.timeout = timeout
        self.generation = 0
        self.timeouts = 0

    def written(self) -> None:
        self.generation += 1

    def run(self, job: Job, timeout: float | None = None) -> Answer:
        limit = timeout if timeout is not None else self.timeout
        deadline = time.monotonic() + limit
        chunks: list[bytes] = []
        head: list[Any] = []
        try:
            execute(_QueryOnly(self._query), job, lambda *h: head.extend(h), chunks.append)
        except StoreTimeout:
            self.timeouts += 1
            raise QueryTimeout(f"the query ran longer than {limit:g} s") from None
        except StoreError as exc:  # the store, not the query: 503, not 400
            raise QueryFailed("store", str(exc)) from None
        except GraphRefused as exc:
            raise QueryFailed("refused", str(exc)) from None
        except (SyntaxError, ValueError) as exc:
            raise QueryFailed("syntax", str(exc)) from None
        except RuntimeError as exc:
            raise QueryFailed("query", str(exc)) from None
        if time.monotonic() > deadline:
            self.timeouts += 1
            raise QueryTimeout(f"the query ran longer than {limit:g} s")
        kind, media, rows, truncated = head
        return Answer(kind, media, rows, truncated, iter(chunks))

    def close(self) -> None:
        pass


class _QueryOnly:
    """Adapts a ``Store.query``-like callable to the ``execute`` interface."""

    def __init__(self, query: Any) -> None:
        self._query = query

    def query(self, sparql: str, **kwargs: Any) -> Any:
        graphs = kwargs.get("default_graph")
        named = kwargs.get("named_graphs")
        return self._query(
            sparql,
            default_graph=[getattr(g, "value", "") for g in graphs] if graphs is not None else None,
            named_graphs=[g.value for g in named] if named is not None else None,
            union=kwargs.get("use_default_graph_as_union", False),
            functions=True,
        )


def default_workers() -> int:
    """One query worker per core, at least two."""
    return max(2, os.cpu_count() or 2)
