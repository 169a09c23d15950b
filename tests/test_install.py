"""Every way of installing the catalogue serves (issue 20, items 1 and 11): a plain
editable install, a strict editable install and a wheel, each into a fresh virtual
environment, then ``eti serve`` on a free loopback port answers ``/healthz`` and a page.

The fresh environments take their dependencies from the test's own environment (a ``.pth``
line), so only the catalogue itself is built and installed, with this environment's pip;
no package index is needed beyond the build requirements pip already caches."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import requests
from conftest import ROOT, free_port, stop, wait_http

MODES = {
    "plain_editable": ["-e", "{src}"],
    "strict_editable": ["-e", "{src}", "--config-settings", "editable_mode=strict"],
    "wheel": ["{src}"],
}

# What setuptools may say on a clean install: its notice that an install is editable
# (printed for every editable install of any project) and nothing else.
NOTICE = re.compile(
    r"BuildBackendWarning: Editable installation|^\s*!!\s*$|^\s*\*+\s*$|"
    r"Please be careful|name as your package|precedence during imports|"
    r"Strict editable installation|build/__editable__|not remove this directory|"
    r"to import/use your package|with strategy, WheelFile"
)


def copy_checkout(dest: Path) -> Path:
    """The checkout's files as git sees them (tracked and new, not ignored): a fresh clone
    that also holds uncommitted work."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            target = dest / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def fresh_venv(path: Path) -> Path:
    """A new virtual environment whose dependencies are this environment's packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "zz-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def alarming(output: str) -> list[str]:
    """Lines of an install's output that warn of something, other than the notice above."""
    return [
        line
        for line in output.splitlines()
        if re.search(r"warn|would be ignored|absent from the|deprecat|error", line, re.I)
        and not NOTICE.search(line)
    ]


@pytest.mark.parametrize("mode", list(MODES))
def test_pip_install_e_cannot_serve_every_install_mode_serves_healthz(
    mode: str, tmp_path: Path
) -> None:
    src = copy_checkout(tmp_path / "src")
    python = fresh_venv(tmp_path / "venv")
    args = [a.format(src=src) for a in MODES[mode]]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # item 11: a clean install says nothing alarming (setuptools warned six times,
    # "Package would be ignored", for the data folders)
    assert alarming(output) == [], output

    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    env.update(HOME=str(home), ETI_LOG_LEVEL="WARNING", ETI_QUERY_WORKERS="0")
    proc = subprocess.Popen(
        [python.parent / "eti", "serve", "--store", tmp_path / "store", "--port", str(port)],
        cwd=tmp_path,  # not the checkout: the install, not the folder, must provide eti
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/healthz", proc, timeout=60)
        assert requests.get(url + "/healthz", timeout=10).status_code == 200
        page = requests.get(url + "/query", timeout=30)
        assert page.status_code == 200 and "<!doctype html>" in page.text.lower()
        assert requests.get(url + "/static/eti.css", timeout=10).status_code == 200
    finally:
        stop(proc)
    # item 11: gunicorn's control socket is off, so nothing is written into ~/.gunicorn/
    assert not (home / ".gunicorn").exists()
