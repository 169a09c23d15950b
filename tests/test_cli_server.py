"""The command line against a running server (issue 20, items 4 and 7): tokens are made,
listed and revoked through ``--server`` while ``eti serve`` holds the data folder; every
refusal says what the server said; hints match what the CLI can do; tables line up."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import requests
from conftest import BIN

PRODUCT = Path(__file__).resolve().parents[1] / "catalogue/demo/products/nav-pleiepenger.trig"


def eti(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "eti"), *args], capture_output=True, text=True, timeout=120, check=False
    )


def columns_line_up(text: str) -> bool:
    """Every row of a table starts its columns where the header's start."""
    lines = text.strip().splitlines()
    starts = [m.start() for m in re.finditer(r"(?<=  )\S", lines[0])]
    return len(lines) > 1 and all(
        all(line[s - 2 : s] == "  " and line[s] != " " for s in starts) for line in lines[1:]
    )


@pytest.mark.slow
def test_no_first_token_while_the_server_runs(live_server) -> None:
    url, admin = live_server.url, live_server.tokens["admin"]
    # the data folder is the server's: the local command says how to work through it
    held = eti("token", "create", "--role", "admin", "--store", str(live_server.store))
    assert held.returncode == 2 and "--server URL --token" in held.stderr
    made = eti(
        "token", "create", "--role", "steward", "--org", "889640782", "--name", "Kari",
        "--server", url, "--token", admin,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    ident = re.search(r"created token (\w+) \(steward\)", made.stderr)[1]
    mine = requests.get(
        url + "/api/agreements", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert mine.status_code == 200
    listed = eti("token", "list", "--server", url, "--token", admin)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == [
        "ID", "ROLE", "SCOPE", "STATE", "CREATED", "EXPIRES", "NAME",
    ]  # fmt: skip
    assert re.search(rf"^{ident}\s+steward\s+889640782\s+live\s", listed.stdout, re.M)
    assert token not in listed.stdout
    assert columns_line_up(listed.stdout)
    revoked = eti("token", "revoke", ident, "--server", url, "--token", admin)
    assert revoked.returncode == 0 and f"revoked {ident}" in revoked.stdout
    again = requests.get(
        url + "/api/agreements", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert again.status_code == 401
    # a steward is not an admin: the CLI says what the server said, status and detail
    refused = eti("token", "list", "--server", url, "--token", live_server.tokens["nav"])
    assert refused.returncode == 2
    assert "403" in refused.stderr and "this needs the role admin" in refused.stderr
    # the old hint's way (--store-url at an eti server) no longer reads as a parse error
    # of an HTML page
    wrong = eti("query", "ASK {}", "--store-url", url)
    assert wrong.returncode == 2
    assert "does not parse" not in wrong.stderr and "<!doctype" not in wrong.stderr.lower()
    assert "--server" in wrong.stderr


def test_every_cli_error_against_a_server_says_what_the_server_said(live_server) -> None:
    gone = eti("withdraw", "no-such-product", "--server", live_server.url, "--token", "x")
    assert gone.returncode == 2
    assert re.search(r"401 UNAUTHORIZED: Unauthorized: \S", gone.stderr, re.I), gone.stderr
    nothing = eti("history", "no-such-product", "--server", live_server.url)
    assert nothing.returncode == 2 and "404" in nothing.stderr and "Not Found" in nothing.stderr


@pytest.mark.slow
def test_cli_hints_contradicted_the_help(live_server, tmp_path: Path) -> None:
    url, nav = live_server.url, live_server.tokens["nav"]
    # registering an existing product: the hint is the CLI's (--update), not only PUT
    again = eti("register", str(PRODUCT), "--server", url, "--token", nav)
    assert again.returncode == 2 and "--update" in again.stderr, again.stderr
    # --update without --id takes the product's dct:identifier, as the help says
    update = eti("register", str(PRODUCT), "--update", "--server", url, "--token", nav)
    assert update.returncode == 0, update.stderr
    assert "registered nav-pleiepenger version 2" in update.stdout
    # agreement list: a header, and the columns line up
    listed = eti("agreement", "list", "--server", url, "--token", live_server.tokens["app"])
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == [
        "ID", "STATUS", "START", "END", "PRODUCT", "CHANNEL",
    ]  # fmt: skip
    assert len(listed.stdout.splitlines()) >= 3 and columns_line_up(listed.stdout)
