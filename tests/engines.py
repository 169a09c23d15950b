"""Real SPARQL engines on loopback for the remote-store tests: ``oxigraph serve`` and
OpenLink Virtuoso 7 (Debian's ``virtuoso-opensource-7-bin``, installed by ``make test``).

Each Virtuoso gets its own ``virtuoso.ini`` in its folder (free loopback ports for SQL
and HTTP, SPARQL Update granted to the SPARQL user). Creating a database takes Virtuoso
some 10 s, so one is made per test session and copied for each server.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

ENGINES = ("oxigraph", "virtuoso")
VIRTUOSO_BUGS = {
    "bnode-graphs": "Virtuoso 7.2.5 bug: an INSERT whose template holds one blank node in "
    "two GRAPH blocks fails with 'SR002: Function string_output_string needs a string "
    "output' (and BNODE() is 'not implemented', so no rewrite keeps the node one)",
}
VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")

_INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql}
DirsAllowed = ., {d}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ServerThreads = 20
CheckpointInterval = 0
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
ServerThreads = 20
MaxClientConnections = 20
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
MaxSortedTopRows = 1000000
"""
# SPARQL Update for the (anonymous) SPARQL user, and write access to every graph
_GRANTS = "grant SPARQL_UPDATE to \"SPARQL\"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);"

_template: Path | None = None
_template_lock = threading.Lock()


def _free_port() -> int:
    from conftest import free_port

    return free_port()


def _launch(folder: Path, http_port: int, sql_port: int) -> tuple[str, subprocess.Popen]:
    from conftest import wait_http

    (folder / "virtuoso.ini").write_text(
        _INI.format(d=folder, sql=sql_port, http=http_port), encoding="utf-8"
    )
    proc = subprocess.Popen(
        [VIRTUOSO, "+foreground", "+configfile", str(folder / "virtuoso.ini")],  # type: ignore[list-item]
        stdout=(folder / "out.log").open("ab"),
        stderr=subprocess.STDOUT,
        cwd=folder,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{http_port}/sparql"
    wait_http(url + "?query=ASK%7B%7D", proc, timeout=120)
    proc.sql_port = sql_port  # type: ignore[attr-defined]
    return url, proc


def _make_template() -> Path:
    """A fresh Virtuoso database with the grants, shut down cleanly (made once)."""
    global _template
    with _template_lock:
        if _template is None:
            folder = Path(tempfile.mkdtemp(prefix="eti-virtuoso-template-"))
            atexit.register(shutil.rmtree, folder, True)
            sql = _free_port()
            _, proc = _launch(folder, _free_port(), sql)
            try:
                isql(sql, _GRANTS + " checkpoint;")
            finally:
                subprocess.run([ISQL, str(sql), "dba", "dba", "exec=shutdown;"], timeout=60)  # type: ignore[list-item]
                proc.wait(timeout=60)
            _template = folder
    return _template


def isql(sql_port: int, statements: str) -> str:
    """Run SQL statements as dba through Virtuoso's isql; its output."""
    done = subprocess.run(
        [ISQL, str(sql_port), "dba", "dba", f"exec={statements}"],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "Error" not in done.stdout, done.stdout + done.stderr
    return done.stdout


def start_virtuoso(folder: Path, port: int | None = None) -> tuple[str, subprocess.Popen]:
    """A real Virtuoso on loopback with its database in ``folder`` (a copy of the
    session's fresh one when ``folder`` has none; kept when restarting on ``port``);
    returns (SPARQL endpoint URL, process)."""
    if VIRTUOSO is None or ISQL is None:
        pytest.fail("Virtuoso (Debian virtuoso-opensource-7-bin) is not installed: run make test")
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "virtuoso.db").exists():
        shutil.copy(_make_template() / "virtuoso.db", folder / "virtuoso.db")
    return _launch(folder, port or _free_port(), _free_port())


def start_engine(
    engine: str, folder: Path, port: int | None = None
) -> tuple[str, subprocess.Popen]:
    """A SPARQL server of ``engine`` (``oxigraph`` or ``virtuoso``) over ``folder``."""
    if engine == "virtuoso":
        return start_virtuoso(folder, port)
    from conftest import start_oxigraph

    return start_oxigraph(folder, port)
