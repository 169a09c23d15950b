"""``eti validate`` and ``POST /api/validate``: the same verdicts, and clear refusals."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from conftest import BIN, SHARED, needs_shared
from rdflib.namespace import DCTERMS, RDF, SH

from eti.catalogue.cli import cli
from eti.catalogue.fetch import FetchError, fetch

GOOD = b"""@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<https://e.example/c> a dcat:Catalog ; dct:title "K"@nb ; dct:description "D"@nb ;
  dct:identifier "c" ; dct:publisher <https://data.brreg.no/enhetsregisteret/api/enheter/889640782> ;
  dcat:dataset <https://e.example/d> .
<https://e.example/d> a dcat:Dataset ; dct:title "T"@nb ; dct:description "D"@nb ;
  dct:identifier "d" ; dct:publisher <https://data.brreg.no/enhetsregisteret/api/enheter/889640782> ;
  dcat:theme <http://publications.europa.eu/resource/authority/data-theme/SOCI> .
"""
BAD = GOOD.replace(b'dct:description "D"@nb ;\n  dct:identifier "d"', b'dct:identifier "d"')


def shared_files() -> list[Path]:
    if not SHARED.exists():
        return []
    return sorted(p for d in ("dcat-ap-no", "validator-service") for p in (SHARED / d).iterdir())


def cli_verdict(path: Path) -> int:
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--profile", "dcat-ap-no", "--as-of", "2026-11-22"]
    )
    return result.exit_code


def http_verdict(client, path: Path) -> int:  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        response = client.post(
            "/api/validate?profile=dcat-ap-no&as_of=2026-11-22",
            data={"file": (handle, path.name)},
            content_type="multipart/form-data",
        )
    if response.status_code >= 400:
        return 2
    return 0 if response.json["conforms"] else 1


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/conformance is absent")
@pytest.mark.parametrize("path", shared_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cli_and_http_give_the_same_verdict(client, path: Path) -> None:
    assert cli_verdict(path) == http_verdict(client, path)


def test_body_by_content_type_and_report_formats(client) -> None:
    ok = client.post("/api/validate?profile=dcat-ap-no", data=GOOD, content_type="text/turtle")
    assert ok.status_code == 200 and ok.json["conforms"] is True
    bad = client.post("/api/validate?profile=dcat-ap-no", data=BAD, content_type="text/turtle")
    assert bad.json["conforms"] is False
    assert any(
        r["path"] == "dct:description" or "description" in (r["path"] or "")
        for r in bad.json["results"]
    )
    turtle = client.post(
        "/api/validate?profile=dcat-ap-no",
        data=BAD,
        content_type="text/turtle",
        headers={"Accept": "text/turtle"},
    )
    assert turtle.mimetype == "text/turtle" and b"sh:ValidationReport" in turtle.data
    html = client.post(
        "/api/validate?profile=dcat-ap-no",
        data=BAD,
        content_type="text/turtle",
        headers={"Accept": "text/html"},
    )
    assert html.mimetype == "text/html" and b"dct:description" in html.data


def test_cli_formats_and_exit_codes(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.ttl", tmp_path / "bad.ttl"
    good.write_bytes(GOOD)
    bad.write_bytes(BAD)
    runner = CliRunner()
    assert runner.invoke(cli, ["validate", str(good), "--profile", "dcat-ap-no"]).exit_code == 0
    result = runner.invoke(
        cli, ["validate", str(bad), "--profile", "dcat-ap-no", "--format", "junit"]
    )
    assert result.exit_code == 1 and "<testsuite" in result.output and "<failure" in result.output
    json_out = runner.invoke(
        cli, ["validate", str(bad), "--profile", "dcat-ap-no", "--format", "json"]
    )
    assert '"conforms": false' in json_out.output
    stdin = runner.invoke(
        cli, ["validate", "-", "--input-format", "turtle", "--profile", "dcat-ap-no"], input=GOOD
    )
    assert stdin.exit_code == 0
    no_format = runner.invoke(cli, ["validate", "-"], input=GOOD)
    assert no_format.exit_code == 2 and "--input-format" in no_format.output


BAD_INPUTS = [
    ("not RDF", b"%PDF-1.7 binary", "application/pdf", 415),
    ("no content type", GOOD, None, 415),
    ("wrong declared format", b'{"@id": "x"', "text/turtle", 400),
    ("empty body", b"", "text/turtle", 400),
    (
        "JSON-LD remote context",
        b'{"@context": "http://127.0.0.1:9/ctx.jsonld", "@id": "http://e/a", "name": "x"}',
        "application/ld+json",
        400,
    ),
    (
        "RDF/XML external entity",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM '
        b'"file:///etc/passwd">]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns:e="http://e/"><rdf:Description rdf:about="http://e/a"><e:p>&x;</e:p>'
        b"</rdf:Description></rdf:RDF>",
        "application/rdf+xml",
        400,
    ),
    ("invalid UTF-8", b'<http://e/a> <http://e/p> "\xff\xfe" .', "application/n-triples", 400),
]


@pytest.mark.parametrize(
    ("case", "body", "media", "status"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_inputs_get_a_clear_4xx(client, case, body, media, status) -> None:
    headers = {"Content-Type": media} if media else {}
    response = client.post("/api/validate", data=body, headers=headers)
    assert response.status_code == status, response.json
    assert response.json["error"] and response.json["detail"]
    if case == "RDF/XML external entity":
        assert "root:" not in response.data.decode()


def test_bad_parameters(client) -> None:
    assert (
        client.post("/api/validate?profile=nope", data=GOOD, content_type="text/turtle").status_code
        == 400
    )
    assert (
        client.post(
            "/api/validate?as_of=tomorrow", data=GOOD, content_type="text/turtle"
        ).status_code
        == 400
    )


def test_oversize_body_is_413(app, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = client.post("/api/validate", data=GOOD, content_type="text/turtle")
    assert response.status_code == 413


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[Path, int, list[str]]]:
    """A loopback HTTP server serving a folder; redirects /go/<port> to that loopback port
    and /metadata to the link-local metadata address. Records every path it was asked."""
    seen: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if self.path.startswith("/go/"):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{self.path[4:]}/x.ttl")
                self.end_headers()
                return
            if self.path == "/metadata":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_url_input(app, client, web) -> None:
    folder, port, _ = web
    (folder / "c.ttl").write_bytes(GOOD)
    refused = client.post("/api/validate", data={"url": f"http://127.0.0.1:{port}/c.ttl"})
    assert refused.status_code == 400 and "private" in refused.json["detail"]
    app.config["SETTINGS"].allow_private_urls = True
    ok = client.post(
        "/api/validate", data={"url": f"http://127.0.0.1:{port}/c.ttl", "profile": "dcat-ap-no"}
    )
    assert ok.status_code == 200 and ok.json["conforms"] is True
    missing = client.post("/api/validate", data={"url": f"http://127.0.0.1:{port}/none.ttl"})
    assert missing.status_code == 400 and "404" in missing.json["detail"]
    silent = client.post("/api/validate", data={"url": "http://127.0.0.1:9/c.ttl"})
    assert silent.status_code == 400 and "does not answer" in silent.json["detail"]
    scheme = client.post("/api/validate", data={"url": "file:///etc/passwd"})
    assert scheme.status_code == 400


def test_redirects_to_private_addresses_are_refused_before_connecting(web) -> None:
    import socket

    _, port, seen = web
    exempt = frozenset({f"127.0.0.1:{port}"})
    with pytest.raises(FetchError, match=r"169\.254\.169\.254"):
        fetch(f"http://127.0.0.1:{port}/metadata", allow_hosts=exempt)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.3)
    target = listener.getsockname()[1]
    try:
        with pytest.raises(FetchError, match="private, loopback"):
            fetch(f"http://127.0.0.1:{port}/go/{target}", allow_hosts=exempt)
        with pytest.raises(TimeoutError):
            listener.accept()  # the redirect target was never contacted
    finally:
        listener.close()
    assert seen == ["/metadata", f"/go/{target}"]


# --- the command line against the same bad inputs ------------------------------------------

MEDIA_EXTENSIONS = {
    "application/pdf": ".pdf",
    "text/turtle": ".ttl",
    "application/ld+json": ".jsonld",
    "application/rdf+xml": ".rdf",
    "application/n-triples": ".nt",
    None: "",
}
CLI_MESSAGES = {
    "not RDF": "cannot tell the RDF format",
    "no content type": "cannot tell the RDF format",
    "wrong declared format": "is not a valid subject",
    "empty body": "the input is empty",
    "JSON-LD remote context": "remote JSON-LD @context <http://127.0.0.1:9/ctx.jsonld> is "
    "not fetched; inline the context",
    "RDF/XML external entity": "XML external entity 'x' is not accepted",
    "invalid UTF-8": "Invalid UTF-8",
}


@pytest.mark.parametrize(
    ("case", "body", "media", "status"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_inputs_exit_2_on_the_command_line(tmp_path: Path, case, body, media, status) -> None:
    """The HTTP front's bad inputs as files: exit 2 and the same reason, no report."""
    path = tmp_path / f"input{MEDIA_EXTENSIONS[media]}"
    path.write_bytes(body)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and CLI_MESSAGES[case] in result.stderr
    assert result.stdout == ""
    if case == "RDF/XML external entity":
        assert "root:" not in result.output


def test_a_remote_json_ld_context_is_named_on_both_fronts(client, tmp_path: Path) -> None:
    """Regression: the refusal was pyoxigraph's "No LoadDocumentCallback has been set to
    load remote contexts", which tells a steward nothing."""
    body = (
        b'{"@context": [{"ex": "http://e/"}, "https://schema.example/ctx"], '
        b'"@id": "http://e/a", "ex:name": "x"}'
    )
    wanted = "remote JSON-LD @context <https://schema.example/ctx> is not fetched"
    response = client.post("/api/validate", data=body, content_type="application/ld+json")
    assert response.status_code == 400
    assert wanted in response.json["detail"]["reason"]
    assert "LoadDocumentCallback" not in response.get_data(as_text=True)
    path = tmp_path / "remote.jsonld"
    path.write_bytes(body)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2 and wanted in result.stderr
    assert "LoadDocumentCallback" not in result.output


def test_an_input_over_max_body_exits_2_naming_the_limit(tmp_path: Path) -> None:
    """Regression: ``eti validate`` read a file or standard input of any size, while the
    HTTP front refuses a body over ``max_body``."""
    path = tmp_path / "c.ttl"
    path.write_bytes(GOOD)
    runner = CliRunner()
    limit = {"ETI_MAX_BODY": str(len(GOOD) - 1)}
    too_big = runner.invoke(cli, ["validate", str(path), "--profile", "dcat-ap-no"], env=limit)
    assert too_big.exit_code == 2, too_big.output
    assert f"larger than the limit of {len(GOOD) - 1} bytes (max_body" in too_big.stderr
    stdin = runner.invoke(cli, ["validate", "-", "--input-format", "turtle"], input=GOOD, env=limit)
    assert stdin.exit_code == 2 and "<stdin> is larger than the limit" in stdin.stderr
    fits = {"ETI_MAX_BODY": str(len(GOOD))}
    assert (
        runner.invoke(cli, ["validate", str(path), "--profile", "dcat-ap-no"], env=fits).exit_code
        == 0
    )
    assert (
        runner.invoke(
            cli,
            ["validate", "-", "--input-format", "turtle", "--profile", "dcat-ap-no"],
            input=GOOD,
            env=fits,
        ).exit_code
        == 0
    )


ILL_TYPED = b"""@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://e.example/d> a dcat:Dataset ; dct:title "T"@nb ; dct:modified "yesterday"^^xsd:date .
"""


def _validate_in_a_process(path: Path, *args: str) -> subprocess.CompletedProcess:
    # a process of its own: in pytest, logging goes to pytest's handlers, not to stderr
    return subprocess.run(
        [str(BIN / "eti"), "validate", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_ill_typed_literal_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    """Regression: rdflib logged a Python traceback on stderr for "yesterday"^^xsd:date."""
    path = tmp_path / "ill.ttl"
    path.write_bytes(ILL_TYPED)
    proc = _validate_in_a_process(path, "--profile", "dcat-ap-no", "--as-of", "2026-11-22")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stderr == ""
    assert 'value: "yesterday"^^xsd:date' in proc.stdout  # the modified-date shape's finding


def test_the_upstream_all_classes_example_validates_without_tracebacks() -> None:
    """Regression: exAlleKlasser.ttl (ill-typed xsd:duration and xsd:decimal values) filled
    stderr with rdflib tracebacks."""
    path = needs_shared("cpsv-ap-no/exAlleKlasser.ttl")
    proc = _validate_in_a_process(path, "--as-of", "2026-11-22", "--format", "json")
    assert proc.returncode in (0, 1)
    assert "Traceback" not in proc.stderr and "Failed to convert" not in proc.stderr
    assert '"conforms"' in proc.stdout


def test_cli_turtle_report_is_a_shacl_validation_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_bytes(BAD)
    result = CliRunner().invoke(
        cli, ["validate", str(bad), "--profile", "dcat-ap-no", "--format", "turtle"]
    )
    assert result.exit_code == 1
    report = rdflib.Graph().parse(data=result.stdout, format="turtle")
    top = report.value(predicate=RDF.type, object=SH.ValidationReport)
    assert top is not None
    assert report.value(top, SH.conforms).toPython() is False
    paths = {report.value(r, SH.resultPath) for r in report.objects(top, SH.result)}
    assert DCTERMS.description in paths


def test_cli_text_report_fits_a_terminal_and_says_the_verdict(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.ttl", tmp_path / "bad.ttl"
    good.write_bytes(GOOD)
    bad.write_bytes(BAD)
    runner = CliRunner()
    ok = runner.invoke(cli, ["validate", str(good), "--profile", "dcat-ap-no", "--format", "text"])
    assert ok.exit_code == 0 and ok.stdout.startswith("Conforms: 0 errors")
    text = runner.invoke(cli, ["validate", str(bad), "--profile", "dcat-ap-no", "--format", "text"])
    assert text.exit_code == 1 and text.stdout.startswith("Does NOT conform: 1 errors")
    assert "https://e.example/d  (dcat:Dataset)" in text.stdout
    assert "  dct:description\n    ERROR    " in text.stdout
    assert max(len(line) for line in text.stdout.splitlines()) <= 100
    nb = runner.invoke(cli, ["validate", str(bad), "--profile", "dcat-ap-no", "--lang", "nb"])
    assert nb.stdout.startswith("IKKE i samsvar") and "FEIL" in nb.stdout


# --- the two fronts agree on every shapes case ---------------------------------------------

CASES = Path(__file__).parent / "shapes_cases"
CASE_FILES = sorted(p for p in CASES.glob("*/*.ttl"))
PROFILE_CHOICES = [None, "dcat-ap-no", "dprod", "agreements", "eti"]


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The HTTP front over an empty catalogue (validation reads no store), shared by the
    parity cases."""
    from eti.catalogue.config import Settings
    from eti.catalogue.core import Catalogue
    from eti.server import create_app

    settings = Settings.load(
        env={}, store=str(tmp_path_factory.mktemp("validator") / "store"), query_workers=0
    )
    cat = Catalogue(settings)
    cat.prepare(demo_if_empty=False)
    app = create_app(settings, cat)
    app.config["TESTING"] = True
    yield app.test_client()
    cat.close()


def _findings(report: dict) -> set[tuple]:
    return {
        (r["resource"], r["focus"], r["path"], r["shape"], r["severity"]) for r in report["results"]
    }


@pytest.mark.parametrize("profile", PROFILE_CHOICES, ids=lambda p: p or "all")
@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cli_and_http_agree_on_every_shapes_case(validator, path: Path, profile) -> None:
    """Same verdict and the same (focus, shape) findings from ``eti validate`` and
    ``POST /api/validate``, per profile and for all four."""
    args = ["--profile", profile] if profile else []
    cli_run = CliRunner().invoke(
        cli, ["validate", str(path), "--as-of", "2026-11-22", "--format", "json", *args]
    )
    assert cli_run.exit_code in (0, 1), cli_run.output
    from_cli = json.loads(cli_run.stdout)
    query = "?as_of=2026-11-22" + (f"&profile={profile}" if profile else "")
    with path.open("rb") as handle:
        response = validator.post(
            "/api/validate" + query,
            data={"file": (handle, path.name)},
            content_type="multipart/form-data",
        )
    assert response.status_code == 200, response.json
    from_http = response.json
    assert from_cli["conforms"] is from_http["conforms"]
    assert cli_run.exit_code == (0 if from_http["conforms"] else 1)
    assert _findings(from_cli) == _findings(from_http)
    assert from_cli["counts"] == from_http["counts"]


def test_progress_bar_goes_to_stderr_on_request_and_leaves_the_report_alone(
    tmp_path: Path,
) -> None:
    """``--progress`` shows the validation's stages on standard error; without it (and
    standard error not a terminal) nothing is shown; the report is the same either way."""
    bad = tmp_path / "bad.ttl"
    bad.write_bytes(BAD)
    runner = CliRunner()
    args = ["validate", str(bad), "--profile", "dcat-ap-no", "--format", "json"]
    plain = runner.invoke(cli, args)
    shown = runner.invoke(cli, [*args, "--progress"])
    assert plain.exit_code == shown.exit_code == 1
    assert plain.stderr == ""
    for stage in ("preparing", "validating", "reading", "scoring"):
        assert stage in shown.stderr, shown.stderr
    assert json.loads(shown.stdout) == json.loads(plain.stdout)
    assert runner.invoke(cli, [*args, "--no-progress"]).stderr == ""
