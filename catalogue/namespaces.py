"""Namespaces and the names of the catalogue's named graphs (see docs/model.md)."""

from __future__ import annotations

import re

ETI = "https://w3id.org/eti#"
BRREG = "https://data.brreg.no/enhetsregisteret/api/enheter/"  # organisations by orgnr
DPROD = "https://ekgf.github.io/dprod/"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
CPSV = "http://purl.org/vocab/cpsv#"
CV = "http://data.europa.eu/m8g/"
ODRL = "http://www.w3.org/ns/odrl/2/"
DPV = "https://w3id.org/dpv#"
PROV = "http://www.w3.org/ns/prov#"
VCARD = "http://www.w3.org/2006/vcard/ns#"
FOAF = "http://xmlns.com/foaf/0.1/"
ADMS = "http://www.w3.org/ns/adms#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"

PREFIXES: dict[str, str] = {
    "eti": ETI,
    "dprod": DPROD,
    "dcat": DCAT,
    "dct": DCT,
    "cpsv": CPSV,
    "cv": CV,
    "odrl": ODRL,
    "dpv": DPV,
    "prov": PROV,
    "vcard": VCARD,
    "foaf": FOAF,
    "adms": ADMS,
    "skos": SKOS,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
}

LIFE_EVENT = "https://psi.norge.no/los/hendelse/alvorlig-sykt-barn"
DEMO_BASE = "https://eti.example/"

# Named graphs. Per-product graphs are the unit of writing; "public" is the
# reading view everyone shares, kept equal to the union of the public graphs.
PUBLIC = "urn:eti:graph:public"
OPEN = "urn:eti:graph:open"  # the content of every product with an open offer
# Which content graphs "open" draws on, one fact each (<graph> a <urn:eti:sys:OpenContent>): a write
# asks it whether another open product still states a triple, a lookup by graph name.
OPENED = "urn:eti:graph:opened"
AGENTS = "urn:eti:graph:agents"
RECORDS = "urn:eti:graph:records"
VOCABULARIES = "urn:eti:graph:vocabularies"
SYSTEM = "urn:eti:graph:system"
# The union of public, open, agents, records and vocabularies as one graph: an anonymous
# query reads one graph instead of merging five (2–4× faster on the channel mix).
READ = "urn:eti:graph:read"
# Old triples of the graphs one update replaces, kept only inside that update: what may
# leave "read". Never outlives the transaction.
STAGED = "urn:eti:graph:staged"
# Who owns which resource: the product that first stated something about it (maintained by
# the catalogue in the write that claims it; see ownership.py).
OWNERS = "urn:eti:graph:owners"
OWNED_BY = "urn:eti:sys:ownedBy"
# Per-caller views: each is (the union of its sources) minus "read", so a caller reads
# "read" plus one view graph, each triple once (see views.py). Which graphs feed which
# view is kept in VIEWS.
VIEW_PREFIX = "urn:eti:graph:view:"
VIEWS = "urn:eti:graph:views"
VIEW_SOURCE = "urn:eti:sys:viewSource"

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")


def is_valid_id(value: str) -> bool:
    """True for a product or agreement id: lower-case letters, digits and '-'."""
    return bool(_ID.match(value))


def _graph(kind: str, ident: str) -> str:
    if not is_valid_id(ident):
        raise ValueError(f"not a valid id: {ident!r} (use a-z, 0-9 and '-')")
    return f"urn:eti:graph:{kind}:{ident}"


def product_graph(ident: str) -> str:
    """The graph holding a product's description."""
    return _graph("product", ident)


def content_graph(ident: str) -> str:
    """The graph holding a product's content (its public services)."""
    return _graph("content", ident)


def agreement_graph(ident: str) -> str:
    """The graph holding one agreement."""
    return _graph("agreement", ident)


def history_graph(ident: str, version: int) -> str:
    """The graph holding version ``version`` of a product description."""
    return f"{_graph('history', ident)}:{int(version)}"


PUBLIC_PREFIXES = ("urn:eti:graph:product:",)
PUBLIC_GRAPHS = (AGENTS, RECORDS)
