"""The ``eti`` command line: help, load/dump/restore, errors with exit code 2."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner
from conftest import BIN, free_port, needs_shared, prepare_store, start_server, stop

from eti.catalogue import cli as cli_module
from eti.catalogue.auth import Identity
from eti.catalogue.cli import cli, main  # noqa: F401 - main registers plugin commands
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.catalogue.namespaces import VIEW_PREFIX, VIEWS
from eti.catalogue.store import OxigraphStore

cli_module._plugins()


def invoke(runner: CliRunner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, list(args), catch_exceptions=False)


def dataset_by_graph(nquads: bytes) -> dict[str, ox.Dataset]:
    ds = ox.Dataset(ox.parse(nquads, ox.RdfFormat.N_QUADS))
    out: dict[str, ox.Dataset] = {}
    for q in ds:
        out.setdefault(str(q.graph_name), ox.Dataset()).add(q)
    for d in out.values():
        d.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return out


def all_commands() -> list[list[str]]:
    names: list[list[str]] = [[]]
    for name, command in cli.commands.items():
        names.append([name])
        for sub in getattr(command, "commands", {}):
            names.append([name, sub])
    return names


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "eti")
def test_every_command_describes_itself(runner: CliRunner, path: list[str]) -> None:
    result = invoke(runner, *path, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.output
    summary = result.output.split("\n\n")[1].strip()
    assert len(summary) > 20, f"'{' '.join(path)}' has no description"


def test_store_commands_take_store_and_store_url(runner: CliRunner) -> None:
    for name in ("demo", "load", "dump", "restore", "query", "serve"):
        text = invoke(runner, name, "--help").output
        assert "--store PATH" in text or "--store DIRECTORY" in text, name
        assert "--store-url" in text, name


def test_load_malformed_file_exits_2_with_line_and_changes_nothing(
    runner: CliRunner, tmp_path: Path
) -> None:
    store = str(tmp_path / "s")
    good = tmp_path / "good.ttl"
    good.write_text("<http://e/a> <http://e/p> <http://e/b> .\n")
    assert invoke(runner, "load", str(good), "--graph", "urn:x:g", "--store", store).exit_code == 0
    before = invoke(runner, "dump", "--store", store).stdout_bytes
    bad = tmp_path / "bad.ttl"
    bad.write_text('<http://e/a> <http://e/p> <http://e/c> .\n<http://e/a> <http://e/p> "open .\n')
    result = invoke(runner, "load", str(bad), "--graph", "urn:x:g", "--store", store)
    assert result.exit_code == 2
    assert f"{bad}:2" in result.output
    assert invoke(runner, "dump", "--store", store).stdout_bytes == before


def test_load_triples_without_graph_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.ttl"
    good.write_text("<http://e/a> <http://e/p> <http://e/b> .\n")
    result = invoke(runner, "load", str(good), "--store", str(tmp_path / "s"))
    assert result.exit_code == 2
    assert "--graph" in result.output


def test_unknown_format_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "data.weird"
    f.write_text("hello")
    result = invoke(runner, "load", str(f), "--graph", "urn:x:g", "--store", str(tmp_path / "s"))
    assert result.exit_code == 2
    assert "cannot tell the RDF format" in result.output


def demo_dumped_and_restored(runner: CliRunner, tmp_path: Path) -> tuple[Path, str]:
    """The demo in a store, dumped, and the dump restored into another: (dump, store)."""
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    assert invoke(runner, "demo", "--store", first).exit_code == 0
    dump = tmp_path / "backup.nq"
    assert invoke(runner, "dump", "--store", first, "--output", str(dump)).exit_code == 0
    result = invoke(runner, "restore", str(dump), "--store", second)
    assert result.exit_code == 0, result.output
    return dump, second


@pytest.mark.slow
def test_dump_then_restore_is_lossless_on_the_demo(runner: CliRunner, tmp_path: Path) -> None:
    dump, second = demo_dumped_and_restored(runner, tmp_path)
    again = invoke(runner, "dump", "--store", second).stdout_bytes
    original = dataset_by_graph(dump.read_bytes())
    restored = dataset_by_graph(again)
    # the restore builds the admin's view ahead: derived graphs, the only ones it adds
    added = set(restored) - set(original)
    names = {g.strip("<>") for g in added}
    assert names and all(g == VIEWS or g.startswith(VIEW_PREFIX) for g in names), added
    assert set(original) <= set(restored)
    assert len(original) > 20
    for name, graph in original.items():
        assert graph == restored[name], f"graph {name} differs after restore"
    assert any(isinstance(q.subject, ox.BlankNode) for d in original.values() for q in d)


def test_restore_left_the_admins_view_to_its_first_request(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A restore (or a raw load) leaves no per-caller view; an admin's holds every graph's
    triples outside "read" (262,000 at 10,000 products), and building it at the admin's
    first request took that request 20-45 s. ``eti restore`` builds it: the first admin
    read after it writes nothing."""
    _dump, second = demo_dumped_and_restored(runner, tmp_path)
    with Catalogue(Settings(query_workers=0), store=OxigraphStore(second)) as cat:
        writes = []
        cat.store.on_write.append(lambda: writes.append(1))
        admin = cat.access(Identity(role="admin"))
        assert writes == []  # built by the restore
        assert cat.store.count(admin.default[1]) > 0  # e.g. the history, the records
        assert bool(
            cat.query("ASK { ?s a <http://www.w3.org/ns/dcat#Dataset> }", graphs=admin.graphs)
        )


@pytest.mark.slow
def test_restore_refuses_a_non_empty_store(runner: CliRunner, tmp_path: Path) -> None:
    store = str(tmp_path / "a")
    invoke(runner, "demo", "--store", store)
    dump = tmp_path / "backup.nq"
    invoke(runner, "dump", "--store", store, "--output", str(dump))
    result = invoke(runner, "restore", str(dump), "--store", store)
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert invoke(runner, "restore", str(dump), "--store", store, "--force").exit_code == 0


@pytest.mark.slow
def test_restore_of_a_malformed_dump_with_force_keeps_the_store(
    runner: CliRunner, tmp_path: Path
) -> None:
    store = str(tmp_path / "a")
    invoke(runner, "demo", "--store", store)
    before = invoke(runner, "dump", "--store", store).stdout_bytes
    bad = tmp_path / "bad.nq"
    bad.write_bytes(before[: len(before) // 2] + b"\n<broken")
    result = invoke(runner, "restore", str(bad), "--store", store, "--force")
    assert result.exit_code == 2
    assert str(bad) in result.output
    assert invoke(runner, "dump", "--store", store).stdout_bytes == before


def test_restore_of_a_malformed_dump_into_an_empty_store_leaves_it_empty(
    runner: CliRunner, tmp_path: Path
) -> None:
    """Restore bulk-loads (not atomic): a syntax error late in the file must still leave
    nothing of its first half behind, and say where it is."""
    store = str(tmp_path / "a")
    invoke(runner, "demo", "--store", store)
    before = invoke(runner, "dump", "--store", store).stdout_bytes
    lines = before.count(b"\n")
    bad = tmp_path / "bad.nq"
    bad.write_bytes(before + b'<urn:x> <urn:y> "unterminated .\n')
    empty = str(tmp_path / "b")
    result = invoke(runner, "restore", str(bad), "--store", empty)
    assert result.exit_code == 2, result.output
    assert str(bad) in result.output and str(lines + 1) in result.output
    assert invoke(runner, "dump", "--store", empty).stdout_bytes == b""
    good = tmp_path / "good.nq"
    good.write_bytes(before)
    assert invoke(runner, "restore", str(good), "--store", empty).exit_code == 0


def test_a_store_held_by_another_process_gives_a_clear_message(tmp_path: Path) -> None:
    held = OxigraphStore(tmp_path / "held")
    try:
        proc = subprocess.run(
            [str(BIN / "eti"), "dump", "--store", str(tmp_path / "held")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        held.close()
    assert proc.returncode == 2
    assert "in use by another process" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_query_prints_results(runner: CliRunner, tmp_path: Path) -> None:
    store = str(tmp_path / "a")
    invoke(runner, "demo", "--store", store)
    result = invoke(
        runner,
        "query",
        "--store",
        store,
        "--format",
        "csv",
        "PREFIX dprod: <https://ekgf.github.io/dprod/> "
        "SELECT (COUNT(?p) AS ?n) WHERE { ?p a dprod:DataProduct }",
    )
    assert result.exit_code == 0
    assert int(result.output.split()[-1]) >= 12


def test_query_syntax_error_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, "query", "--store", str(tmp_path / "a"), "SELECT WHERE {")
    assert result.exit_code == 2
    assert "does not parse" in result.output


def test_vocab_import_of_all_of_los(runner: CliRunner, tmp_path: Path) -> None:
    los = needs_shared("los/los.rdf")
    store = str(tmp_path / "a")
    result = invoke(runner, "vocab", "import", str(los), "--store", store)
    assert result.exit_code == 0, result.output
    count = invoke(
        runner,
        "query",
        "--store",
        store,
        "--format",
        "csv",
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT (COUNT(?c) AS ?n) WHERE { ?c a skos:Concept }",
    )
    assert int(count.output.split()[-1]) > 500


def _template(name: str) -> bytes:
    from importlib.resources import files

    text = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text()
    return text.replace("nav-pleiepenger", name).encode()


def test_register_update_withdraw_locally(runner: CliRunner, tmp_path: Path) -> None:
    store = str(tmp_path / "a")
    invoke(runner, "demo", "--store", store)
    f = tmp_path / "p.trig"
    f.write_bytes(_template("nav-cli"))
    first = invoke(runner, "register", str(f), "--store", store)
    assert first.exit_code == 0, first.output
    assert "registered nav-cli version 1" in first.output
    again = invoke(runner, "register", str(f), "--store", store)
    assert again.exit_code == 2 and "already registered" in again.output
    update = invoke(runner, "register", str(f), "--update", "--store", store)
    assert update.exit_code == 0 and "version 2" in update.output
    gone = invoke(runner, "withdraw", "nav-cli", "--store", store)
    assert gone.exit_code == 0


def test_register_a_product_that_breaks_a_rule_exits_1_with_the_report(
    runner: CliRunner, tmp_path: Path
) -> None:
    store = str(tmp_path / "a")
    invoke(runner, "demo", "--store", store)
    before = invoke(runner, "dump", "--store", store).stdout_bytes
    f = tmp_path / "p.trig"
    f.write_bytes(_template("nav-cli").replace(b'"Pleiepengar for sjukt barn"@nn,', b"", 1))
    result = invoke(runner, "register", str(f), "--store", store)
    assert result.exit_code == 1
    assert "ERROR" in result.output or "Violation" in result.output
    assert invoke(runner, "dump", "--store", store).stdout_bytes == before


def test_register_through_a_running_server(live_server, tmp_path: Path) -> None:
    f = tmp_path / "p.trig"
    f.write_bytes(_template("nav-remote"))
    base = [str(BIN / "eti"), "register", str(f), "--server", live_server.url]
    ok = subprocess.run(
        [*base, "--token", live_server.tokens["nav"]], capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    assert "registered nav-remote version 1" in ok.stdout
    other = subprocess.run(
        [*base, "--token", live_server.tokens["hdir"], "--update", "--id", "nav-remote"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 2 and "403" in other.stderr
    broken = tmp_path / "b.trig"
    broken.write_bytes(
        _template("nav-remote2").replace(b'"Pleiepengar for sjukt barn"@nn,', b"", 1)
    )
    rule = subprocess.run(
        [
            str(BIN / "eti"),
            "register",
            str(broken),
            "--server",
            live_server.url,
            "--token",
            live_server.tokens["nav"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rule.returncode == 1
    assert "Violation" in rule.stderr


@pytest.mark.slow
def test_agreement_lifecycle_from_the_command_line(live_server) -> None:
    def eti(*args: str, who: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                str(BIN / "eti"),
                "agreement",
                *args,
                "--server",
                live_server.url,
                "--token",
                live_server.tokens[who],
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )

    asked = eti(
        "request",
        "https://eti.example/offers/flekkefjord-ppt",
        "--start",
        "2026-11-01",
        "--end",
        "2027-10-31",
        who="app",
    )
    assert asked.returncode == 0, asked.stderr
    ident = asked.stdout.split()[0]
    assert "requested" in asked.stdout
    wrong = eti("accept", ident, who="nav")
    assert wrong.returncode == 2
    ok = eti("accept", ident, who="flekkefjord")
    assert ok.returncode == 0 and "active" in ok.stdout
    listed = eti("list", who="app")
    assert ident in listed.stdout
    ended = eti("terminate", ident, who="app")
    assert "terminated" in ended.stdout


@pytest.mark.slow
def test_dump_and_restore_through_a_remote_store_keep_blank_nodes(
    runner: CliRunner, tmp_path: Path, oxigraph_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: a remote load/restore sent INSERT DATA batches of 20,000 quads, each
    giving blank node labels fresh nodes, so a blank node shared across two batches split
    in two and demo + a large vocabulary restored into ``oxigraph serve`` differed."""
    from eti.catalogue.store import RemoteStore

    monkeypatch.setattr(RemoteStore, "batch_size", 40)  # many batches from a small store
    remote = RemoteStore(oxigraph_server)
    remote.update("DROP ALL")
    remote.close()
    url = ["--store-url", oxigraph_server]
    assert invoke(runner, "demo", *url).exit_code == 0
    shared = tmp_path / "shared.nq"
    shared.write_text(
        "".join(f'_:b <http://e/p> "{i}" <urn:x:blank> .\n' for i in range(150))
        + "".join(f"_:c{i} <http://e/next> _:c{i + 1} <urn:x:blank> .\n" for i in range(90))
    )
    assert invoke(runner, "load", str(shared), *url).exit_code == 0
    dump = tmp_path / "remote.nq"
    assert invoke(runner, "dump", *url, "--output", str(dump)).exit_code == 0
    result = invoke(runner, "restore", str(dump), *url, "--force")
    assert result.exit_code == 0, result.output
    again = invoke(runner, "dump", *url).stdout_bytes
    original, restored = dataset_by_graph(dump.read_bytes()), dataset_by_graph(again)
    assert set(original) == set(restored) and len(original) > 20
    for name, graph in original.items():
        assert graph == restored[name], f"graph {name} differs after a remote restore"
    blank = {q.subject for q in restored["<urn:x:blank>"] if q.predicate.value == "http://e/p"}
    assert len(blank) == 1


def test_store_option_wins_over_the_environment(runner: CliRunner, tmp_path: Path) -> None:
    """Regression: ``ETI_STORE_URL=http://127.0.0.1:9 eti query --store X`` went to the
    remote URL, silently ignoring the explicit --store."""
    dead = {"ETI_STORE_URL": "http://127.0.0.1:9", "ETI_STORE": str(tmp_path / "env")}
    ask = "ASK WHERE { }"
    local = runner.invoke(cli, ["query", "--store", str(tmp_path / "s"), ask], env=dead)
    assert local.exit_code == 0, local.output
    assert local.output.strip() == "true"
    # without an option the environment decides, the URL over ETI_STORE
    remote = runner.invoke(cli, ["query", ask], env=dead)
    assert remote.exit_code == 2 and "127.0.0.1:9" in remote.output
    # --store-url wins over ETI_STORE too
    url = runner.invoke(
        cli,
        ["query", "--store-url", "http://127.0.0.1:9", ask],
        env={"ETI_STORE": dead["ETI_STORE"]},
    )
    assert url.exit_code == 2 and "127.0.0.1:9" in url.output
    assert not (tmp_path / "env").exists()


def test_store_and_store_url_together_are_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli,
        ["dump", "--store", str(tmp_path / "s"), "--store-url", "http://127.0.0.1:9"],
        env={"ETI_STORE": None, "ETI_STORE_URL": None},
    )
    assert result.exit_code == 2
    assert "not both" in result.output
    assert not (tmp_path / "s").exists()


def _on_a_terminal(args: list[str]) -> tuple[int, bytes]:
    """Run ``args`` with standard error on a pseudo-terminal; its exit code and stderr."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.run(args, stderr=secondary, stdout=subprocess.DEVNULL, timeout=120)
    os.close(secondary)
    out = b""
    try:
        while chunk := os.read(primary, 4096):
            out += chunk
    except OSError:  # the terminal's other end is closed
        pass
    os.close(primary)
    return proc.returncode, out


@pytest.mark.slow
def test_dump_to_a_file_shows_a_progress_bar_on_a_terminal(
    runner: CliRunner, tmp_path: Path
) -> None:
    """Issue 2 asks load/dump with a progress bar for big files: dump had none."""
    store = tmp_path / "s"
    invoke(runner, "demo", "--store", str(store))
    expected = invoke(runner, "dump", "--store", str(store)).stdout_bytes
    out = tmp_path / "backup.nq"
    code, stderr = _on_a_terminal([str(BIN / "eti"), "dump", "--store", str(store), "-o", str(out)])
    assert code == 0
    assert b"dumping: " in stderr and b"B/s" in stderr
    assert out.read_bytes() == expected
    # to standard output, or with stderr not a terminal: no bar
    code, stderr = _on_a_terminal([str(BIN / "eti"), "dump", "--store", str(store)])
    assert code == 0 and b"dumping" not in stderr
    piped = invoke(runner, "dump", "--store", str(store), "-o", str(tmp_path / "b.nq"))
    assert "dumping" not in piped.output


CATALOGUE_GRAPHS = [
    "urn:eti:graph:public",
    "urn:eti:graph:read",
    "urn:eti:graph:records",
    "urn:eti:graph:system",
    "urn:eti:graph:agents",
    "urn:eti:graph:product:nav-pleiepenger",
    "urn:eti:graph:content:nav-pleiepenger",
    "urn:eti:graph:agreement:nav-no-nav-pleiepenger",
]


@pytest.mark.parametrize("graph", CATALOGUE_GRAPHS)
def test_load_refuses_the_catalogue_graphs(runner: CliRunner, tmp_path: Path, graph: str) -> None:
    """Audit: ``eti load`` wrote raw, unvalidated triples into maintained graphs (public,
    records, system...) and into product, content and agreement graphs."""
    store = str(tmp_path / "s")
    invoke(runner, "demo", "--store", store)
    before = invoke(runner, "dump", "--store", store).stdout_bytes
    triples = tmp_path / "x.ttl"
    triples.write_text("<http://e/a> <http://e/p> <http://e/b> .\n")
    quads = tmp_path / "x.nq"
    quads.write_text(
        "<http://e/a> <http://e/p> <http://e/b> <urn:x:fine> .\n"
        f"<http://e/a> <http://e/p> <http://e/c> <{graph}> .\n"
    )
    for args in ([str(triples), "--graph", graph], [str(quads)]):
        result = invoke(runner, "load", *args, "--store", store)
        assert result.exit_code == 2, result.output
        assert graph in result.output and "eti register" in result.output
        assert "nothing was loaded" in result.output
    assert invoke(runner, "dump", "--store", store).stdout_bytes == before


def test_token_create_list_revoke(runner: CliRunner, tmp_path: Path) -> None:
    from eti.catalogue.auth import AuthError, TokenTable

    store = str(tmp_path / "s")
    created = runner.invoke(
        cli,
        [
            "token",
            "create",
            "--role",
            "steward",
            "--org",
            "889640782",
            "--name",
            "Kari",
            "--store",
            store,
        ],
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert created.stdout == token + "\n" and token.startswith("eti_")  # alone on stdout
    ident = token.split("_")[1]
    listed = invoke(runner, "token", "list", "--store", store)
    line = next(line for line in listed.stdout.splitlines() if line.startswith(ident))
    assert "steward" in line and "889640782" in line and "live" in line and "Kari" in line
    assert token.split("_", 2)[2] not in listed.stdout  # never the secret
    bad = runner.invoke(cli, ["token", "create", "--role", "steward", "--store", store])
    assert bad.exit_code == 2 and "--org" in bad.output and bad.stdout == ""
    revoked = invoke(runner, "token", "revoke", ident, "--store", store)
    assert revoked.exit_code == 0
    assert "revoked" in invoke(runner, "token", "list", "--store", store).stdout
    assert invoke(runner, "token", "revoke", ident, "--store", store).exit_code == 2
    held = OxigraphStore(Path(store))
    try:
        with pytest.raises(AuthError, match="revoked"):
            TokenTable(held).authenticate(token)
    finally:
        held.close()


def test_history_prints_versions_with_added_and_removed(runner: CliRunner, tmp_path: Path) -> None:
    import json

    store = str(tmp_path / "a")
    invoke(runner, "demo", "--store", store)
    f = tmp_path / "p.trig"
    f.write_bytes(_template("nav-cli"))
    invoke(runner, "register", str(f), "--store", store)
    f.write_bytes(_template("nav-cli").replace(b'"Pleiepenger for sykt barn"@nb', b'"Ny"@nb', 1))
    assert invoke(runner, "register", str(f), "--update", "--store", store).exit_code == 0
    invoke(runner, "withdraw", "nav-cli", "--store", store)
    text = invoke(runner, "history", "nav-cli", "--store", store)
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["v1", "v2", "v3"]
    assert "+1 -1" in lines[1] and "WITHDRAWN" in lines[2]
    doc = json.loads(
        invoke(runner, "history", "nav-cli", "--format", "json", "--store", store).stdout
    )
    assert doc["id"] == "nav-cli" and [v["version"] for v in doc["versions"]] == [1, 2, 3]
    assert (
        doc["versions"][1]["added"] == [t for t in doc["versions"][1]["added"] if '"Ny"@nb' in t]
        and len(doc["versions"][1]["removed"]) == 1
    )
    unknown = invoke(runner, "history", "nav-finnes-ikke", "--store", store)
    assert unknown.exit_code == 2 and "no product nav-finnes-ikke" in unknown.output


@pytest.mark.slow
def test_withdraw_and_history_through_a_running_server(live_server, tmp_path: Path) -> None:
    def eti(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "eti"), *args, "--server", live_server.url],
            capture_output=True,
            text=True,
            timeout=120,
        )

    f = tmp_path / "p.trig"
    f.write_bytes(_template("nav-remote"))
    nav, hdir = live_server.tokens["nav"], live_server.tokens["hdir"]
    assert eti("register", str(f), "--token", nav).returncode == 0
    other = eti("withdraw", "nav-remote", "--token", hdir)
    assert other.returncode == 2 and "403" in other.stderr
    unknown = eti("withdraw", "nav-finnes-ikke", "--token", nav)
    assert unknown.returncode == 2 and "404" in unknown.stderr
    gone = eti("withdraw", "nav-remote", "--token", nav)
    assert gone.returncode == 0 and "withdrew nav-remote" in gone.stdout
    history = eti("history", "nav-remote", "--token", nav)
    assert history.returncode == 0, history.stderr
    assert [line.split()[0] for line in history.stdout.splitlines()] == ["v1", "v2"]
    assert "WITHDRAWN" in history.stdout.splitlines()[1]
    anonymous = eti("history", "nav-remote", "--format", "json")
    assert anonymous.returncode == 0 and '"version": 2' in anonymous.stdout


@pytest.mark.slow
def test_a_second_serve_on_a_held_data_folder_exits_2_with_one_line(tmp_path: Path) -> None:
    """Regression: a second ``eti serve`` on a data folder a running server holds printed
    a gunicorn worker's traceback and "Worker failed to boot" (exit code 3); the lock is
    now tried before gunicorn starts."""
    store_dir = tmp_path / "store"
    prepare_store(store_dir)
    url, proc = start_server(store_dir)
    try:
        second = subprocess.run(
            [str(BIN / "eti"), "serve", "--store", str(store_dir), "--port", str(free_port())],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2, second.stderr
        assert "in use by another process" in second.stderr
        assert "Traceback" not in second.stderr and "Worker failed" not in second.stderr
        assert requests.get(url + "/healthz", timeout=10).status_code == 200  # unharmed
    finally:
        stop(proc)


def test_writes_keep_working_after_the_store_flushes_in_a_served_process(live_server) -> None:
    """Regression: ``eti serve`` opened the store in gunicorn's master to check its lock,
    which started RocksDB's background threads there; the forked worker inherited a
    thread pool without threads, so its first memtable flush (0.5 s after a write) waited
    forever and every later write hung with it."""
    from importlib.resources import files

    template = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text()
    headers = {
        "Authorization": f"Bearer {live_server.tokens['nav']}",
        "Content-Type": "application/trig",
    }
    for n in range(3):
        body = template.replace("nav-pleiepenger", f"nav-flush-{n}").encode()
        response = requests.post(
            live_server.url + "/api/products", data=body, headers=headers, timeout=30
        )
        assert response.status_code == 201, response.text[:300]
        time.sleep(1.0)  # past FLUSH_AFTER: the flush runs between these writes
