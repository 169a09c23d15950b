"""The steps the bench runs in child processes or over plain HTTP: registration with
validation in process (``register_bench.py``) and over HTTP, and whole-catalogue
validation (``validate_bench.py``) with a time limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import generate
import mix
import peers
import requests

HERE = Path(__file__).resolve().parent


def register_in_process(
    store: Path, kind: str, count: int, *, seed: int, profile: Path | None = None
) -> dict:
    """``register_bench.py`` on ``store`` in a child process: ``count`` registrations of
    ``kind`` (lean or full) products; ``profile``: where its pyinstrument profile goes."""
    cmd = [
        sys.executable,
        str(HERE / "register_bench.py"),
        "--store",
        str(store),
        "--count",
        str(count),
        "--kind",
        kind,
        "--seed",
        str(seed),
    ]
    if profile is not None:
        cmd += ["--profile", str(profile)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"registration bench failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def register_http(
    server: peers.Server, token: str, org: str, count: int, *, seed: int, log=print
) -> dict:
    """``count`` registrations over HTTP (``POST /api/products``) as the steward of
    ``org`` (after 3 not counted); the times in ms and the statuses."""
    gen = generate.Generator(seed)
    chosen = next(o for o in gen.orgs if o.orgnr == org)
    session = requests.Session()
    # a read first: the steward's view exists, so every write below keeps it
    session.post(
        server.url,
        data=mix.TRIVIAL_ASK.encode(),
        headers={
            "Content-Type": "application/sparql-query",
            "Authorization": f"Bearer {token}",
        },
        timeout=600,
    ).raise_for_status()
    times, statuses = [], []
    n = 0
    while len(times) < count + 3 and n < 100 * (count + 3):
        product = gen.product(n, lean=True, prefix="http-")
        n += 1
        if product.owner.orgnr != chosen.orgnr:
            continue
        body = generate.product_trig(product)
        started = time.perf_counter()
        r = session.post(
            server.base + "/api/products",
            data=body,
            headers={"Content-Type": "application/trig", "Authorization": f"Bearer {token}"},
            timeout=120,
        )
        times.append((time.perf_counter() - started) * 1000)
        statuses.append(r.status_code)
        if r.status_code != 201:
            log(f"POST /api/products answered {r.status_code}: {r.text[:300]}")
    return {"times_ms": times[3:], "statuses": statuses[3:]}


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) the process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def validate(
    folder: Path, engine: str, cap: float, work: Path, cpu_cap: float | None = None
) -> dict:
    """``validate_bench.py ENGINE`` on the catalogue in ``folder``, stopped ``cap``
    seconds after it parsed its input, or once it has used ``cpu_cap`` CPU seconds since
    (a stopped run reports both, ``cpu_s`` the steadier on a shared machine)."""
    out = work / f"validation-{engine}-{folder.name}.json"
    out.unlink(missing_ok=True)
    script = str(HERE / "validate_bench.py")
    cmd = [sys.executable, script, engine, str(folder / "catalogue.nq"), str(out)]
    log = work / f"validation-{engine}-{folder.name}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
    # the limits count from the end of parsing (the child prints "parsed")
    started, cpu0 = None, 0.0
    while process.poll() is None:
        if started is None and "parsed" in log.read_text():
            started, cpu0 = time.perf_counter(), _cpu(process.pid)
        if started is not None:
            wall, cpu = time.perf_counter() - started, _cpu(process.pid) - cpu0
            if wall > cap or (cpu_cap is not None and cpu > cpu_cap):
                process.kill()
                process.wait()
                return {
                    "engine": engine,
                    "capped": True,
                    "cap_s": round(wall, 1),
                    "cpu_s": round(cpu, 1),
                }
        time.sleep(0.2)
    if process.returncode != 0 or not out.exists():
        return {"engine": engine, "failed": log.read_text()[-2000:]}
    data = json.loads(out.read_text())
    data["capped"] = False
    return data
