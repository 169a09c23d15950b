"""JWT access tokens from configured issuers (Maskinporten-shaped), behind the same
identity interface as static tokens: keys made here, a JWKS served on loopback over HTTP
and read from a file, RFC 6750 errors, provenance of JWT writes, channel bindings."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from conftest import TEST_DAY, free_port, prepare_store, start_server, stop
from cryptography.hazmat.primitives import serialization
from test_registration import product

from eti.catalogue import bindings, clock, devtoken, oidc
from eti.catalogue.auth import TokenTable
from eti.catalogue.cli_identity import channel as channel_cli
from eti.catalogue.cli_identity import dev_token
from eti.catalogue.config import Settings
from eti.catalogue.devtoken import DevIssuer, claims
from eti.catalogue.namespaces import RECORDS
from eti.server import create_app

NAV, HDIR, VENDOR = "889640782", "983544622", "912345678"
HTTP_ISSUER = "https://issuer.test/"  # keys over HTTP on loopback, RSA
FILE_ISSUER = "urn:eti:test-file-issuer"  # keys in a file, EC
AUDIENCE = "https://eti.example/"
APP = "https://eti.example/channels/familieapp"
PPT_OFFER = "https://eti.example/offers/flekkefjord-ppt"


class JwksServer:
    """A JWKS on a real HTTP server on loopback; counts the fetches."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwk"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


@pytest.fixture
def rsa_issuer(tmp_path: Path, jwks_server: JwksServer) -> DevIssuer:
    issuer = DevIssuer(tmp_path / "rsa", "RS256")
    jwks_server.keys = [issuer.jwk]
    return issuer


@pytest.fixture
def ec_issuer(tmp_path: Path) -> DevIssuer:
    return DevIssuer(tmp_path / "ec", "ES256")


class Clock:
    """A monotonic time source the test moves (for the JWKS refetch rate limit)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def oidc_settings(settings: Settings, jwks_server, rsa_issuer, ec_issuer) -> Settings:
    return dataclasses.replace(
        settings,
        oidc_issuer=HTTP_ISSUER,
        oidc_jwks=jwks_server.url,
        oidc_audience=[AUDIENCE],
        oidc=[{"issuer": FILE_ISSUER, "jwks": str(ec_issuer.jwks_path), "audience": AUDIENCE}],
    )


@pytest.fixture
def ticks() -> Clock:
    return Clock()


@pytest.fixture
def oidc_client(oidc_settings, catalogue, ticks):  # type: ignore[no-untyped-def]
    app = create_app(oidc_settings, catalogue)
    app.config["TESTING"] = True
    for keyset in app.extensions["eti.auth"].verifier.keysets.values():
        keyset.monotonic = ticks
    return app.test_client()


def mint(issuer: DevIssuer, **kwargs: Any) -> str:
    """A token of ``issuer`` for the catalogue's audience."""
    iss = HTTP_ISSUER if issuer.alg == "RS256" else FILE_ISSUER
    return issuer.token(**{"issuer": iss, "audience": AUDIENCE, **kwargs})


def bearer(token: str, media: str | None = "application/trig") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    return {**headers, "Content-Type": media} if media else headers


def records_about(catalogue, subject: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[str]] = {}
    for t in catalogue.store.triples(RECORDS):
        if t.subject.value == subject:
            out.setdefault(t.predicate.value, []).append(t.object.value)
    return out


PROV = "http://www.w3.org/ns/prov#"
BRREG = "https://data.brreg.no/enhetsregisteret/api/enheter/"


# --- stewards -------------------------------------------------------------------------------


def test_maskinporten_shaped_steward_token_registers_updates_own_and_is_refused_anothers(
    oidc_client, rsa_issuer, catalogue
) -> None:
    nav = mint(rsa_issuer, scope="eti:steward", org=NAV, client_id="nav-system")
    created = oidc_client.post("/api/products", data=product(), headers=bearer(nav))
    assert created.status_code == 201, created.json
    updated = oidc_client.put(
        "/api/products/nav-testprodukt", data=product(title="Ny tittel"), headers=bearer(nav)
    )
    assert updated.status_code == 200, updated.json
    hdir = mint(rsa_issuer, scope="eti:steward", org=HDIR, client_id="hdir-system")
    refused = oidc_client.put(
        "/api/products/nav-testprodukt", data=product(title="Kapret"), headers=bearer(hdir)
    )
    assert refused.status_code == 403 and NAV in refused.json["detail"]
    other = oidc_client.post("/api/products", data=product("nav-annet"), headers=bearer(hdir))
    assert other.status_code == 403
    # the records name the organisation and the client, as they name a static token's id
    agent = f"urn:eti:agent:steward:org:{NAV}:client:nav-system"
    versions = oidc_client.get("/api/products/nav-testprodukt/history").json["versions"]
    assert [v["agent"] for v in versions] == [agent, agent]
    record = records_about(catalogue, "urn:eti:record:nav-testprodukt")
    assert record[PROV + "wasAttributedTo"] == [agent]
    about = records_about(catalogue, agent)
    assert about[PROV + "actedOnBehalfOf"] == [BRREG + NAV]
    assert about["http://purl.org/dc/terms/identifier"] == ["nav-system"]


def test_ec_token_from_a_jwks_file_issuer_registers(oidc_client, ec_issuer) -> None:
    token = mint(ec_issuer, scope="eti:steward", org=NAV)
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    created = oidc_client.post("/api/products", data=product(), headers=bearer(token))
    assert created.status_code == 201, created.json


def test_delegated_write_records_supplier_acting_for_consumer(
    oidc_client, rsa_issuer, catalogue
) -> None:
    token = mint(rsa_issuer, scope="eti:steward", org=NAV, supplier=VENDOR, client_id="vendor-app")
    created = oidc_client.post("/api/products", data=product(), headers=bearer(token))
    assert created.status_code == 201, created.json
    agent = f"urn:eti:agent:steward:org:{NAV}:supplier:{VENDOR}:client:vendor-app"
    record = records_about(catalogue, "urn:eti:record:nav-testprodukt")
    assert record[PROV + "wasAttributedTo"] == [agent]
    assert records_about(catalogue, agent)[PROV + "actedOnBehalfOf"] == [BRREG + VENDOR]
    assert records_about(catalogue, BRREG + VENDOR)[PROV + "actedOnBehalfOf"] == [BRREG + NAV]


def test_static_tokens_keep_working_beside_oidc(oidc_client, catalogue) -> None:
    ident, token = TokenTable(catalogue.store).create("steward", org=NAV)
    created = oidc_client.post("/api/products", data=product(), headers=bearer(token))
    assert created.status_code == 201, created.json
    versions = oidc_client.get("/api/products/nav-testprodukt/history").json["versions"]
    assert versions[-1]["agent"] == f"urn:eti:agent:steward:{ident}"
    bad = oidc_client.post("/api/products", data=product(), headers=bearer("eti_0123_nope"))
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]


# --- channels and admins --------------------------------------------------------------------


def test_channel_scope_acts_for_the_channel_its_client_is_bound_to(
    oidc_client, rsa_issuer, catalogue
) -> None:
    token = mint(rsa_issuer, scope="eti:channel", client_id="familieapp-client")
    body = {"offer": PPT_OFFER, "purpose": "https://w3id.org/dpv#ServiceProvision"}
    body |= {"start": "2026-11-01", "end": "2027-10-31"}
    unbound = oidc_client.post("/api/agreements", json=body, headers=bearer(token, None))
    assert unbound.status_code == 403
    assert 'error="insufficient_scope"' in unbound.headers["WWW-Authenticate"]
    bindings.bind(catalogue.store, "familieapp-client", APP)
    asked = oidc_client.post("/api/agreements", json=body, headers=bearer(token, None))
    assert asked.status_code == 201, asked.json
    listing = oidc_client.get("/api/agreements", headers=bearer(token, None)).json
    assert asked.json["id"] in [a["id"] for a in listing["agreements"]]
    turtle = oidc_client.get(
        f"/api/agreements/{asked.json['id']}",
        headers={**bearer(token, None), "Accept": "application/n-triples"},
    ).get_data(as_text=True)
    assert "client:familieapp-client" in turtle  # the transition names the client too
    bindings.unbind(catalogue.store, "familieapp-client")
    again = oidc_client.get("/api/agreements", headers=bearer(token, None))
    assert again.status_code == 403


def test_channel_bindings_are_not_readable_through_sparql(oidc_client, rsa_issuer, catalogue):  # type: ignore[no-untyped-def]
    bindings.bind(catalogue.store, "secret-client", APP)
    admin = mint(rsa_issuer, scope="eti:admin")
    query = "ASK { GRAPH ?g { ?s <urn:eti:sys:clientId> ?id } }"
    for headers in ({}, bearer(admin, None)):
        answer = oidc_client.get("/sparql", query_string={"query": query}, headers=headers)
        assert answer.status_code == 200 and answer.json["boolean"] is False


def test_admin_scope_may_update_and_steward_scope_gets_insufficient_scope(
    oidc_client, rsa_issuer
) -> None:
    update = "INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> 1 } }"
    media = "application/sparql-update"
    admin = mint(rsa_issuer, scope="eti:admin")
    done = oidc_client.post("/update", data=update, headers=bearer(admin, media))
    assert done.status_code == 204, done.data
    steward = mint(rsa_issuer, scope="eti:steward", org=NAV)
    refused = oidc_client.post("/update", data=update, headers=bearer(steward, media))
    assert refused.status_code == 403
    challenge = refused.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="eti:admin"' in challenge


def test_token_without_a_usable_scope_reads_as_anonymous_and_writes_get_403(
    oidc_client, rsa_issuer
) -> None:
    token = mint(rsa_issuer, scope="other:scope", org=NAV)
    read = oidc_client.get("/sparql", query_string={"query": "ASK {}"}, headers=bearer(token, None))
    assert read.status_code == 200
    write = oidc_client.post("/api/products", data=product(), headers=bearer(token))
    assert write.status_code == 403
    challenge = write.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="eti:steward eti:admin"' in challenge
    # a steward scope without the consumer's organisation is no steward either
    orgless = mint(rsa_issuer, scope="eti:steward")
    assert (
        oidc_client.post("/api/products", data=product(), headers=bearer(orgless)).status_code
        == 403
    )


# --- bad tokens -----------------------------------------------------------------------------


def _other_key_same_kid(issuer: DevIssuer, payload: dict[str, Any]) -> str:
    return jwt.encode(payload, devtoken.new_key("RS256"), "RS256", headers={"kid": issuer.kid})


def _alg_none(issuer: DevIssuer, payload: dict[str, Any]) -> str:
    return jwt.encode(payload, None, "none", headers={"kid": issuer.kid})


def _hs256_with_public_key(issuer: DevIssuer, payload: dict[str, Any]) -> str:
    # the classic confusion: the RSA public key (PEM) used as an HMAC secret; PyJWT
    # refuses to sign with it, so the signature is made with hmac by hand
    import base64
    import hashlib
    import hmac

    pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": "HS256", "typ": "JWT", "kid": issuer.kid}
    signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    signature = hmac.new(pem, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64(signature)


def _rs384(issuer: DevIssuer, payload: dict[str, Any]) -> str:
    return jwt.encode(payload, issuer.key, "RS384", headers={"kid": issuer.kid})


def _payload(**changes: Any) -> dict[str, Any]:
    base = claims(issuer=HTTP_ISSUER, audience=AUDIENCE, scope="eti:steward", org=NAV)
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


NOW = lambda: int(clock.now().timestamp())  # noqa: E731

BAD = {
    "expired": (lambda i: i.sign(_payload(exp=NOW() - 120, iat=NOW() - 720)), "has expired"),
    "not yet valid": (lambda i: i.sign(_payload(nbf=NOW() + 600)), "not valid yet"),
    "issued in the future": (lambda i: i.sign(_payload(iat=NOW() + 600)), "in the future"),
    "wrong audience": (lambda i: i.sign(_payload(aud="https://other.example/")), "(aud)"),
    "untrusted issuer": (lambda i: i.sign(_payload(iss="https://evil.example/")), "not trusted"),
    "bad signature": (lambda i: _other_key_same_kid(i, _payload()), "does not verify"),
    "unknown key": (lambda i: i.sign(_payload(), kid="no-such-kid"), "key is unknown"),
    "no kid": (lambda i: jwt.encode(_payload(), i.key, "RS256"), "no signing key"),
    "malformed": (lambda i: "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl", "malformed token"),
    "no exp": (lambda i: i.sign(_payload(exp=None)), "no exp claim"),
    "no client": (lambda i: i.sign(_payload(client_id=None)), "no client_id claim"),
    "alg none": (lambda i: _alg_none(i, _payload()), "algorithm is not accepted"),
    "HS256 with the public key": (
        lambda i: _hs256_with_public_key(i, _payload()),
        "algorithm is not accepted",
    ),
    "unconfigured alg RS384": (lambda i: _rs384(i, _payload()), "algorithm is not accepted"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_token_is_401_invalid_token_and_never_echoed(
    case: str, oidc_client, rsa_issuer, caplog
) -> None:
    make, description = BAD[case]
    token = make(rsa_issuer)
    caplog.set_level(logging.DEBUG)
    for response in (
        oidc_client.post("/api/products", data=product(), headers=bearer(token)),
        oidc_client.get("/api/agreements", headers=bearer(token, None)),
    ):
        assert response.status_code == 401, (case, response.data)
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith(
            'Bearer realm="eti", error="invalid_token", error_description="'
        )
        assert description in challenge and description in response.json["detail"]
        assert token not in response.get_data(as_text=True) and token not in challenge
        for part in token.split(".")[1:]:
            assert not part or part not in response.get_data(as_text=True)
    assert token not in caplog.text


def test_clock_skew_lets_a_just_expired_token_through(oidc_client, rsa_issuer) -> None:
    just = rsa_issuer.sign(_payload(exp=NOW() - 30, iat=NOW() - 630))
    assert (
        oidc_client.post("/api/products", data=product(), headers=bearer(just)).status_code == 201
    )


def test_token_times_are_checked_against_the_catalogues_clock_not_the_machines(
    oidc_client, rsa_issuer
) -> None:
    """With the catalogue's clock years behind the machine's, a token timed by the
    catalogue's clock passes and one timed by the machine's (``time.time()``) does not."""
    clock.use("2020-01-01")
    try:
        by_catalogue = mint(rsa_issuer, scope="eti:steward", org=NAV)
        ok = oidc_client.get("/api/agreements", headers=bearer(by_catalogue, None))
        assert ok.status_code == 200, ok.json
        machine = int(time.time())
        by_machine = rsa_issuer.sign(_payload(iat=machine, nbf=machine, exp=machine + 600))
        refused = oidc_client.get("/api/agreements", headers=bearer(by_machine, None))
        assert refused.status_code == 401 and "not valid yet" in refused.json["detail"]
    finally:
        clock.use(TEST_DAY)


# --- keys: refetch on an unknown kid, rate-limited -------------------------------------------


def test_unknown_kid_refetches_once_and_a_flood_does_not_refetch_each_time(
    oidc_client, rsa_issuer, jwks_server, ticks, tmp_path
) -> None:
    first = mint(rsa_issuer, scope="eti:steward", org=NAV)
    assert (
        oidc_client.post("/api/products", data=product(), headers=bearer(first)).status_code == 201
    )
    assert jwks_server.hits == 1
    rotated = DevIssuer(tmp_path / "rotated", "RS256")  # the issuer rotates to a new key
    jwks_server.keys = [rsa_issuer.jwk, rotated.jwk]
    ticks.t += oidc.REFETCH_INTERVAL + 1
    token = mint(rotated, scope="eti:steward", org=NAV)
    assert oidc_client.get("/api/agreements", headers=bearer(token, None)).status_code == 200
    assert jwks_server.hits == 2  # one refetch found the new key
    for n in range(25):
        flood = rsa_issuer.sign(_payload(), kid=f"unknown-{n}")
        assert oidc_client.get("/api/agreements", headers=bearer(flood, None)).status_code == 401
    assert jwks_server.hits == 2  # a flood of unknown kids did not refetch each time
    ticks.t += oidc.REFETCH_INTERVAL + 1
    late = rsa_issuer.sign(_payload(), kid="unknown-late")
    assert oidc_client.get("/api/agreements", headers=bearer(late, None)).status_code == 401
    assert jwks_server.hits == 3  # after the interval, one more


def test_unreachable_jwks_is_503_not_401_or_500(settings, catalogue, rsa_issuer) -> None:
    dead = dataclasses.replace(
        settings,
        oidc_issuer=HTTP_ISSUER,
        oidc_jwks=f"http://127.0.0.1:{free_port()}/jwk",
        oidc_audience=[AUDIENCE],
    )
    client = create_app(dead, catalogue).test_client()
    token = mint(rsa_issuer, scope="eti:steward", org=NAV)
    response = client.get("/api/agreements", headers=bearer(token, None))
    assert response.status_code == 503 and response.headers["Retry-After"]


def test_jwks_with_symmetric_or_private_keys_uses_neither() -> None:
    keys = oidc._usable_keys(
        {
            "keys": [
                {"kty": "oct", "kid": "k1", "k": "c2VjcmV0"},
                {"kty": "RSA", "kid": "k2", "use": "enc", "n": "AQAB", "e": "AQAB"},
            ]
        }
    )
    assert keys == {}


# --- settings, CLI ---------------------------------------------------------------------------


def test_settings_from_environment_and_toml_tables(tmp_path: Path) -> None:
    env = {
        "ETI_OIDC_ISSUER": "https://test.maskinporten.no/",
        "ETI_OIDC_JWKS": "https://test.maskinporten.no/jwk",
        "ETI_OIDC_AUDIENCE": "https://eti.example/,eti",
    }
    loaded = oidc.issuers(Settings.load(env=env))
    assert loaded == [
        oidc.Issuer(
            "https://test.maskinporten.no/",
            "https://test.maskinporten.no/jwk",
            ("https://eti.example/", "eti"),
            ("RS256", "ES256"),
        )
    ]
    toml = tmp_path / "eti.toml"
    toml.write_text(
        "[eti]\noidc_clock_skew = 10\n"
        '[[eti.oidc]]\nissuer = "https://maskinporten.no/"\njwks = "https://maskinporten.no/jwk"\n'
        'audience = ["https://eti.example/"]\nalgorithms = ["RS256"]\n'
        '[[eti.oidc]]\nissuer = "urn:eti:dev-issuer"\njwks = "var/dev-issuer/jwks.json"\n'
        'audience = "eti"\n'
    )
    settings = Settings.load(toml, env={})
    assert settings.oidc_clock_skew == 10
    assert [(i.issuer, i.algorithms) for i in oidc.issuers(settings)] == [
        ("https://maskinporten.no/", ("RS256",)),
        ("urn:eti:dev-issuer", ("RS256", "ES256")),
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ETI_OIDC_ISSUER": "https://i/", "ETI_OIDC_JWKS": "https://i/jwk"}, "audience"),
        ({"ETI_OIDC_ISSUER": "https://i/", "ETI_OIDC_AUDIENCE": "a"}, "jwks"),
        ({"ETI_OIDC_JWKS": "https://i/jwk", "ETI_OIDC_AUDIENCE": "a"}, "issuer is empty"),
        (
            {
                "ETI_OIDC_ISSUER": "i",
                "ETI_OIDC_JWKS": "http://i.example/jwk",
                "ETI_OIDC_AUDIENCE": "a",
            },
            "https",
        ),
        (
            {
                "ETI_OIDC_ISSUER": "i",
                "ETI_OIDC_JWKS": "f.json",
                "ETI_OIDC_AUDIENCE": "a",
                "ETI_OIDC_ALGORITHMS": "RS256,HS256",
            },
            "HS256",
        ),
        (
            {
                "ETI_OIDC_ISSUER": "i",
                "ETI_OIDC_JWKS": "f.json",
                "ETI_OIDC_AUDIENCE": "a",
                "ETI_OIDC_ALGORITHMS": "none",
            },
            "none",
        ),
    ],
)
def test_oidc_settings_that_do_not_hold_are_refused_by_name(env, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="setting oidc") as error:
        Settings.load(env=env)
    assert message in str(error.value)


def test_dev_token_cli_mints_a_token_the_printed_settings_accept(
    runner, tmp_path, catalogue
) -> None:
    keys = tmp_path / "dev"
    result = runner.invoke(dev_token, ["--org", NAV, "--keys", str(keys), "--alg", "ES256"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert "ETI_OIDC_JWKS=" + str((keys / "jwks.json").resolve()) in result.stderr
    env = dict(part.split("=", 1) for part in result.stderr.split("\n")[1].split())
    accepting = oidc.authenticator(Settings.load(env=env), catalogue.store)
    who = accepting.authenticate(token)
    assert (who.role, who.org, who.client_id) == ("steward", NAV, "dev-client")
    assert oct((keys / devtoken.KEY_FILE).stat().st_mode & 0o777) == "0o600"
    again = runner.invoke(dev_token, ["--org", NAV, "--keys", str(keys)])  # the same key pair
    kid = jwt.get_unverified_header(token)["kid"]
    assert jwt.get_unverified_header(again.stdout.strip()) == {
        "alg": "ES256",
        "kid": kid,
        "typ": "JWT",
    }
    bad = runner.invoke(dev_token, ["--org", "12"])
    assert bad.exit_code == 2 and "9-digit" in bad.output


def test_channel_cli_binds_lists_and_unbinds(runner, tmp_path) -> None:
    store = ["--store", str(tmp_path / "store")]
    bound = runner.invoke(channel_cli, ["bind", "client-1", APP, *store])
    assert bound.exit_code == 0, bound.output
    listed = runner.invoke(channel_cli, ["list", *store])
    assert listed.output.startswith(f"client-1  {APP}  ")
    assert runner.invoke(channel_cli, ["unbind", "client-1", *store]).exit_code == 0
    assert runner.invoke(channel_cli, ["list", *store]).output == ""
    gone = runner.invoke(channel_cli, ["unbind", "client-1", *store])
    assert gone.exit_code == 2 and "bound to no channel" in gone.output
    bad = runner.invoke(channel_cli, ["bind", "has space", APP, *store])
    assert bad.exit_code == 2 and "client id" in bad.output


# --- live: a real eti serve -----------------------------------------------------------------


def test_live_server_accepts_a_dev_token_and_answers_bad_ones_by_rfc6750(
    tmp_path: Path, jwks_server, rsa_issuer
) -> None:
    store = tmp_path / "live-store"
    prepare_store(store)
    env = {
        "ETI_OIDC_ISSUER": HTTP_ISSUER,
        "ETI_OIDC_JWKS": jwks_server.url,
        "ETI_OIDC_AUDIENCE": AUDIENCE,
        "ETI_LOG_LEVEL": "DEBUG",
    }
    url, proc = start_server(store, env)
    try:
        token = mint(rsa_issuer, scope="eti:steward", org=NAV, client_id="nav-live")
        created = requests.post(
            url + "/api/products", data=product(), headers=bearer(token), timeout=30
        )
        assert created.status_code == 201, created.text
        expired = rsa_issuer.sign(_payload(exp=NOW() - 3600, iat=NOW() - 4200))
        refused = requests.get(url + "/api/agreements", headers=bearer(expired, None), timeout=30)
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        assert expired not in refused.text
    finally:
        stop(proc)
    log = (store.parent / "server.log").read_text(errors="replace")
    assert '"client": "nav-live"' in log  # the request log names the client ...
    assert token not in log and expired not in log  # ... never the token
