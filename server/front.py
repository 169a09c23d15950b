"""The granian front (``server = "granian"``): granian's Rust HTTP server takes the
connections, and this RSGI application reads each request whole on its event loop before
a thread runs the WSGI (Flask) application on it.

Why RSGI and not granian's own WSGI mode: there a request goes to a Python thread as soon
as its head has arrived, and the thread then waits for the body; fifty clients that send
half a body hold every thread (``/healthz`` included) for as long as they like. Here the
body is awaited on the event loop, which waits on any number of them at once, under the
same rule as the gunicorn front (``reading``): it must arrive at ``body_min_rate`` bytes a
second at least, after ``header_timeout`` seconds of grace, or the client gets 408 and the
connection is closed. Heads are granian's: a head not whole within ``header_timeout`` ends
the connection. A repeated anonymous query is answered from ``lean`` on the event loop
itself, with no thread hop at all.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

from .lean import MAX_QUERY_BODY, LeanAnswers, is_direct_post, new_request_id, request_key
from .reading import Limits
from .sparql import BodyAborted

LINE_LIMIT = 8190  # gunicorn's limit on the request line and on a header line
ANSWER_BUFFER = 64 * 1024 * 1024  # the largest answer the granian front sends
TOO_LONG = (
    f"the answer is larger than {ANSWER_BUFFER // 2**20} MiB, the most the granian front "
    "sends; ask for less (LIMIT, max_rows) or run eti serve with server = gunicorn"
)
TIMED_OUT = b"Request Timeout: the request was not sent in time.\r\n"
TOO_LARGE = b"Payload Too Large: the request body is larger than max_body.\r\n"
_END = object()


def _status(line: str) -> int:
    return int(line[:3])


class Front:
    """RSGI application: the lean path, then the body read on the loop, then ``app`` (WSGI)
    on one of ``threads`` threads."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        lean: LeanAnswers | None,
        limits: Limits,
        threads: int,
    ) -> None:
        self.app = app
        self.lean = lean
        self.limits = limits
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="eti-front")

    async def __call__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        headers = scope.headers
        refused = _malformed(scope)
        if refused is not None:
            status, text = refused
            protocol.response_bytes(status, _plain(text, close=True), text)
            return
        lean = self.lean
        if lean is not None and lean.enabled and scope.method == "GET" and scope.path == "/sparql":
            key = request_key(scope.query_string, headers.items())
            if key is not None:
                hit = lean.answer(key, headers.get("x-request-id") or new_request_id())
                if hit is not None:
                    status, out, body = hit
                    protocol.response_bytes(_status(status), out, body)
                    return
        body, length = b"", None
        if "content-length" in headers or "transfer-encoding" in headers:
            announced = headers.get("content-length", "")
            if announced.isdigit() and int(announced) > self.limits.max_body:
                length = announced  # the app answers 413 before it reads a byte
            else:
                read = await self._read_body(protocol, announced)
                if read is None:
                    return
                body, length = read, str(len(read))
                if lean is not None and self._lean_post(scope, protocol, body):
                    return
        await self._answer(scope, protocol, body, length)

    def _lean_post(self, scope: Any, protocol: Any, body: bytes) -> bool:
        """Answer a repeated direct POST of a query from the lean path, if it is kept."""
        lean, headers = self.lean, scope.headers
        if not (lean.enabled and scope.path == "/sparql" and 0 < len(body) <= MAX_QUERY_BODY):
            return False
        if not is_direct_post(scope.method, headers.get("content-type")):
            return False
        key = request_key(scope.query_string, headers.items(), body)
        if key is None:
            return False
        hit = lean.answer(key, headers.get("x-request-id") or new_request_id(), "POST")
        if hit is None:
            return False
        status, out, answer = hit
        protocol.response_bytes(_status(status), out, answer)
        return True

    async def _read_body(self, protocol: Any, announced: str) -> bytes | None:
        """The whole body, or None after answering 408 (too slow) or 413 (too large).

        A body the rate allows a second for at most (``announced`` length) is awaited
        whole, within the grace and that second; a longer one chunk by chunk, each by the
        time the bytes so far stop being enough."""
        limits = self.limits
        rate = max(limits.body_min_rate, 1e-9)
        started = time.monotonic()
        if announced.isdigit() and int(announced) <= rate:
            try:
                async with asyncio.timeout(limits.header_timeout + int(announced) / rate):
                    return await protocol()
            except TimeoutError:
                return self._refuse(protocol, 408, TIMED_OUT)
        chunks: list[bytes] = []
        size = 0
        stream = protocol.__aiter__()
        while True:
            # late once fewer than (elapsed - grace) * rate bytes have arrived
            deadline = started + limits.header_timeout + size / rate
            try:
                async with asyncio.timeout_at(_loop_time(deadline)):
                    chunk = await _next(stream)
            except TimeoutError:
                return self._refuse(protocol, 408, TIMED_OUT)
            if chunk is _END:
                return b"".join(chunks)
            size += len(chunk)
            if size > limits.max_body:
                return self._refuse(protocol, 413, TOO_LARGE)
            chunks.append(chunk)

    @staticmethod
    def _refuse(protocol: Any, status: int, text: bytes) -> None:
        protocol.response_bytes(status, _plain(text, close=True), text)

    async def _answer(self, scope: Any, protocol: Any, body: bytes, length: str | None) -> None:
        loop = asyncio.get_running_loop()
        environ = _environ(scope, body, length)
        status, headers, whole = await loop.run_in_executor(self.pool, _run, self.app, environ)
        protocol.response_bytes(status, headers, whole)


def _malformed(scope: Any) -> tuple[int, bytes] | None:
    """The refusals gunicorn's parser makes and hyper's does not: a request line longer
    than 8,190 bytes (414), a header longer than that (431), two Host headers (400)."""
    if len(scope.path) + len(scope.query_string) > LINE_LIMIT:
        return 414, b"URI Too Long: the request line is longer than 8190 bytes.\r\n"
    hosts = 0
    for name, value in scope.headers.items():
        if len(value) > LINE_LIMIT:
            return 431, b"Request Header Fields Too Large: a header is longer than 8190 bytes.\r\n"
        if name == "host":
            hosts += 1
    if hosts > 1:
        return 400, b"Bad Request: more than one Host header.\r\n"
    return None


def _loop_time(monotonic: float) -> float:
    """A ``time.monotonic`` instant on the running loop's clock."""
    loop = asyncio.get_running_loop()
    return loop.time() + (monotonic - time.monotonic())


async def _next(stream: Any) -> Any:
    try:
        return await stream.__anext__()
    except StopAsyncIteration:
        return _END


def _plain(text: bytes, *, close: bool = False) -> list[tuple[str, str]]:
    headers = [("content-type", "text/plain; charset=utf-8"), ("content-length", str(len(text)))]
    return [*headers, ("connection", "close")] if close else headers


def _run(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Call the WSGI app in a thread and read its body whole (see the module: an answer
    that stops half-way is a 503, one larger than ``ANSWER_BUFFER`` a 503 too)."""
    seen: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen[:] = [status, headers]
        return lambda data: None  # the legacy write(): unused by Flask

    iterable = app(environ, start_response)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in iterable:
            size += len(chunk)
            if size > ANSWER_BUFFER:
                return _refusal("Answer too large", TOO_LONG)
            chunks.append(chunk)
    except BodyAborted as exc:  # counted and logged where it was raised
        return _refusal("Answer stopped", f"{exc}; nothing of it was sent")
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return _status(seen[0]), seen[1], b"".join(chunks)


def _refusal(error: str, detail: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps({"error": error, "detail": detail}).encode()
    headers = [
        ("content-type", "application/json"),
        ("retry-after", "5"),
        ("content-length", str(len(body))),
    ]
    return 503, headers, body


def _environ(scope: Any, body: bytes, length: str | None) -> dict[str, Any]:
    """The WSGI environ of an RSGI request whose body was read whole (``length``: its
    size, or the announced one of a body too large to read; None: no body)."""
    host, _, port = (scope.authority or scope.headers.get("host") or "localhost").partition(":")
    client, _, client_port = scope.client.rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(scope.path, encoding="latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": host,
        "SERVER_PORT": port or ("443" if scope.scheme == "https" else "80"),
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": client,
        "REMOTE_PORT": client_port,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in scope.headers.items():
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name in ("content-length", "transfer-encoding"):
            continue  # the body is read whole: its length is what arrived
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    return environ
