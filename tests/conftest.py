"""Shared fixtures: real stores (embedded on disk, and a real ``oxigraph serve``), the
Flask app, its test client and CLI runner, and a live ``eti serve`` process."""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from eti.catalogue import clock
from eti.catalogue.auth import TokenTable
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.catalogue.store import OxigraphStore, RemoteStore, Store
from eti.server import create_app

# The suite runs on the catalogue's clock, pinned to the day the demo files are written as
# of (eti.catalogue.demo.WRITTEN_ON), never on the real date; every server and CLI process
# the tests start inherits it through ETI_TODAY.
TEST_DAY = "2026-12-01"
for _name in ("ETI_NOW", "ETI_CLOCK"):
    os.environ.pop(_name, None)
os.environ["ETI_TODAY"] = TEST_DAY
clock.use(TEST_DAY)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "conformance"
BIN = Path(sys.executable).parent


class RecordingServer(http.server.ThreadingHTTPServer):
    """A loopback HTTP server (127.0.0.1 only) that answers every GET or POST with
    ``body`` and records the paths it was asked for: proof that nothing reached it."""

    def __init__(self, body: bytes, content_type: str) -> None:
        self.paths: list[str] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                recorder.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Wait until ``url`` answers (or fail with the process's output)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            log_path = getattr(proc, "log_path", None)
            if log_path is not None and Path(log_path).exists():
                out += Path(log_path).read_text(errors="replace")
            raise RuntimeError(f"process exited with {proc.returncode}:\n{out}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    """Stop a child process (and its group, when it leads one), politely first."""
    if proc.poll() is None and os.getpgid(proc.pid) == proc.pid:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        return
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_oxigraph(location: Path, port: int | None = None) -> tuple[str, subprocess.Popen]:
    """A real ``oxigraph serve`` on loopback (a free port unless ``port`` is given, as when
    restarting one); returns (URL, process)."""
    exe = shutil.which("oxigraph", path=str(BIN)) or shutil.which("oxigraph")
    if exe is None:
        pytest.fail("the 'oxigraph' server (PyPI package oxigraph) is not installed")
    port = port or free_port()
    proc = subprocess.Popen(
        [exe, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/query?query=ASK%7B%7D", proc)
    return url, proc


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``oxigraph serve`` on a free loopback port, for the remote-store mode."""
    url, proc = start_oxigraph(tmp_path_factory.mktemp("oxigraph-server"))
    yield url
    stop(proc)


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Virtuoso on a free loopback port (see ``engines``), for the remote mode."""
    from engines import start_virtuoso

    url, proc = start_virtuoso(tmp_path_factory.mktemp("virtuoso-server"))
    yield url
    stop(proc)


@pytest.fixture(params=["embedded", "remote", "virtuoso"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each implementation and remote engine (the same tests run on
    all: ``remote`` is an ``oxigraph serve``)."""
    if request.param == "embedded":
        s: Store = OxigraphStore(tmp_path / "store")
    elif request.param == "virtuoso":
        s = RemoteStore(request.getfixturevalue("virtuoso_server"), engine="virtuoso")
        s.update("DROP ALL")
    else:
        url = request.getfixturevalue("oxigraph_server")
        s = RemoteStore(url)
        s.update("DROP ALL")
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh data folder."""
    return Settings.load(env={}, store=str(tmp_path / "store"), query_workers=0)


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    """A catalogue with the shipped vocabularies and the demo loaded."""
    cat = Catalogue(settings)
    cat.prepare(demo_if_empty=True)
    yield cat
    cat.close()


@pytest.fixture
def app(settings: Settings, catalogue: Catalogue):  # type: ignore[no-untyped-def]
    """The Flask application over the demo catalogue."""
    application = create_app(settings, catalogue)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """Flask's test client."""
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    """Click's runner for the ``eti`` command."""
    return CliRunner()


def bearer(token: str | None, **extra: str) -> dict[str, str]:
    """Headers that send ``token`` (none when it is None) and ``extra`` headers."""
    return {**({"Authorization": f"Bearer {token}"} if token else {}), **extra}


class Callers:
    """Bearer tokens of one catalogue, made once per role and scope, as headers:
    ``as_("admin")``, ``as_("steward", org="889640782")``,
    ``as_("channel", channel="https://eti.example/channels/familieapp")``. Merge more
    headers in: ``{**as_("admin"), "Accept": "text/turtle"}``."""

    def __init__(self, catalogue: Catalogue, app=None) -> None:  # type: ignore[no-untyped-def]
        self._table = TokenTable(catalogue.store)
        self._made: dict[tuple[str, str | None, str | None], str] = {}
        self._app = app

    def token(self, role: str, *, org: str | None = None, channel: str | None = None) -> str:
        """The secret of a token for ``role`` (and its org or channel), made on first use."""
        key = (role, org, channel)
        if key not in self._made:
            self._made[key] = self._table.create(role, org=org, channel=channel)[1]
        return self._made[key]

    def __call__(
        self, role: str, *, org: str | None = None, channel: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, org=org, channel=channel)}"}

    def client(self, role: str, *, org: str | None = None, channel: str | None = None):  # type: ignore[no-untyped-def]
        """A Flask test client that sends the caller's token with every request."""
        if self._app is None:
            raise RuntimeError("these callers have no app: use the headers")
        made = self._app.test_client()
        made.environ_base["HTTP_AUTHORIZATION"] = self(role, org=org, channel=channel)[
            "Authorization"
        ]
        return made


class DemoApp:
    """The demo catalogue served by the Flask app, shared by one test module: ``app``,
    ``catalogue``, ``settings``, an anonymous ``client`` and ``as_`` (see Callers)."""

    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.app = create_app(settings, catalogue)
        self.app.config["TESTING"] = True
        self.client = self.app.test_client()
        self.as_ = Callers(catalogue, self.app)


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    """One demo catalogue and its app for the whole module (loading the demo per test is
    slow): tests that write use resources of their own, or are refused."""
    settings = Settings.load(
        env={}, store=str(tmp_path_factory.mktemp("demo-app") / "store"), query_workers=0
    )
    cat = Catalogue(settings)
    cat.prepare(demo_if_empty=True)
    yield DemoApp(settings, cat)
    cat.close()


@pytest.fixture
def as_(request: pytest.FixtureRequest) -> Callers:
    """Headers (or a client) for a caller of the test's catalogue: the module's
    ``demo_app`` when the test uses it, else the test's own ``catalogue``."""
    if "demo_app" in request.fixturenames:
        return request.getfixturevalue("demo_app").as_
    cat = request.getfixturevalue("catalogue")
    app = request.getfixturevalue("app") if "app" in request.fixturenames else None
    return Callers(cat, app)


class LiveServer:
    """A real ``eti serve`` process on loopback, with tokens made before it started."""

    def __init__(
        self, url: str, proc: subprocess.Popen, store: Path, tokens: dict[str, str]
    ) -> None:
        self.url = url
        self.proc = proc
        self.store = store
        self.tokens = tokens

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        """Authorization (and more) headers for one of the tokens."""
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}


def prepare_store(
    store_dir: Path,
    *,
    demo: bool = True,
    store_url: str | None = None,
    engine: str = "oxigraph",
) -> dict[str, str]:
    """A store (the remote one at ``store_url``, of ``engine``, when given) with
    (optionally) the demo and tokens for an admin, NAV's and Helsedirektoratet's stewards
    and the nav.no channel; closed again before a server opens it."""
    settings = Settings.load(
        env={}, store=str(store_dir), store_url=store_url, store_engine=engine, query_workers=0
    )
    cat = Catalogue(settings)
    cat.prepare(demo_if_empty=demo)
    table = TokenTable(cat.store)
    tokens = {
        "admin": table.create("admin")[1],
        "nav": table.create("steward", org="889640782")[1],
        "hdir": table.create("steward", org="983544622")[1],
        "channel": table.create("channel", channel="https://eti.example/channels/nav-no")[1],
        "app": table.create("channel", channel="https://eti.example/channels/familieapp")[1],
        "flekkefjord": table.create("steward", org="964967369")[1],
    }
    cat.close()
    return tokens


def start_server(
    store_dir: Path,
    env: dict[str, str] | None = None,
    *,
    port: int | None = None,
    args: tuple[str, ...] = (),
    store_url: str | None = None,
    engine: str = "oxigraph",
) -> tuple[str, subprocess.Popen]:
    """``eti serve`` on a free port in its own process group (so a test can kill the whole
    tree), logging to ``server.log`` beside the store (on the remote store at ``store_url``,
    of ``engine``, when given); returns (base URL, process)."""
    port = port or free_port()
    env = {"ETI_STORE_ENGINE": engine, **(env or {})}
    log = (store_dir.parent / "server.log").open("ab")
    store = ("--store-url", store_url) if store_url else ("--store", str(store_dir))
    proc = subprocess.Popen(
        [str(BIN / "eti"), "serve", *store, "--port", str(port), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ETI_LOG_LEVEL": "WARNING", **(env or {})},
        start_new_session=True,
    )
    log.close()
    proc.log_path = store_dir.parent / "server.log"  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", proc, timeout=60)
    return url, proc


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """``eti serve`` over the demo catalogue as a subprocess, stopped after the test."""
    store_dir = tmp_path / "live-store"
    tokens = prepare_store(store_dir)
    url, proc = start_server(store_dir)
    yield LiveServer(url, proc, store_dir, tokens)
    stop(proc)


def needs_shared(path: str) -> Path:
    """A file of ../shared/conformance, or skip the test with the reason."""
    target = SHARED / path
    if not target.exists():
        pytest.skip(f"../shared/conformance/{path} is absent (a plain clone has no ../shared)")
    return target


# --- the reliability figures `make soak` prints at the end --------------------------------

FIGURES: dict[str, int | float | str] = {}


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to one of the session's reliability figures (printed at the end)."""
    FIGURES[name] = int(FIGURES.get(name, 0)) + n


def figure(name: str, value: int | float | str) -> None:
    """Set one of the session's reliability figures (a rate or a latency)."""
    FIGURES[name] = value


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``live`` every test that uses a real server process on loopback (``eti serve``
    or ``oxigraph serve``) through the shared fixtures, and ``slow`` every test that
    starts its own ``eti serve`` (``live_server``: the demo loaded, then a process
    started and stopped, 5 to 15 s a test)."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if names & {"live_server", "oxigraph_server"} or params.get("store") == "remote":
            item.add_marker(pytest.mark.live)
        if "live_server" in names:
            item.add_marker(pytest.mark.slow)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and "test_hostile.py::test_hostile_case[" in report.nodeid:
        count("hostile: cases tried")
        count("hostile: cases passed", int(report.passed))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def]
    """Count the examples hypothesis runs (property tests, the state machine, schemathesis),
    from the statistics it reports at the end of each run."""
    from hypothesis.statistics import collector

    outer = collector.value

    def note(stats: dict) -> None:
        cases = [c for k, v in stats.items() if k.endswith("-phase") for c in v["test-cases"]]
        count("fuzz: examples", sum(c["status"] in ("valid", "interesting") for c in cases))
        if outer is not None:
            outer(stats)

    with collector.with_value(note):
        return (yield)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
