"""The channel query mix: what a channel integrator runs against the catalogue.

Every query is written for the anonymous view (no ``GRAPH``, no ``FROM``): on the ETI
server it runs over public + vocabularies + agents + records + open content; the peers
hold exactly those triples with the union of their graphs as the default graph.

``render(name, params, rng, nonce)`` fills a template: the parameter is drawn from the
catalogue's own values (``params.json`` of the generator); ``nonce`` (unique runs) adds a
filter that is always true and makes the text unique, so no cache can answer it.

``normalise(name, media, body)`` turns an answer into something comparable across
servers: a sorted list of rows (a list in order for queries with ORDER BY), rows as
tuples of N-Triples terms; CONSTRUCT answers as sorted N-Triples lines.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pyoxigraph as ox

PREFIXES = """PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dprod: <https://ekgf.github.io/dprod/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX odrl: <http://www.w3.org/ns/odrl/2/>
PREFIX eti: <https://w3id.org/eti#>
PREFIX cpsv: <http://purl.org/vocab/cpsv#>
PREFIX cv: <http://data.europa.eu/m8g/>
"""

LIFE_EVENT = "https://psi.norge.no/los/hendelse/alvorlig-sykt-barn"

# name -> (parameter pool in params.json, ordered?, template). {param} is the value,
# {nonce} an always-true filter (unique runs) or nothing.
TEMPLATES: dict[str, tuple[str, bool, str]] = {
    # products tagged with a Los word, newest first, with publisher and freshness
    "products-by-theme": (
        "themes",
        True,
        """SELECT ?product ?title ?publisherName ?modified ?frequency WHERE {
  ?product a dprod:DataProduct ; dcat:theme <{param}> ; dct:title ?title ;
           dct:publisher ?publisher ; dct:modified ?modified ;
           dct:accrualPeriodicity ?frequency .
  FILTER(LANG(?title) = "nb")
  OPTIONAL { ?publisher foaf:name ?publisherName . FILTER(LANG(?publisherName) = "nb") }
  {nonce}
} ORDER BY DESC(?modified) ?product LIMIT 50""",
    ),
    # public services that apply in a municipality (its own, and national ones), with
    # the competent authority, the legal basis (its IRI: legal resources are described in
    # many content graphs, so joining on their titles multiplies rows) and the product
    "services-in-municipality": (
        "municipalities",
        True,
        """SELECT DISTINCT ?service ?title ?authorityName ?legal ?product WHERE {
  ?service a cpsv:PublicService ; cv:isGroupedBy <"""
        + LIFE_EVENT
        + """> ;
           dct:title ?title ; dct:spatial ?area ;
           cv:hasCompetentAuthority ?authority ; cv:hasLegalResource ?legal .
  FILTER(LANG(?title) = "nb")
  VALUES ?area { <{param}> <http://publications.europa.eu/resource/authority/country/NOR> }
  ?product eti:isAuthoritativeSourceFor ?service .
  ?authority foaf:name ?authorityName . FILTER(LANG(?authorityName) = "nb")
  {nonce}
} ORDER BY ?service ?legal LIMIT 100""",
    ),
    # the offer of a product: open or by agreement, purpose, who offers it
    "offers-of-product": (
        "products",
        False,
        """SELECT ?offer ?open ?purpose ?assignerName WHERE {
  <{param}> odrl:hasPolicy ?offer .
  ?offer odrl:assigner ?assigner .
  BIND(EXISTS { ?offer a eti:OpenOffer } AS ?open)
  OPTIONAL {
    ?offer odrl:permission ?permission . ?permission odrl:constraint ?constraint .
    ?constraint odrl:leftOperand odrl:purpose ; odrl:rightOperand ?purpose .
  }
  OPTIONAL { ?assigner foaf:name ?assignerName . FILTER(LANG(?assignerName) = "nb") }
  {nonce}
}""",
    ),
    # a facet: how many products of a publisher per theme
    "facet-by-theme": (
        "orgs",
        True,
        """SELECT ?theme (COUNT(DISTINCT ?product) AS ?n) WHERE {
  ?product a dprod:DataProduct ; dct:publisher <{param}> ; dcat:theme ?theme .
  {nonce}
} GROUP BY ?theme ORDER BY DESC(?n) ?theme""",
    ),
    # the nb label of a concept, an organisation or a product
    "label-lookup": (
        "labelled",
        False,
        """SELECT ?label WHERE {
  <{param}> skos:prefLabel|foaf:name|dct:title ?label .
  FILTER(LANG(?label) = "nb")
  {nonce}
}""",
    ),
    # a product and the resources it links to directly (DESCRIBE-like, no blank nodes)
    "describe-product": (
        "products",
        False,
        """CONSTRUCT { ?s ?p ?o } WHERE {
  { VALUES ?s { <{param}> } ?s ?p ?o . }
  UNION
  { <{param}> dprod:outputDataset|dprod:outputPort|dcat:contactPoint|odrl:hasPolicy ?s .
    ?s ?p ?o . }
  FILTER(!isBlank(?o))
  {nonce}
}""",
    ),
    # free text on product titles (CONTAINS)
    "title-contains": (
        "words",
        True,
        """SELECT ?product ?title WHERE {
  ?product a dprod:DataProduct ; dct:title ?title .
  FILTER(LANG(?title) = "nb" && CONTAINS(LCASE(?title), "{param}"))
  {nonce}
} ORDER BY ?product LIMIT 50""",
    ),
    # free text on service titles (REGEX, case-insensitive prefix)
    "service-title-regex": (
        "service_words",
        True,
        """SELECT ?service ?title WHERE {
  ?service a cpsv:PublicService ; dct:title ?title .
  FILTER(LANG(?title) = "nb" && REGEX(?title, "(^| ){param}", "i"))
  {nonce}
} ORDER BY ?service LIMIT 50""",
    ),
}
NAMES = list(TEMPLATES)
NONCE_VARIABLE = {
    "products-by-theme": "?product",
    "services-in-municipality": "?service",
    "offers-of-product": "?offer",
    "facet-by-theme": "?product",
    "label-lookup": "?label",
    "describe-product": "?s",
    "title-contains": "?product",
    "service-title-regex": "?service",
}

TRIVIAL_ASK = "ASK { ?product a <https://ekgf.github.io/dprod/DataProduct> }"

# The per-caller mix (issue 15): six plain queries every kind of caller runs, the first
# and third as in the channel mix. Services are content, so for a steward, a channel or an
# admin these read their view graph as well as "read". Same shape as TEMPLATES; a pool of
# None takes no parameter.
CALLER_TEMPLATES: dict[str, tuple[str | None, bool, str, str]] = {
    "products-by-theme": (*TEMPLATES["products-by-theme"], "?product"),
    # how many products each publisher has (the whole catalogue, grouped)
    "count-per-publisher": (
        None,
        True,
        """SELECT ?publisher (COUNT(DISTINCT ?product) AS ?n) WHERE {
  ?product a dprod:DataProduct ; dct:publisher ?publisher .
  {nonce}
} GROUP BY ?publisher ORDER BY DESC(?n) ?publisher""",
        "?product",
    ),
    "offers-of-product": (*TEMPLATES["offers-of-product"], "?offer"),
    # the services of a municipality with their legal basis
    "services-with-legal": (
        "municipalities",
        True,
        """SELECT ?service ?legal WHERE {
  ?service a cpsv:PublicService ; dct:spatial <{param}> ; cv:hasLegalResource ?legal .
  {nonce}
} ORDER BY ?service ?legal LIMIT 100""",
        "?service",
    ),
    # the services of a municipality with the name of their competent authority
    "service-authority": (
        "municipalities",
        True,
        """SELECT ?service ?authorityName WHERE {
  ?service a cpsv:PublicService ; dct:spatial <{param}> ;
           cv:hasCompetentAuthority ?authority .
  ?authority foaf:name ?authorityName . FILTER(LANG(?authorityName) = "nb")
  {nonce}
} ORDER BY ?service ?authorityName LIMIT 100""",
        "?service",
    ),
    # is there a service of a municipality with a legal basis?
    "ask-service-legal": (
        "municipalities",
        False,
        """ASK {
  ?service a cpsv:PublicService ; dct:spatial <{param}> ; cv:hasLegalResource ?legal .
  {nonce}
}""",
        "?service",
    ),
}
CALLER_NAMES = list(CALLER_TEMPLATES)


def caller_query(name: str, value: str | None, nonce: int, *, distinct: bool = False) -> str:
    """A per-caller query with its parameter and an always-true filter on ``nonce`` (so
    no answer cache can answer it). ``distinct``: its SELECT DISTINCT form, the reference
    for a dataset read as a set of triples: in these six queries every variable left
    out of the answer is fixed by those in it, so over a set of triples no row can come
    twice, while a union that keeps each graph's copy of a triple (oxigraph's
    ``--union-default-graph``, a list of graphs) repeats rows."""
    _pool, _ordered, template, var = CALLER_TEMPLATES[name]
    filt = f"FILTER({var} != <urn:bench:nonce:{nonce}>)"
    if distinct and template.startswith("SELECT "):
        template = "SELECT DISTINCT " + template[len("SELECT ") :]
    return PREFIXES + template.replace("{param}", value or "").replace("{nonce}", filt)


def caller_values(params: dict[str, list[str]], reps: int, seed: int) -> list[dict[str, str]]:
    """For each repetition, one drawn parameter value per per-caller query (every caller
    gets the same values, each with its own nonce)."""
    rng = random.Random(f"{seed}:callers")
    out = []
    for _ in range(reps):
        row = {}
        for name, (pool, *_rest) in CALLER_TEMPLATES.items():
            row[name] = params[pool][rng.randrange(len(params[pool]))] if pool else ""
        out.append(row)
    return out


def load_params(path: Any) -> dict[str, list[str]]:
    params = json.loads(open(path, encoding="utf-8").read())
    params["labelled"] = params["themes"] + params["orgs"] + params["products"][:500]
    params["words"] = sorted({w.lower().strip(":,.") for w in params["words"]} - {""})
    # service titles are "<Los word>[ i <municipality>]": prefixes of those words
    heads = {w for t in params["titles"] for w in t.split(":")[0].split() if len(w) >= 4}
    places = {t.rsplit(" i ", 1)[1] for t in params["titles"] if " i " in t}
    params["service_words"] = sorted({w.lower()[:6] for w in heads | places})
    return params


def render(
    name: str, params: dict[str, list[str]], rng: random.Random, nonce: int | None = None
) -> str:
    pool = TEMPLATES[name][0]
    value = params[pool][rng.randrange(len(params[pool]))]
    return fill(name, value, nonce)


def fill(name: str, value: str, nonce: int | None = None) -> str:
    _pool, _ordered, template = TEMPLATES[name]
    filt = ""
    if nonce is not None:
        var = NONCE_VARIABLE[name]
        other = f'"nonce-{nonce}"' if var == "?label" else f"<urn:bench:nonce:{nonce}>"
        filt = f"FILTER({var} != {other})"
    return PREFIXES + template.replace("{param}", value).replace("{nonce}", filt)


def fixed_queries(params: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The repeated mix: one fixed query per template (the first value of its pool that
    gives a non-empty answer is not known here, so a middle value is taken)."""
    out = []
    for name in NAMES:
        pool = params[TEMPLATES[name][0]]
        out.append((name, fill(name, pool[len(pool) // 3])))
    return out


def unique_queries(
    params: dict[str, list[str]], count: int, seed: int, start: int = 0
) -> list[tuple[str, str]]:
    """``count`` queries, the templates in turn, each with a drawn value and a nonce."""
    rng = random.Random(seed)
    return [
        (NAMES[i % len(NAMES)], render(NAMES[i % len(NAMES)], params, rng, nonce=start + i))
        for i in range(count)
    ]


# -- comparing answers ---------------------------------------------------------------------


def _term(value: dict[str, str]) -> str:
    kind = value["type"]
    if kind == "uri":
        return f"<{value['value']}>"
    if kind == "bnode":
        return "_:b"
    text = json.dumps(value["value"], ensure_ascii=False)
    if "xml:lang" in value:
        return f"{text}@{value['xml:lang'].lower()}"
    datatype = value.get("datatype")
    if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
        return _canonical(value["value"], datatype)
    return text


def _canonical(lexical: str, datatype: str) -> str:
    if datatype == "http://www.w3.org/2001/XMLSchema#boolean":
        lexical = "true" if lexical in ("true", "1") else "false"
    elif datatype == "http://www.w3.org/2001/XMLSchema#integer":
        lexical = str(int(lexical))
    return f'"{lexical}"^^<{datatype}>'


def normalise(name: str | None, media: str, body: bytes, *, multiset: bool = False) -> Any:
    """Comparable form of an answer: ``("boolean", b)``, ``("rows", [...])`` or
    ``("triples", [...])``. ``multiset``: unordered rows keep their repeats (sorted), so
    two answers compare as multisets: a row repeated by reading a triple twice shows."""
    media = media.split(";")[0].strip().lower()
    ordered = TEMPLATES[name][1] if name in TEMPLATES else False
    if name in CALLER_TEMPLATES:
        ordered = CALLER_TEMPLATES[name][1]
    if media in ("application/sparql-results+json", "application/json"):
        data = json.loads(body)
        if "boolean" in data:
            return ("boolean", bool(data["boolean"]))
        names = data["head"]["vars"]
        rows = [
            tuple(_term(b[v]) if v in b else "UNBOUND" for v in names)
            for b in data["results"]["bindings"]
        ]
        if ordered:
            return ("rows", rows)
        return ("rows", sorted(rows) if multiset else sorted(set(rows)))
    fmt = {
        "application/n-triples": ox.RdfFormat.N_TRIPLES,
        "text/turtle": ox.RdfFormat.TURTLE,
        "text/plain": ox.RdfFormat.N_TRIPLES,
    }.get(media)
    if fmt is None:
        raise ValueError(f"unexpected media type {media!r}")
    triples = {str(t) for t in ox.parse(body, fmt)}
    return ("triples", sorted(triples))
