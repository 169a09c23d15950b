"""Starting, watching and stopping the servers under test, on loopback.

Only processes started here are ever stopped, by their own process id (and their
children, found through /proc).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool(name: str) -> str:
    """A console script of this virtual environment (eti, oxigraph), else from PATH."""
    local = BIN / name
    return str(local) if local.exists() else name


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    url: str  # the SPARQL query endpoint
    base: str
    log: Path
    started_at: float = field(default_factory=time.perf_counter)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        tree = descendants(self.pid)
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait(timeout=10)
        for pid in tree:  # query workers left behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def rss_mib(self) -> float:
        return rss_tree(self.pid) / 1024

    def pss_mib(self) -> float:
        return pss_tree(self.pid) / 1024

    def wait_idle(self, limit: float = 60.0, threshold: float = 0.10) -> float:
        """Wait until the server's process tree uses under ``threshold`` of a core over a
        second and, for ``eti serve``, answers no request but the one asking (work left
        from a load whose client stopped: requests queued for a query worker use no CPU
        but hold the server's request slots, and the next run got 503 Overloaded for
        thousands of its requests at 100,000 products), at most ``limit`` seconds."""
        started = time.perf_counter()
        while time.perf_counter() - started < limit:
            before = cpu_ticks([self.pid, *descendants(self.pid)])
            time.sleep(1.0)
            after = cpu_ticks([self.pid, *descendants(self.pid)])
            if (after - before) / os.sysconf("SC_CLK_TCK") < threshold and self._drained():
                break
        return time.perf_counter() - started

    def _drained(self) -> bool:
        """True unless ``/metrics`` counts requests in flight besides its own."""
        if self.name != "eti":
            return True
        try:
            text = requests.get(self.base + "/metrics", timeout=5).text
        except requests.RequestException:
            return True
        for line in text.splitlines():
            if line.startswith("eti_http_requests_in_flight"):
                return float(line.rsplit(" ", 1)[-1]) <= 1.0
        return True


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])
    return total


def _kib(path: str, field: str) -> int:
    """The KiB figure of ``field`` in a /proc file of ``key: value kB`` lines (0: none)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    return _kib(f"/proc/{pid}/status", "VmRSS:")


def pss_kib(pid: int) -> int:
    """Proportional set size of a process, KiB: each page shared with other processes
    (the libraries a server's worker processes map too) counted as its share, so a
    process tree's sum counts every page once."""
    return _kib(f"/proc/{pid}/smaps_rollup", "Pss:")


def pss_tree(pid: int) -> int:
    """PSS of a process and all its children, KiB."""
    return sum(pss_kib(p) for p in [pid, *descendants(pid)])


def rss_breakdown(pid: int) -> list[dict]:
    """(pid, command, RSS MiB, PSS MiB) of a process and each of its children."""
    out = []
    for p in [pid, *descendants(pid)]:
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:160]
        except OSError:
            continue
        rss, pss = round(rss_kib(p) / 1024, 1), round(pss_kib(p) / 1024, 1)
        out.append({"pid": p, "cmd": cmd.strip(), "rss_mib": rss, "pss_mib": pss})
    return out


def rss_tree(pid: int) -> int:
    """VmRSS of a process and all its children, KiB."""
    return sum(rss_kib(p) for p in [pid, *descendants(pid)])


def _wait_ready(server: Server, probe, limit: float) -> Server:
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} stopped: {server.log.read_text()[-2000:]}")
        try:
            if probe():
                server.started_at = time.perf_counter()
                return server
        except requests.RequestException:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer within {limit:.0f} s")


def start_eti(store: Path, logdir: Path, *, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    log = logdir / "eti-serve.log"
    environment = {**os.environ, "ETI_LOG_LEVEL": "WARNING", **(env or {})}
    process = subprocess.Popen(
        [tool("eti"), "serve", "--store", str(store), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=environment,
    )
    base = f"http://127.0.0.1:{port}"
    server = Server("eti", process, base + "/sparql", base, log)
    return _wait_ready(
        server, lambda: requests.get(base + "/healthz", timeout=30).status_code == 200, 180
    )


def start_oxigraph(location: Path, logdir: Path, name: str = "") -> Server:
    port = free_port()
    log = logdir / f"oxigraph-serve{'-' + name if name else ''}.log"
    process = subprocess.Popen(
        [
            tool("oxigraph"),
            "serve",
            "--location",
            str(location),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    server = Server("oxigraph", process, base + "/query", base, log)

    def probe() -> bool:
        r = requests.get(base + "/query", params={"query": "ASK {}"}, timeout=10)
        return r.status_code == 200

    return _wait_ready(server, probe, 120)


def start_rdflib(nquads: Path, logdir: Path, limit: float = 600) -> Server:
    port = free_port()
    log = logdir / "rdflib-endpoint.log"
    process = subprocess.Popen(
        [sys.executable, str(HERE / "rdflib_peer.py"), str(nquads), str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    server = Server("rdflib-endpoint", process, base + "/sparql", base, log)

    def probe() -> bool:
        r = requests.post(
            base + "/sparql",
            data=b"ASK {}",
            headers={"Content-Type": "application/sparql-query"},
            timeout=10,
        )
        return r.status_code == 200

    return _wait_ready(server, probe, limit)


def token(store: Path, *args: str) -> str:
    """A bearer token made with ``eti token create ARGS`` in the embedded store at
    ``store`` (before a server opens it)."""
    out = subprocess.run(
        [tool("eti"), "token", "create", "--name", "bench", "--store", str(store), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def timed(
    cmd: list[str], *, log: Path, env: dict[str, str] | None = None, cap: float | None = None
) -> float | None:
    """Run ``cmd`` to the end; its wall time in seconds (raises on failure), or None when
    it ran past ``cap`` seconds and was stopped."""
    started = time.perf_counter()
    with log.open("a") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        try:
            subprocess.run(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                env={**os.environ, **(env or {})},
                timeout=cap,
            )
        except subprocess.TimeoutExpired:  # subprocess.run kills the child
            out.write(f"stopped after {cap} s\n")
            return None
    return time.perf_counter() - started
