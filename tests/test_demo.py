"""The demo catalogue (package data of eti.catalogue.demo): it parses, it is complete, its
facts hang together, and its example queries give the answers a channel integrator expects.

No network: every file is read from the installed package and queried in memory."""

import re
from collections.abc import Iterator
from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable

import pyoxigraph as ox
import pytest

from eti.catalogue import clock
from eti.catalogue.demo import WRITTEN_ON
from eti.catalogue.search import sparql_functions

DEMO = files("eti.catalogue.demo")

AGENTS_GRAPH = "urn:eti:graph:agents"
LIFE_EVENT = "https://psi.norge.no/los/hendelse/alvorlig-sykt-barn"
FLEKKEFJORD_ORG = "https://data.brreg.no/enhetsregisteret/api/enheter/964967369"
FLEKKEFJORD_PLACE = "https://eti.example/places/kommune/4207"
ORG_PREFIX = "https://data.brreg.no/enhetsregisteret/api/enheter/"
TODAY = WRITTEN_ON  # the files' dates are written as of this day

PREFIXES = """
PREFIX adms: <http://www.w3.org/ns/adms#>
PREFIX cpsv: <http://purl.org/vocab/cpsv#>
PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dprod: <https://ekgf.github.io/dprod/>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX eti: <https://w3id.org/eti#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX odrl: <http://www.w3.org/ns/odrl/2/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX vcard: <http://www.w3.org/2006/vcard/ns#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


# ------------------------------------------------------------------ loading


def product_files() -> list[Traversable]:
    return sorted(
        (f for f in DEMO.joinpath("products").iterdir() if f.name.endswith(".trig")),
        key=lambda f: f.name,
    )


def agreement_files() -> list[Traversable]:
    return sorted(
        (f for f in DEMO.joinpath("agreements").iterdir() if f.name.endswith(".ttl")),
        key=lambda f: f.name,
    )


def query_files() -> list[Traversable]:
    return sorted(
        (f for f in DEMO.joinpath("queries").iterdir() if f.name.endswith(".rq")),
        key=lambda f: f.name,
    )


def stem(f: Traversable) -> str:
    return f.name.rsplit(".", 1)[0]


def product_quads(f: Traversable) -> Iterator[ox.Quad]:
    """A product file's quads, its default graph moved to urn:eti:graph:product:{id}."""
    graph = ox.NamedNode(f"urn:eti:graph:product:{stem(f)}")
    for q in ox.parse(input=f.read_bytes(), format=ox.RdfFormat.TRIG):
        if isinstance(q.graph_name, ox.DefaultGraph):
            yield ox.Quad(q.subject, q.predicate, q.object, graph)
        else:
            yield q


def load_demo() -> ox.Store:
    store = ox.Store()
    store.load(
        input=DEMO.joinpath("agents.ttl").read_bytes(),
        format=ox.RdfFormat.TURTLE,
        to_graph=ox.NamedNode(AGENTS_GRAPH),
    )
    for f in product_files():
        store.extend(product_quads(f))
    for f in agreement_files():
        store.load(
            input=f.read_bytes(),
            format=ox.RdfFormat.TURTLE,
            to_graph=ox.NamedNode(f"urn:eti:graph:agreement:{stem(f)}"),
        )
    return store


@pytest.fixture(scope="module")
def store() -> ox.Store:
    return load_demo()


def select(store: ox.Store, query: str) -> list[dict[str, str]]:
    """Rows of a SELECT over the union of all graphs, values as plain strings."""
    result = store.query(PREFIXES + query, use_default_graph_as_union=True)
    variables = [v.value for v in result.variables]
    return [
        {name: row[name].value for name in variables if row[name] is not None} for row in result
    ]


def run_example(store: ox.Store, name: str) -> list[dict[str, str]]:
    text = DEMO.joinpath("queries", name).read_text(encoding="utf-8")
    result = store.query(text, use_default_graph_as_union=True, custom_functions=sparql_functions())
    variables = [v.value for v in result.variables]
    return [{v: row[v].value for v in variables if row[v] is not None} for row in result]


def valid_orgnr(number: str) -> bool:
    """Enhetsregisteret's modulus-11 check digit."""
    if not re.fullmatch(r"[89]\d{8}", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:8], (3, 2, 7, 6, 5, 4, 3, 2), strict=True))
    check = 11 - total % 11
    return check != 10 and (check % 11) == int(number[8])


# ------------------------------------------------------------------- files


def test_layout() -> None:
    assert DEMO.joinpath("agents.ttl").is_file()
    assert len(product_files()) >= 12
    assert len(agreement_files()) >= 6
    assert len(query_files()) >= 3
    names = {f.name for f in query_files()}
    assert "flekkefjord-continuous-care.rq" in names


@pytest.mark.parametrize("f", product_files(), ids=stem)
def test_product_file_has_description_and_one_content_graph(f: Traversable) -> None:
    quads = list(ox.parse(input=f.read_bytes(), format=ox.RdfFormat.TRIG))
    default = [q for q in quads if isinstance(q.graph_name, ox.DefaultGraph)]
    named = {q.graph_name.value for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)}
    assert default, "the default graph holds the product description"
    assert named == {f"urn:eti:graph:content:{stem(f)}"}
    product = ox.NamedNode(f"https://eti.example/products/{stem(f)}")
    assert any(q.subject == product for q in default)


@pytest.mark.parametrize("f", agreement_files(), ids=stem)
def test_agreement_file_parses(f: Traversable) -> None:
    triples = list(ox.parse(input=f.read_bytes(), format=ox.RdfFormat.TURTLE))
    agreement = ox.NamedNode(f"https://eti.example/agreements/{stem(f)}")
    assert any(t.subject == agreement for t in triples)


def test_agents_parse() -> None:
    assert list(
        ox.parse(input=DEMO.joinpath("agents.ttl").read_bytes(), format=ox.RdfFormat.TURTLE)
    )


# ------------------------------------------------------------------ agents


def test_at_least_five_producers_with_valid_organisation_numbers(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT DISTINCT ?org ?id WHERE {
          ?product a dprod:DataProduct ; dprod:dataProductOwner ?org .
          GRAPH <urn:eti:graph:agents> { ?org a foaf:Organization ; dct:identifier ?id }
        }""",
    )
    assert len(rows) >= 5
    for row in rows:
        assert valid_orgnr(row["id"]), row
        assert row["org"] == ORG_PREFIX + row["id"]
    assert FLEKKEFJORD_ORG in {r["org"] for r in rows}


def test_organisations_are_named_in_three_languages(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?org (GROUP_CONCAT(DISTINCT LANG(?name)) AS ?langs) WHERE {
          GRAPH <urn:eti:graph:agents> { ?org a foaf:Organization ; foaf:name ?name ;
                                             foaf:homepage ?home }
        } GROUP BY ?org""",
    )
    assert len(rows) >= 6
    for row in rows:
        assert set(row["langs"].split()) >= {"nb", "nn", "en"}, row


def test_four_channels_with_publisher_and_information_need(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?channel ?publisher ?need ?area WHERE {
          GRAPH <urn:eti:graph:agents> {
            ?channel a eti:InformationChannel ; dct:publisher ?publisher ;
                     eti:hasInformationNeed ?need .
            ?publisher a foaf:Organization .
            ?need a eti:InformationNeed ; cv:isGroupedBy ?event ; dcat:theme ?theme ;
                  dct:spatial ?area .
          }
          FILTER(?event = <%s>)
        }"""
        % LIFE_EVENT,
    )
    channels = {r["channel"] for r in rows}
    assert channels == {
        f"https://eti.example/channels/{c}"
        for c in ("helsenorge", "nav-no", "flekkefjord-kommune-no", "familieapp")
    }
    publishers = {r["channel"].rsplit("/", 1)[1]: r["publisher"] for r in rows}
    assert publishers["helsenorge"] == ORG_PREFIX + "994598759"  # Norsk helsenett SF
    assert publishers["nav-no"] == ORG_PREFIX + "889640782"
    assert publishers["flekkefjord-kommune-no"] == FLEKKEFJORD_ORG
    assert publishers["familieapp"].startswith("https://familieapp.example/")


def test_flekkefjord_lies_in_norway(store: ox.Store) -> None:
    rows = select(
        store,
        f"""SELECT ?id ?whole WHERE {{ <{FLEKKEFJORD_PLACE}> dct:identifier ?id ;
                                                             dct:isPartOf ?whole }}""",
    )
    assert rows == [
        {"id": "4207", "whole": "http://publications.europa.eu/resource/authority/country/NOR"}
    ]


def test_family_app_says_it_is_fictional(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?s ?nb ?nn ?en ?home WHERE {
          ?s foaf:homepage ?home ;
             dct:description ?nb, ?nn, ?en .
          FILTER(STRSTARTS(STR(?home), "https://familieapp.example/"))
          FILTER(LANG(?nb) = "nb" && LANG(?nn) = "nn" && LANG(?en) = "en")
        }""",
    )
    subjects = {r["s"] for r in rows}
    assert subjects == {
        "https://eti.example/channels/familieapp",
        "https://familieapp.example/organisasjon",
    }
    for row in rows:
        assert "fiktiv" in row["nb"].lower()
        assert "fiktiv" in row["nn"].lower()
        assert "fictional" in row["en"].lower()
    no_orgnr = select(
        store, "SELECT ?id WHERE { <https://familieapp.example/organisasjon> dct:identifier ?id }"
    )
    assert no_orgnr == []


# ---------------------------------------------------------------- products


def test_products_are_complete(store: ox.Store) -> None:
    ids = [stem(f) for f in product_files()]
    rows = select(
        store,
        """
        SELECT ?product ?id ?owner ?publisher ?modified ?issued ?version ?status ?access
               ?dataset ?port ?endpoint ?offer ?freq ?spatial ?contact
               (GROUP_CONCAT(DISTINCT LANG(?title)) AS ?titleLangs)
               (GROUP_CONCAT(DISTINCT LANG(?kw)) AS ?kwLangs)
        WHERE {
          ?product a dprod:DataProduct ; dct:identifier ?id ; dct:title ?title ;
                   dct:description ?desc ;
                   dprod:dataProductOwner ?owner ; dct:publisher ?publisher ;
                   dct:modified ?modified ; dct:issued ?issued ; dcat:version ?version ;
                   adms:status ?status ; dct:accessRights ?access ;
                   dct:accrualPeriodicity ?freq ; dct:spatial ?spatial ;
                   dcat:keyword ?kw ; dcat:contactPoint ?contact ;
                   dprod:outputDataset ?dataset ; dprod:outputPort ?port ; odrl:hasPolicy ?offer .
          ?contact a vcard:Organization ; vcard:fn ?fn .
          ?dataset a dcat:Dataset ; dcat:distribution ?dist .
          ?dist a dcat:Distribution ; dcat:accessURL ?access_url ; dct:format ?format ;
                dct:license ?licence .
          ?port a dcat:DataService ; dcat:endpointURL ?endpoint ; dcat:servesDataset ?dataset .
        } GROUP BY ?product ?id ?owner ?publisher ?modified ?issued ?version ?status ?access
                   ?dataset ?port ?endpoint ?offer ?freq ?spatial ?contact""",
    )
    assert sorted(r["id"] for r in rows) == sorted(ids)
    for r in rows:
        assert r["product"] == f"https://eti.example/products/{r['id']}"
        assert r["owner"] == r["publisher"]
        assert set(r["titleLangs"].split()) >= {"nb", "nn", "en"}, r["id"]
        assert set(r["kwLangs"].split()) >= {"nb", "nn"}, r["id"]
        modified = date.fromisoformat(r["modified"])
        assert date(2026, 6, 1) <= modified <= date(2026, 11, 15), r["id"]
        assert date.fromisoformat(r["issued"]) <= modified
        assert r["version"] == "1.0.0"
        assert r["status"].endswith("/distribution-status/COMPLETED")
        assert r["access"].endswith("/access-right/PUBLIC")
        assert r["freq"].startswith("http://publications.europa.eu/resource/authority/frequency/")
        assert r["dataset"] == r["product"] + "/dataset"
        assert r["port"] == r["product"] + "/sparql"
        assert r["endpoint"] == "https://eti.example/sparql"
        assert r["offer"] == f"https://eti.example/offers/{r['id']}"


def test_products_carry_eu_and_los_themes(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?product (GROUP_CONCAT(STR(?theme); separator=" ") AS ?themes) WHERE {
          ?product a dprod:DataProduct ; dcat:theme ?theme .
        } GROUP BY ?product""",
    )
    for r in rows:
        themes = r["themes"].split()
        assert any("/authority/data-theme/" in t for t in themes), r
        assert any(t.startswith("https://psi.norge.no/los/") for t in themes), r


def test_at_least_five_producers_own_products(store: ox.Store) -> None:
    rows = select(
        store,
        "SELECT DISTINCT ?owner WHERE { ?p a dprod:DataProduct ; dprod:dataProductOwner ?owner }",
    )
    assert len(rows) >= 5


def test_every_product_has_non_empty_content(store: ox.Store) -> None:
    for f in product_files():
        graph = ox.NamedNode(f"urn:eti:graph:content:{stem(f)}")
        services = list(
            store.quads_for_pattern(
                None,
                ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                ox.NamedNode("http://purl.org/vocab/cpsv#PublicService"),
                graph,
            )
        )
        assert services, stem(f)


def test_products_are_authoritative_for_exactly_their_own_services(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?product ?service ?graph WHERE {
          GRAPH ?graph { ?service a cpsv:PublicService }
          OPTIONAL { ?product eti:isAuthoritativeSourceFor ?service }
        }""",
    )
    assert len(rows) >= 20
    for r in rows:
        pid = r["graph"].removeprefix("urn:eti:graph:content:")
        assert r.get("product") == f"https://eti.example/products/{pid}", r
        assert r["service"].startswith(f"https://eti.example/products/{pid}/services/")


def test_offers_open_for_national_producers_agreement_for_flekkefjord(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?product ?owner ?offer ?uid ?assigner ?target ?purpose ?open WHERE {
          ?product dprod:dataProductOwner ?owner ; odrl:hasPolicy ?offer .
          ?offer a odrl:Offer ; odrl:uid ?uid ; odrl:assigner ?assigner ; odrl:target ?target ;
                 odrl:permission ?perm .
          ?perm odrl:action odrl:use ; odrl:constraint ?c ; odrl:duty ?d1, ?d2 .
          ?c odrl:leftOperand odrl:purpose ; odrl:operator odrl:eq ; odrl:rightOperand ?purpose .
          ?d1 odrl:action odrl:attribute .
          ?d2 odrl:action eti:refresh .
          BIND(EXISTS { ?offer a eti:OpenOffer } AS ?open)
        }""",
    )
    assert len({r["product"] for r in rows}) == len(product_files())
    for r in rows:
        assert r["uid"] == r["offer"]
        assert r["assigner"] == r["owner"]
        assert r["target"] == r["product"]
        assert r["purpose"] == "https://w3id.org/dpv#ServiceProvision"
        is_open = r["open"] == "true"
        assert is_open == (r["owner"] != FLEKKEFJORD_ORG), r["product"]


# ---------------------------------------------------------------- services


def test_every_public_service_is_complete(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?service ?authority ?spatial ?event
               (GROUP_CONCAT(DISTINCT LANG(?title)) AS ?titleLangs)
               (GROUP_CONCAT(DISTINCT LANG(?desc)) AS ?descLangs)
               (COUNT(DISTINCT ?legal) AS ?legals)
               (COUNT(DISTINCT ?page) AS ?pages)
               (COUNT(DISTINCT ?reqText) AS ?reqTexts)
               (COUNT(DISTINCT ?url) AS ?urls)
               (COUNT(DISTINCT ?area) AS ?areas)
        WHERE {
          ?service a cpsv:PublicService ; dct:identifier ?sid ; dct:title ?title ;
                   dct:description ?desc ; cv:hasCompetentAuthority ?authority ;
                   cv:isGroupedBy ?event ; dct:spatial ?spatial ; cv:thematicArea ?area ;
                   cv:contactPoint ?cp .
          OPTIONAL { ?service cv:hasLegalResource ?legal .
                     ?legal a eli:LegalResource ; dct:title ?lt ; rdfs:seeAlso ?page . }
          OPTIONAL { ?service cv:holdsRequirement ?req .
                     ?req a cv:Requirement ; dct:title ?rt ; dct:description ?reqText . }
          OPTIONAL { ?service cv:hasChannel ?ch . ?ch a cv:Channel ; dct:type ?ct ;
                                                   vcard:hasURL ?url . }
        } GROUP BY ?service ?authority ?spatial ?event""",
    )
    assert len(rows) >= 20
    for r in rows:
        name = r["service"]
        assert set(r["titleLangs"].split()) >= {"nb", "nn"}, name
        assert set(r["descLangs"].split()) >= {"nb", "nn"}, name
        assert int(r["legals"]) >= 1, f"{name} has no legal resource"
        assert int(r["pages"]) >= 1, f"{name} has no link to the law"
        assert int(r["reqTexts"]) >= 2, f"{name} needs a requirement in nb and nn"
        assert int(r["urls"]) >= 1, f"{name} has no channel"
        assert int(r["areas"]) >= 1
        assert r["event"] == LIFE_EVENT
        assert r["authority"].startswith(ORG_PREFIX)
        if r["authority"] == FLEKKEFJORD_ORG:
            assert r["spatial"] == FLEKKEFJORD_PLACE
        else:
            assert r["spatial"].endswith("/country/NOR")


def test_legal_resources_link_to_lovdata(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT DISTINCT ?legal ?page ?nb ?nn WHERE {
          ?legal a eli:LegalResource ; rdfs:seeAlso ?page ; dct:title ?nb, ?nn .
          FILTER(LANG(?nb) = "nb" && LANG(?nn) = "nn")
        }""",
    )
    assert rows
    for r in rows:
        assert r["page"].startswith("https://lovdata.no/"), r
        assert r["legal"].startswith("https://eti.example/legal/")


def test_pleiepenger_rests_on_folketrygdloven_9_10(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?title ?page ?req WHERE {
          <https://eti.example/products/nav-pleiepenger/services/pleiepenger-sykt-barn>
              cv:hasLegalResource ?legal ; cv:holdsRequirement/dct:description ?req .
          ?legal dct:title ?title ; rdfs:seeAlso ?page .
          FILTER(LANG(?title) = "nb" && LANG(?req) = "nb")
        }""",
    )
    by_title = {r["title"]: r["page"] for r in rows}
    assert by_title["Folketrygdloven § 9-10"] == "https://lovdata.no/lov/1997-02-28-19/§9-10"
    assert all(
        "under 18 år" in r["req"] and "kontinuerlig tilsyn og pleie" in r["req"] for r in rows
    )


# -------------------------------------------------------------- agreements


def agreements(store: ox.Store) -> list[dict[str, str]]:
    return select(
        store,
        """
        SELECT ?agreement ?uid ?assigner ?assignee ?target ?offer ?status ?start ?end ?issued
               ?invalidated ?owner ?offerOfTarget ?purpose ?graph
        WHERE {
          GRAPH ?graph {
            ?agreement a odrl:Agreement ; odrl:uid ?uid ; odrl:assigner ?assigner ;
                       odrl:assignee ?assignee ; odrl:target ?target ;
                       prov:wasDerivedFrom ?offer ; eti:agreementStatus ?status ;
                       dct:issued ?issued ; dct:temporal ?t ; odrl:permission ?perm .
            ?t dcat:startDate ?start ; dcat:endDate ?end .
            ?perm odrl:action odrl:use ; odrl:constraint ?c ; odrl:duty ?duty .
            ?c odrl:leftOperand odrl:purpose ; odrl:rightOperand ?purpose .
            ?duty odrl:action odrl:attribute .
            OPTIONAL { ?agreement prov:invalidatedAtTime ?invalidated }
          }
          ?target dprod:dataProductOwner ?owner ; odrl:hasPolicy ?offerOfTarget .
          ?assignee a eti:InformationChannel .
        }""",
    )


def test_agreements_are_consistent(store: ox.Store) -> None:
    rows = agreements(store)
    assert len(rows) >= 6
    assert len(rows) == len(agreement_files())
    for r in rows:
        aid = r["agreement"].rsplit("/", 1)[1]
        assert r["graph"] == f"urn:eti:graph:agreement:{aid}"
        assert r["uid"] == r["agreement"]
        assert r["assigner"] == r["owner"]
        assert r["offer"] == r["offerOfTarget"]
        assert date.fromisoformat(r["issued"]) <= date.fromisoformat(r["start"])
        assert date.fromisoformat(r["start"]) < date.fromisoformat(r["end"])


def test_agreement_states(store: ox.Store) -> None:
    rows = agreements(store)
    by_status: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_status.setdefault(r["status"].removeprefix("https://w3id.org/eti#"), []).append(r)
    assert {"active", "expired", "terminated"} <= set(by_status)
    for r in by_status["active"]:
        assert date.fromisoformat(r["start"]) <= TODAY <= date.fromisoformat(r["end"]), r
        assert "invalidated" not in r
    for r in by_status["expired"]:
        assert date.fromisoformat(r["end"]) < date(2026, 11, 1), r
    for r in by_status["terminated"]:
        assert "invalidated" in r, r
        assert r["invalidated"] < TODAY.isoformat()
    pairs = {
        (r["assignee"].rsplit("/", 1)[1], r["owner"], r["status"].rsplit("#", 1)[1]) for r in rows
    }
    assert ("familieapp", ORG_PREFIX + "998554640", "expired") in pairs
    assert ("helsenorge", FLEKKEFJORD_ORG, "terminated") in pairs
    assert ("familieapp", FLEKKEFJORD_ORG, "active") in pairs
    assert ("flekkefjord-kommune-no", FLEKKEFJORD_ORG, "active") in pairs
    assert ("nav-no", ORG_PREFIX + "889640782", "active") in pairs
    assert ("helsenorge", ORG_PREFIX + "983544622", "active") in pairs


# ----------------------------------------------------------------- queries


@pytest.mark.parametrize("f", query_files(), ids=stem)
def test_query_header_and_prefixes(f: Traversable) -> None:
    text = f.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("# title: ") and len(lines[0]) > len("# title: ")
    # the header: comment lines, each followed by a blank line (SPARQLWrapper's query-type
    # detection removes a comment line only when a newline of its own precedes it)
    head = lines[: next(i for i, line in enumerate(lines) if line.startswith("PREFIX"))]
    assert all(line == "" for line in head[1::2]) and all(
        line.startswith("# ") for line in head[::2]
    )
    fields = dict(re.match(r"# ([\w-]+): (.+)", line).groups() for line in head[::2])
    assert set(fields) == {"title", "title-en", "description"}
    body = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    declared = set(re.findall(r"^PREFIX\s+(\w*):", body, flags=re.MULTILINE))
    stripped = re.sub(r"<[^>]*>", "", body)
    stripped = re.sub(r'"[^"]*"', "", stripped)
    stripped = re.sub(r"^PREFIX.*$", "", stripped, flags=re.MULTILINE)
    used = set(re.findall(r"(?<![\w?$])([A-Za-z]\w*):", stripped))
    assert used <= declared, f"undeclared prefixes: {used - declared}"
    assert not re.search(r"\b(FROM|GRAPH)\b", stripped, flags=re.IGNORECASE)
    ox.Store().query(text, custom_functions=sparql_functions())  # parses


def test_query_flekkefjord_continuous_care(store: ox.Store) -> None:
    rows = run_example(store, "flekkefjord-continuous-care.rq")
    by_service = {r["service"]: r for r in rows}
    assert len(by_service) == len(rows), "one row per service"
    pleie = by_service[
        "https://eti.example/products/nav-pleiepenger/services/pleiepenger-sykt-barn"
    ]
    assert "Folketrygdloven § 9-10" in pleie["legalBasis"]
    assert "https://lovdata.no/lov/1997-02-28-19/§9-10" in pleie["legalLinks"].split()
    assert pleie["applyAt"] == "https://www.nav.no/pleiepenger-barn"
    assert pleie["authority"] == ORG_PREFIX + "889640782"
    assert pleie["product"] == "https://eti.example/products/nav-pleiepenger"
    authorities = {r["authority"] for r in rows}
    assert len(authorities) >= 3
    assert FLEKKEFJORD_ORG in authorities
    assert {r["authorityName"] for r in rows} >= {
        "Arbeids- og velferdsetaten (Nav)",
        "Flekkefjord kommune",
        "Helsedirektoratet",
        "Statped",
    }
    avlastning = by_service[
        "https://eti.example/products/flekkefjord-parorendestotte/services/avlastning"
    ]
    assert "Helse- og omsorgstjenesteloven § 3-6" in avlastning["legalBasis"]
    barnekoordinator = by_service[
        "https://eti.example/products/helsedir-koordinering/services/barnekoordinator"
    ]
    assert "Pasient- og brukerrettighetsloven § 2-5 c" in barnekoordinator["legalBasis"]
    assert "Kommunen" in barnekoordinator["providedBy"]
    # every service of every product in the demo is for Norway or Flekkefjord
    all_services = select(store, "SELECT ?s WHERE { ?s a cpsv:PublicService }")
    assert len(rows) == len(all_services)


def test_query_flekkefjord_excludes_other_municipalities() -> None:
    store = load_demo()
    oslo = ox.NamedNode("https://eti.example/places/kommune/0301")
    svc = ox.NamedNode("https://eti.example/test/services/oslo-only")
    graph = ox.NamedNode("urn:eti:graph:content:test")
    org = ox.NamedNode(FLEKKEFJORD_ORG)
    legal = ox.NamedNode("https://eti.example/legal/ftrl-9-10")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    cv = "http://data.europa.eu/m8g/"
    dct = "http://purl.org/dc/terms/"
    store.extend(
        [
            ox.Quad(svc, rdf_type, ox.NamedNode("http://purl.org/vocab/cpsv#PublicService"), graph),
            ox.Quad(svc, ox.NamedNode(cv + "isGroupedBy"), ox.NamedNode(LIFE_EVENT), graph),
            ox.Quad(
                svc, ox.NamedNode(dct + "title"), ox.Literal("Bare Oslo", language="nb"), graph
            ),
            ox.Quad(svc, ox.NamedNode(dct + "spatial"), oslo, graph),
            ox.Quad(svc, ox.NamedNode(cv + "hasCompetentAuthority"), org, graph),
            ox.Quad(svc, ox.NamedNode(cv + "hasLegalResource"), legal, graph),
        ]
    )
    rows = run_example(store, "flekkefjord-continuous-care.rq")
    assert svc.value not in {r["service"] for r in rows}
    assert rows


@pytest.mark.parametrize("f", query_files(), ids=stem)
def test_query_answers_do_not_change_when_descriptions_are_copied(
    store: ox.Store, f: Traversable
) -> None:
    """The catalogue also keeps product descriptions in urn:eti:graph:public (and in history
    graphs); over the union of all graphs a query must give the same answer, not duplicates."""
    copied = load_demo()
    public = ox.NamedNode("urn:eti:graph:public")
    for p in product_files():
        copied.extend(
            ox.Quad(q.subject, q.predicate, q.object, public)
            for q in product_quads(p)
            if q.graph_name.value.startswith("urn:eti:graph:product:")
        )

    def normalised(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        # GROUP_CONCAT does not promise an order
        return [
            {k: " ".join(sorted(v.replace(" | ", " ").split())) for k, v in row.items()}
            for row in rows
        ]

    expected = normalised(run_example(store, f.name))
    assert normalised(run_example(copied, f.name)) == expected


def test_query_products_by_los_theme(store: ox.Store) -> None:
    rows = run_example(store, "products-by-los-theme.rq")
    assert all(r["theme"].startswith("https://psi.norge.no/los/") for r in rows)
    assert {r["product"] for r in rows} == {
        f"https://eti.example/products/{stem(f)}" for f in product_files()
    }
    pleie = [
        r
        for r in rows
        if r["product"] == "https://eti.example/products/nav-pleiepenger"
        and r["theme"] == "https://psi.norge.no/los/ord/ytelser-ved-sykdom-i-familien"
    ]
    assert len(pleie) == 1
    assert pleie[0]["modified"] == "2026-11-02"
    assert pleie[0]["accrualPeriodicity"].endswith("/frequency/MONTHLY")
    assert pleie[0]["publisherName"] == "Arbeids- og velferdsetaten (Nav)"
    # newest first within a theme
    same_theme = [
        r["modified"]
        for r in rows
        if r["theme"] == "https://psi.norge.no/los/ord/ytelser-ved-sykdom-i-familien"
    ]
    assert same_theme == sorted(same_theme, reverse=True)


def test_query_agreements_by_channel(store: ox.Store) -> None:
    rows = run_example(store, "agreements-by-channel.rq")
    assert len(rows) == len(agreement_files())
    # The query judges expiry against today, and the demo's periods are fixed dates: an
    # agreement in force is "active" until its end date and "expired" after it. The test
    # checks that rule per row, and the lifecycle per channel, whatever today is.
    today = clock.today()
    agreed = {"active": "agreed", "expired": "agreed", "terminated": "terminated"}
    statuses: dict[str, set[str]] = {}
    for r in rows:
        status = r["status"].rsplit("#", 1)[1]
        statuses.setdefault(r["channelName"], set()).add(status)
        assert ("terminatedAt" in r) == (status == "terminated")
        if status in ("active", "expired"):
            assert (status == "expired") == (date.fromisoformat(r["end"][:10]) < today), r
    lifecycle = {name: {agreed[s] for s in found} for name, found in statuses.items()}
    assert lifecycle["helsenorge.no"] == {"agreed", "terminated"}
    assert lifecycle["Familieappen (fiktiv)"] == {"agreed"}
    assert "expired" in statuses["Familieappen (fiktiv)"]  # stored expired, ended 2026-08-31
    assert lifecycle["nav.no"] == {"agreed"}
    assert lifecycle["flekkefjord.kommune.no"] == {"agreed"}


def test_query_offers_by_product(store: ox.Store) -> None:
    rows = run_example(store, "offers-by-product.rq")
    assert len(rows) == len(product_files())
    for r in rows:
        flekkefjord = r["ownerName"] == "Flekkefjord kommune"
        assert r["open"] == ("false" if flekkefjord else "true"), r["product"]
        assert r["purpose"] == "https://w3id.org/dpv#ServiceProvision"
        assert r["refreshWithin"] in {"P1D", "P7D"}
