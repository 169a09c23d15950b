"""A gunicorn worker that reads each request whole before a thread answers it.

gunicorn's threaded worker hands a connection to a thread as soon as its socket is
readable, and the thread then blocks in the HTTP parser until the request's head (and
later its body) has arrived. A dozen clients that send half a head and stop hold every
thread, health checks included, for as long as they like (slowloris). Here the poller
thread reads requests without blocking, into a buffer per connection, and a thread gets
the connection only when its head and body are complete: a thread never waits on a
client. A client has ``header_timeout`` seconds to send the head; after that its body
must arrive at ``body_min_rate`` bytes a second at least (counted from the head, with
the same grace); slower connections get 408 and are closed. Idle, half-sent and
slowly-sent requests cost a socket and a buffer, and the worker keeps up to
``max_connections`` of them.
"""

from __future__ import annotations

import errno
import selectors
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gunicorn import http
from gunicorn.workers.gthread import TConn, ThreadWorker

HEAD_LIMIT = 64 * 1024  # a head longer than this goes to gunicorn's parser, which refuses it
TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 52\r\n\r\nRequest Timeout: the request was not sent in time.\r\n"
)


@dataclass
class Limits:
    """How long a client may take to send a request (set by ``eti serve`` before gunicorn
    forks the worker)."""

    header_timeout: float = 10.0
    body_min_rate: float = 10240.0
    max_body: int = 10 * 1024 * 1024


LIMITS = Limits()


@dataclass
class _Reading:
    """A request being read: its bytes so far and when it started."""

    started: float
    data: bytearray = field(default_factory=bytearray)
    head_done: float | None = None  # when the head was complete
    head_size: int = 0


def request_complete(data: bytes | bytearray, max_body: int) -> tuple[bool, int]:
    """Whether ``data`` holds a whole request for the parser (``True``), and the size of
    its head (0 while the head is incomplete).

    Whole means: the head, and the body its framing announces (Content-Length, or chunks
    up to the last one and its trailers). A request the parser will refuse anyway
    (an oversized head, a bad length, a body over ``max_body``) counts as whole, so
    that the refusal comes at once."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return len(data) > HEAD_LIMIT, 0
    head_size = end + 4
    length, chunked = _framing(bytes(data[:end]))
    body = len(data) - head_size
    if chunked:
        return body > max_body or _chunks_complete(data, head_size), head_size
    if length is None:
        return True, head_size
    return length > max_body or body >= length, head_size


def _framing(head: bytes) -> tuple[int | None, bool]:
    """(Content-Length, chunked) of a request head; a bad value counts as no body (the
    parser refuses it)."""
    length: int | None = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None, False
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return length, chunked


def _chunks_complete(data: bytes | bytearray, at: int) -> bool:
    """Whether the chunked body starting at ``at`` has its last chunk and trailers (a
    malformed chunk size counts as complete: the parser refuses it)."""
    while True:
        eol = data.find(b"\r\n", at)
        if eol < 0:
            return False
        size_text = bytes(data[at:eol]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return True
        if size == 0:
            return data.find(b"\r\n\r\n", eol) >= 0  # the trailers' blank line
        at = eol + 2 + size + 2
        if at > len(data):
            return False


class BufferingWorker(ThreadWorker):
    """gunicorn's threaded worker with requests read whole by the poller (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = LIMITS
        self.reading: dict[Any, _Reading] = {}

    def accept(self, listener: Any) -> None:
        """Accept a connection and start reading its first request in the poller."""
        try:
            sock, client = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._read(TConn(self.cfg, sock, client, listener.getsockname()))

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        """A kept-alive connection sends its next request: read it in the poller too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        """A request was answered: bytes of the next one that the client sent along
        (pipelined) are read on in the poller too, not parsed by a thread that would
        wait for the rest."""
        parser = conn.parser
        kept = not fs.cancelled() and fs.exception() is None and fs.result() is True
        if kept and self.alive and parser is not None and parser.unreader.buf.getvalue():
            self._read(conn, parser.unreader.take_buffered())
            return
        super().finish_request(conn, fs)

    def _read(self, conn: Any, start: bytes = b"") -> None:
        conn.sock.setblocking(False)
        state = self.reading[conn] = _Reading(time.monotonic(), bytearray(start))
        if start and self._whole(state):
            self._hand_over(conn, state)
            return
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._readable, conn))

    def _readable(self, conn: Any, _sock: Any) -> None:
        state = self.reading[conn]
        try:
            data = conn.sock.recv(256 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client stopped sending before its request was whole
            if state.data:  # the parser answers what it can (a body cut short: 400)
                self.poller.unregister(conn.sock)
                self._hand_over(conn, state)
            else:
                self._drop(conn)
            return
        state.data += data
        if self._whole(state):
            self.poller.unregister(conn.sock)
            self._hand_over(conn, state)

    def _whole(self, state: _Reading) -> bool:
        whole, head_size = request_complete(state.data, self.limits.max_body)
        if head_size and state.head_done is None:
            state.head_done, state.head_size = time.monotonic(), head_size
        return whole

    def _hand_over(self, conn: Any, state: _Reading) -> None:
        """Give the whole request to a thread: the parser reads it from the buffer."""
        del self.reading[conn]
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(state.data))
        conn.initialized = conn.data_ready = True
        conn.sock.setblocking(True)
        self.enqueue_req(conn)

    def _drop(self, conn: Any, answer: bytes = b"") -> None:
        del self.reading[conn]
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        if answer:
            try:
                conn.sock.send(answer)
            except OSError:
                pass
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Besides gunicorn's own sweep: close the connections whose request is late
        (head after ``header_timeout``; body slower than ``body_min_rate``)."""
        super().murder_pending()
        now = time.monotonic()
        for conn, state in list(self.reading.items()):
            if self._late(state, now):
                self._drop(conn, TIMED_OUT)

    def _late(self, state: _Reading, now: float) -> bool:
        if state.head_done is None:
            return now - state.started > self.limits.header_timeout
        body = len(state.data) - state.head_size
        grace = self.limits.header_timeout
        allowed = (now - state.head_done - grace) * self.limits.body_min_rate
        return body < allowed
