"""Validation of what anyone sends, bounded in time and memory.

SHACL validation's cost is not linear in its input: some 130 KB of overlapping
agreements ran for minutes and grew to gigabytes. Run in the server's process it also
held the validation lock (see ``validation``) that the product pages take, so every
page waited on it. The validators open to callers (``/api/validate``, the ``/validate``
page) therefore validate in a worker process of their own: its address space is
limited (``validate_memory`` MiB, RLIMIT_AS), it is killed at ``validate_timeout``
seconds and replaced, and the server's lock is never taken for such input.
"""

from __future__ import annotations

import datetime as dt
import queue
import resource
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from . import clock
from .executor import Worker, WorkerPool

STARTUP = 60.0  # seconds a new worker may take to load pySHACL and the shapes


class ValidationTooCostly(RuntimeError):
    """The input took more time or memory to validate than the limits allow."""


class ValidationBusy(RuntimeError):
    """Every validation worker stayed busy; the caller should retry later."""


def _worker_main(conn: Connection, memory: int, moved: clock.Clock | None) -> None:
    """A validation worker: validates the (graph, profiles, as_of) it receives."""
    if moved is not None:
        clock.use(moved)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from .validation import shapes_graph, validate

    shapes_graph()  # load the shapes before the first request
    conn.send(("ready", None))
    while True:
        try:
            graph, profiles, as_of, context, standalone = conn.recv()
        except EOFError:
            return
        try:
            report = validate(graph, profiles, as_of=as_of, context=context, standalone=standalone)
            conn.send(("ok", report))
        except MemoryError:
            conn.send(("memory", None))
            return  # the heap may be in any state: a fresh worker takes over
        except (ValueError, TypeError) as exc:
            conn.send(("error", str(exc)))


class _Worker(Worker):
    """A validation worker; ``ready`` once it has loaded the shapes."""

    ready = False

    def wait_ready(self, within: float) -> bool:
        """Wait until the worker has loaded the shapes (its start-up is not the input's
        cost, so it does not count against the time limit)."""
        if not self.ready and self.conn.poll(within):
            self.ready = self.conn.recv()[0] == "ready"
        return self.ready


class BoundedValidator(WorkerPool):
    """Worker processes that validate within a time and a memory limit."""

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        memory_mib: int = 1024,
        workers: int = 1,
        queue_wait: float = 5.0,
    ) -> None:
        self.timeout = timeout
        self.memory_mib = memory_mib
        self.queue_wait = queue_wait
        super().__init__(max(1, workers), queue.Queue())

    def _new(self) -> _Worker:
        return _Worker(self._ctx, _worker_main, self.memory_mib * 1024 * 1024, clock.current())

    def validate(
        self,
        graph: Any,
        profiles: Sequence[str] | None,
        *,
        as_of: dt.date | str | None = None,
        context: Any = None,
        standalone: bool = False,
    ) -> Any:
        """The ``validation.Report`` of ``graph``; raises ValidationTooCostly (past the
        time or memory limit), ValidationBusy, or ValueError (a bad profile or date)."""
        try:
            worker = self._idle.get(timeout=self.queue_wait)
        except queue.Empty:
            raise ValidationBusy("every validation worker is busy; try again shortly") from None
        try:
            if not worker.wait_ready(STARTUP):
                raise ValidationBusy("the validation worker did not start; try again shortly")
            deadline = time.monotonic() + self.timeout
            profiles = list(profiles) if profiles else None
            worker.conn.send((graph, profiles, as_of, context, standalone))
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                raise ValidationTooCostly(
                    f"validating the input took longer than {self.timeout:g} s "
                    "(validate_timeout); send less data, or validate it with 'eti validate'"
                )
            tag, payload = worker.conn.recv()
        except EOFError:
            self._replace_later(worker)
            raise self._too_big() from None
        except BaseException:
            self._replace_later(worker)
            raise
        if tag == "memory":
            self._replace_later(worker)
            raise self._too_big()
        self._idle.put(worker)
        if tag == "error":
            raise ValueError(payload)
        return payload

    def _too_big(self) -> ValidationTooCostly:
        return ValidationTooCostly(
            f"validating the input needed more than {self.memory_mib} MiB (validate_memory); "
            "send less data, or validate it with 'eti validate'"
        )
