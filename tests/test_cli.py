"""The ``eti`` command line: help, load/dump/restore, errors with exit code 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from conftest import BIN, needs_shared

from eti.catalogue import cli as cli_module
from eti.catalogue.cli import cli, main  # noqa: F401 - main registers plugin commands
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


def test_dump_then_restore_is_lossless_on_the_demo(runner: CliRunner, tmp_path: Path) -> None:
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    assert invoke(runner, "demo", "--store", first).exit_code == 0
    dump = tmp_path / "backup.nq"
    assert invoke(runner, "dump", "--store", first, "--output", str(dump)).exit_code == 0
    result = invoke(runner, "restore", str(dump), "--store", second)
    assert result.exit_code == 0, result.output
    again = invoke(runner, "dump", "--store", second).stdout_bytes
    original = dataset_by_graph(dump.read_bytes())
    restored = dataset_by_graph(again)
    assert set(original) == set(restored)
    assert len(original) > 20
    for name, graph in original.items():
        assert graph == restored[name], f"graph {name} differs after restore"
    assert any(isinstance(q.subject, ox.BlankNode) for d in original.values() for q in d)


def test_restore_refuses_a_non_empty_store(runner: CliRunner, tmp_path: Path) -> None:
    store = str(tmp_path / "a")
    invoke(runner, "demo", "--store", store)
    dump = tmp_path / "backup.nq"
    invoke(runner, "dump", "--store", store, "--output", str(dump))
    result = invoke(runner, "restore", str(dump), "--store", store)
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert invoke(runner, "restore", str(dump), "--store", store, "--force").exit_code == 0


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
