"""docs/deploy.md's recipe, run as written: its ``sh`` blocks in order, in one shell, with
free loopback ports and a temporary ``ETI_DATA``; then the catalogue moved embedded →
remote → embedded must hold the same quads."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import BIN, ROOT, free_port

from eti.catalogue.namespaces import VIEW_PREFIX, VIEWS

pytestmark = pytest.mark.slow

DOC = ROOT / "docs" / "deploy.md"


def recipe() -> str:
    """The doc's ``sh`` blocks, in order."""
    return "\n".join(re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S))


def _quads(path: Path) -> set[ox.Quad]:
    """The dump's quads but the per-caller views': a restore builds the admin's (derived,
    as any read builds one), the only graphs it adds."""
    quads = ox.parse(path.read_bytes(), ox.RdfFormat.N_QUADS)
    dataset = ox.Dataset(
        q
        for q in quads
        if not (q.graph_name.value == VIEWS or q.graph_name.value.startswith(VIEW_PREFIX))
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def test_the_deployment_recipe_runs_as_written(tmp_path: Path) -> None:
    script = recipe()
    assert "haproxy -f deploy/haproxy.cfg" in script and "eti restore" in script
    ports = " ".join(str(free_port()) for _ in range(3))
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "ETI_DATA": str(tmp_path / "data"),
        "STORE_PORT": str(free_port()),
        "LB_PORT": str(free_port()),
        "PROCESS_PORTS": ports,
        "ETI_LOG_LEVEL": "WARNING",
    }
    (tmp_path / "data").mkdir()
    shell = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the servers it starts stay in its group
    )
    try:
        out, _ = shell.communicate(timeout=300)
        assert shell.returncode == 0, out.decode(errors="replace")[-3000:]
    finally:
        try:
            os.killpg(shell.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    data = tmp_path / "data"
    again = tmp_path / "again.nq"
    done = subprocess.run(
        [str(BIN / "eti"), "dump", "--store", str(data / "embedded-again"), "-o", str(again)],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    original = _quads(data / "catalogue.nq")
    assert len(original) > 1000
    assert _quads(data / "backup.nq") == original  # through the remote store and back
    assert _quads(again) == original
