"""The claims of ``docs/security.md`` that no other test proved, and a check that every
test the notes name exists (so a renamed or deleted test cannot leave a claim unproved).

Per actor: a compromised steward token's changes are attributed to its token id and an
admin brings the earlier version back; no route mints tokens; a channel cannot accept its
own request; every write route refuses an anonymous caller; a revoked token fails on its
next request; only token hashes are stored; a live backup leaves out the system graph
(tokens and harvest sources) while ``eti dump`` of a stopped store keeps it.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import bearer
from rdflib.compare import isomorphic

from eti.catalogue import harvest
from eti.catalogue.auth import TokenTable
from eti.catalogue.cli import cli
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.server import create_app

ROOT = Path(__file__).resolve().parents[1]
SECURITY = ROOT / "docs" / "security.md"
NAV, HDIR = "889640782", "983544622"
PRODUCT = "https://eti.example/products/nav-pleiepenger"
TEMPLATE = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_bytes()
DEFACED = TEMPLATE.replace(
    b'"Pleiepenger for sykt barn"@nb', b'"Pleiepenger: ring dette nummeret"@nb', 1
)
NAV_NO = "https://eti.example/channels/nav-no"
PPT_OFFER = "https://eti.example/offers/flekkefjord-ppt"
SERVICE = "https://w3id.org/dpv#ServiceProvision"
CURRENT_AGENT = f"""
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?record ?version WHERE {{
  ?r foaf:primaryTopic <{PRODUCT}> ; dcat:hasCurrentVersion ?v ;
     prov:wasAttributedTo ?record .
  ?v prov:wasAttributedTo ?version .
}}"""


def dump(catalogue: Catalogue) -> bytes:
    out = io.BytesIO()
    catalogue.store.dump(out)
    return out.getvalue()


def title(client) -> str:  # type: ignore[no-untyped-def]
    query = f'SELECT ?t WHERE {{ <{PRODUCT}> <http://purl.org/dc/terms/title> ?t FILTER(LANG(?t) = "nb") }}'
    rows = client.get("/sparql", query_string={"query": query}).json["results"]["bindings"]
    return rows[0]["t"]["value"]


# --- a compromised steward token ------------------------------------------------------------


def test_a_compromised_steward_tokens_changes_are_attributed_to_its_id(client, catalogue) -> None:
    table = TokenTable(catalogue.store)
    token_id, secret = table.create("steward", org=NAV, name="stolen laptop")
    changed = client.put(
        "/api/products/nav-pleiepenger",
        data=DEFACED,
        headers=bearer(secret, **{"Content-Type": "application/trig"}),
    )
    assert changed.status_code == 200, changed.json
    agent = f"urn:eti:agent:steward:{token_id}"
    versions = client.get("/api/products/nav-pleiepenger/history").json["versions"]
    assert versions[-1]["version"] == changed.json["version"]
    assert versions[-1]["agent"] == agent
    assert all(v["agent"] != agent for v in versions[:-1])
    rows = client.get("/sparql", query_string={"query": CURRENT_AGENT}).json["results"]["bindings"]
    assert [(r["record"]["value"], r["version"]["value"]) for r in rows] == [(agent, agent)]
    assert token_id in {t["id"] for t in table.list()}  # the id names a token an admin can revoke


def test_an_admin_restores_the_version_before_a_compromised_change(client, catalogue) -> None:
    """The way back is a PUT of the earlier version (``/versions/<n>``) by an admin: a new
    version whose description and content equal the earlier one."""
    table = TokenTable(catalogue.store)
    steward, admin = table.create("steward", org=NAV)[1], table.create("admin")[1]
    good = client.get("/api/products/nav-pleiepenger").json["version"]
    original = title(client)
    earlier = client.get(
        f"/api/products/nav-pleiepenger/versions/{good}",
        headers=bearer(admin, Accept="application/n-triples"),
    )
    assert earlier.status_code == 200
    bad = client.put(
        "/api/products/nav-pleiepenger",
        data=DEFACED,
        headers=bearer(steward, **{"Content-Type": "application/trig"}),
    )
    assert bad.status_code == 200 and title(client) != original
    restored = client.put(
        "/api/products/nav-pleiepenger",
        data=earlier.data,
        headers=bearer(admin, **{"Content-Type": "application/n-triples"}),
    )
    assert restored.status_code == 200, restored.json
    assert restored.json["version"] == bad.json["version"] + 1
    assert title(client) == original
    now = client.get(
        f"/api/products/nav-pleiepenger/versions/{restored.json['version']}",
        headers=bearer(admin, Accept="application/n-triples"),
    )
    before, after = (rdflib.Graph().parse(data=r.data, format="nt") for r in (earlier, now))
    assert isomorphic(before, after)


def test_earlier_versions_are_for_the_owners_stewards_and_admins(client, catalogue) -> None:
    table = TokenTable(catalogue.store)
    path = "/api/products/nav-pleiepenger/versions/1"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer(table.create("steward", org=HDIR)[1])).status_code == 403
    channel = table.create("channel", channel=NAV_NO)[1]
    assert client.get(path, headers=bearer(channel)).status_code == 403
    assert client.get(path, headers=bearer(table.create("steward", org=NAV)[1])).status_code == 200
    assert client.get(path, headers=bearer(table.create("admin")[1])).status_code == 200


# --- tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/token", "/tokens", "/api/admin/tokens", "/oauth/token", "/api/auth"]
)
def test_no_route_mints_tokens(client, catalogue, path: str) -> None:
    admin = TokenTable(catalogue.store).create("admin")[1]
    before = dump(catalogue)
    for method in ("POST", "PUT", "GET"):
        response = client.open(path, method=method, json={"role": "admin"}, headers=bearer(admin))
        assert response.status_code in (404, 405), (method, path, response.status_code)
    assert dump(catalogue) == before


def test_the_only_token_routes_are_the_admin_token_api(app, client) -> None:
    rules = {rule.rule for rule in app.url_map.iter_rules() if "token" in rule.rule.lower()}
    assert rules == {"/api/tokens", "/api/tokens/<ident>"}
    paths = client.get("/api/openapi.json").json["paths"]
    described = {p: item for p, item in paths.items() if "token" in p.lower()}
    assert set(described) == {"/api/tokens", "/api/tokens/{ident}"}
    assert all(op["security"] for item in described.values() for op in item.values())


def test_only_an_admin_mints_lists_or_revokes_tokens_over_http(client, catalogue) -> None:
    table = TokenTable(catalogue.store)
    callers = {
        "anonymous": ({}, 401),
        "steward": (bearer(table.create("steward", org=NAV)[1]), 403),
        "channel": (bearer(table.create("channel", channel=NAV_NO)[1]), 403),
    }
    victim = table.create("steward", org=NAV)[0]
    before = dump(catalogue)
    for who, (headers, status) in callers.items():
        for method, path, body in (
            ("POST", "/api/tokens", {"role": "admin"}),
            ("GET", "/api/tokens", None),
            ("DELETE", f"/api/tokens/{victim}", None),
        ):
            answer = client.open(path, method=method, json=body, headers=headers)
            assert answer.status_code == status, (who, method, answer.status_code)
    assert dump(catalogue) == before
    admin = bearer(table.create("admin")[1])
    made = client.post("/api/tokens", json={"role": "admin"}, headers=admin)
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    secret = made.json["token"]
    assert client.get("/api/tokens", headers=bearer(secret)).status_code == 200
    listed = client.get("/api/tokens", headers=admin).get_data(as_text=True)
    assert secret not in listed and secret.split("_")[-1] not in listed
    assert client.delete(f"/api/tokens/{victim}", headers=admin).status_code == 204
    bad = client.post("/api/tokens", json={"role": "steward", "org": "12"}, headers=admin)
    assert bad.status_code == 400 and "--" not in bad.json["detail"]


def test_a_revoked_token_fails_on_its_next_request(client, catalogue) -> None:
    table = TokenTable(catalogue.store)
    token_id, secret = table.create("steward", org=NAV)
    assert client.get("/api/agreements", headers=bearer(secret)).status_code == 200
    table.revoke(token_id)
    refused = client.get("/api/agreements", headers=bearer(secret))
    assert refused.status_code == 401


def test_only_token_hashes_are_stored(catalogue) -> None:
    token_id, token = TokenTable(catalogue.store).create("admin")
    secret = token.removeprefix(f"eti_{token_id}_")  # the token is eti_<id>_<secret>
    stored = dump(catalogue)
    assert secret != token and secret.encode() not in stored
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored


# --- channels and anonymous callers -----------------------------------------------------------


def test_a_channel_cannot_accept_or_refuse_its_own_request(client, catalogue) -> None:
    channel = TokenTable(catalogue.store).create("channel", channel=NAV_NO)[1]
    asked = client.post(
        "/api/agreements",
        json={"offer": PPT_OFFER, "purpose": SERVICE, "start": "2026-12-01", "end": "2027-11-30"},
        headers=bearer(channel),
    )
    assert asked.status_code == 201 and asked.json["status"] == "requested", asked.json
    before = dump(catalogue)
    for action in ("accept", "refuse"):
        response = client.post(
            f"/api/agreements/{asked.json['id']}/{action}", headers=bearer(channel)
        )
        assert response.status_code == 403, response.json
    assert dump(catalogue) == before
    mine = client.get(f"/api/agreements/{asked.json['id']}", headers=bearer(channel))
    assert mine.json["status"] == "requested"


# Routes that take POST without writing the catalogue: queries, validation, the pages'
# forms (their writes go through the same checks, behind a session and a CSRF token).
READS_BY_POST = {
    "sparql.sparql",
    "validate.validate_view",
    "pages.query",
    "pages.validate",
    "pages.signin",
    "pages.signout",
}
PAGE_FORMS = {"pages.agreements_page", "steward.new", "steward.edit", "steward.mine"}
EXAMPLE_VALUES = {
    "ident": "nav-pleiepenger",
    "number": "1",
    "action": "accept",
    "name": "notes",
}


def write_routes(app) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(endpoint, method, URL) of every route that can change the catalogue."""
    out = []
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods & {"POST", "PUT", "DELETE", "PATCH"})
        if not methods or rule.endpoint in READS_BY_POST:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<[^>]*\b{arg}>", EXAMPLE_VALUES[arg], url)
        for method in methods:
            out.append((rule.endpoint, method, url))
    return out


def test_every_write_route_refuses_an_anonymous_caller(app, client, catalogue) -> None:
    """Data-driven from the URL map, so a route added later is checked too."""
    routes = write_routes(app)
    assert len(routes) >= 12
    before = dump(catalogue)
    for endpoint, method, url in routes:
        response = client.open(
            url, method=method, data=b"<urn:x:s> <urn:x:p> 1 .", content_type="text/turtle"
        )
        expected = {400, 403} if endpoint in PAGE_FORMS else {401}  # no session: CSRF fails
        assert response.status_code in expected, (method, url, response.status_code)
    assert dump(catalogue) == before


def test_anonymous_readers_see_no_agreement_history_or_system_graph(client, catalogue) -> None:
    query = (
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        'FILTER(STRSTARTS(STR(?g), "urn:eti:graph:agreement") '
        '|| STRSTARTS(STR(?g), "urn:eti:graph:history") || ?g = <urn:eti:graph:system>) }'
    )
    rows = client.get("/sparql", query_string={"query": query}).json["results"]["bindings"]
    assert rows == []
    assert client.get("/api/agreements").status_code == 401
    assert client.get("/api/agreements/nav-no-nav-pleiepenger").status_code == 401
    graphs = {q.graph_name.value for q in ox.parse(client.get("/data").data, ox.RdfFormat.N_QUADS)}
    assert graphs and not [
        g for g in graphs if g.startswith(("urn:eti:graph:agreement", "urn:eti:graph:history"))
    ]


# --- backups ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_live_backup_leaves_out_tokens_and_harvest_sources_but_eti_dump_keeps_them(
    tmp_path: Path, runner
) -> None:
    """docs/security.md and the README's backup section say so: a restore of ``GET /data``
    needs its harvest sources added again (and new tokens)."""
    store = tmp_path / "store"
    settings = Settings.load(env={}, store=str(store), query_workers=0)
    cat = Catalogue(settings)
    cat.prepare(demo_if_empty=False)
    source = "https://data.example/nav/catalog.ttl"
    harvest.add_source(cat.store, source, NAV)
    admin = TokenTable(cat.store).create("admin")[1]
    cat.close()

    offline = runner.invoke(cli, ["dump", "--store", str(store)])
    assert offline.exit_code == 0, offline.output
    assert "<urn:eti:graph:system>" in offline.output and source in offline.output

    cat = Catalogue(settings)
    try:
        app = create_app(settings, cat)
        live = app.test_client().get("/data", headers=bearer(admin, Accept="application/n-quads"))
        assert live.status_code == 200
        assert b"<urn:eti:graph:system>" not in live.data
        assert source.encode() not in live.data
    finally:
        cat.close()


# --- the notes name only tests that exist -----------------------------------------------------

CITED = re.compile(r"`(test_\w+\.py)(?:::(test_\w+)(?:\[([^\]`]+)\])?)?`")


def test_every_test_the_security_notes_name_exists() -> None:
    text = SECURITY.read_text(encoding="utf-8")
    cited = CITED.findall(text)
    assert len({(f, n) for f, n, _ in cited if n}) >= 30, "the notes cite too few tests"
    defined: dict[str, set[str]] = {}
    missing = []
    for file, name, case in cited:
        path = ROOT / "tests" / file
        if not path.exists():
            missing.append(file)
            continue
        if not name:
            continue
        if file not in defined:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            defined[file] = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        if name not in defined[file]:
            missing.append(f"{file}::{name}")
        elif case and (file, name) == ("test_hostile.py", "test_hostile_case"):
            if case not in hostile_case_names():
                missing.append(f"{file}::{name}[{case}]")
        elif case and file == "test_oidc.py":
            import test_oidc  # tests/ is on the path, as for conftest

            if case not in test_oidc.BAD:
                missing.append(f"{file}::{name}[{case}]")
    assert missing == [], "docs/security.md names tests that do not exist"
    bare = re.findall(r"`(test_\w+)`", text)  # a name without its file cannot be checked
    assert bare == [], f"name the file of {bare}"


def hostile_case_names() -> set[str]:
    import test_hostile  # tests/ is on the path, as for conftest

    return {c.name for c in test_hostile.CASES}
