"""Validation in the catalogue's context (issue 20, item 3): a file that registers fine
no longer fails ``eti validate``; standalone, what needs the catalogue is reported as not
checked (naming the context it lacked), and with ``--store``, ``--server`` or
``context=catalogue`` it is checked as registration checks it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import requests
from click.testing import CliRunner
from conftest import BIN, prepare_store

from eti.catalogue.cli import cli

PRODUCTS = Path(__file__).resolve().parents[1] / "catalogue/demo/products"
AGREEMENTS = Path(__file__).resolve().parents[1] / "catalogue/demo/agreements"
NAV = PRODUCTS / "nav-pleiepenger.trig"


def stranger_owned(tmp_path: Path) -> Path:
    """The product, owned by an organisation the catalogue does not know."""
    path = tmp_path / "stranger.trig"
    path.write_text(NAV.read_text("utf-8").replace("enhet:889640782", "enhet:999999999"))
    return path


def test_registrable_file_failed_eti_validate(runner: CliRunner) -> None:
    for path in [*PRODUCTS.glob("*.trig"), *AGREEMENTS.glob("*.ttl")]:
        result = runner.invoke(cli, ["validate", str(path), "--format", "json"])
        assert result.exit_code == 0, (path.name, result.output)
        report = json.loads(result.output)
        assert report["counts"]["violation"] == 0
        unchecked = [r for r in report["results"] if r["message"]["en"].startswith("Not checked")]
        assert unchecked and all(r["severity"] == "Info" for r in unchecked), path.name
        assert all("--server URL" in r["message"]["en"] for r in unchecked)
    text = runner.invoke(cli, ["validate", str(NAV)]).output
    assert (
        "Not checked here: <https://data.brreg.no/enhetsregisteret/api/enheter/889640782>" in text
    )


def test_validate_with_store_checks_against_the_catalogue(
    runner: CliRunner, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    prepare_store(store)
    ok = runner.invoke(cli, ["validate", str(NAV), "--store", str(store), "--format", "json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["results"] == []
    for path in AGREEMENTS.glob("*.ttl"):
        agreed = runner.invoke(cli, ["validate", str(path), "--store", str(store)])
        assert agreed.exit_code == 0, (path.name, agreed.output)
    stranger = stranger_owned(tmp_path)
    bad = runner.invoke(cli, ["validate", str(stranger), "--store", str(store)])
    assert bad.exit_code == 1
    assert "The owner (dprod:dataProductOwner) must be an organisation" in bad.output
    alone = runner.invoke(cli, ["validate", str(stranger)])
    assert alone.exit_code == 0 and "Not checked here" in alone.output


def test_validate_with_server_and_api_context_catalogue(live_server, tmp_path: Path) -> None:
    def eti(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "eti"), "validate", *args, "--server", live_server.url],
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = eti(str(NAV))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Not checked" not in ok.stdout and "conforms" in ok.stdout.lower()
    stranger = stranger_owned(tmp_path)
    bad = eti(str(stranger), "--format", "json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["counts"]["violation"] == 1
    junit = eti(str(stranger), "--format", "junit")
    assert junit.returncode == 1 and "<testsuite" in junit.stdout

    url = live_server.url + "/api/validate"
    body = {"data": NAV.read_bytes(), "headers": {"Content-Type": "application/trig"}}
    plain = requests.post(url, **body, timeout=60)
    assert plain.headers["ETI-Conforms"] == "true"
    assert any(r["severity"] == "Info" for r in plain.json()["results"])
    catalogue = requests.post(url, params={"context": "catalogue"}, **body, timeout=60)
    assert catalogue.status_code == 200 and catalogue.json()["results"] == []
    wrong = requests.post(url, params={"context": "everything"}, **body, timeout=60)
    assert wrong.status_code == 400 and "context must be one of" in wrong.json()["detail"]
