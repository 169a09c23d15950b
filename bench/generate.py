"""A seeded generator of realistic ETI catalogues for the benchmarks.

    python bench/generate.py --products 10000 --seed 1 --out bench/data/10k

writes into ``--out``:

``catalogue.nq``
    a dump the catalogue restores directly (``eti restore``): the catalogue's named
    graphs exactly as registration leaves them -- ``urn:eti:graph:product:{id}``,
    ``urn:eti:graph:content:{id}``, ``urn:eti:graph:history:{id}:1``,
    ``urn:eti:graph:agreement:{id}``, ``urn:eti:graph:agents``, ``urn:eti:graph:records``,
    ``urn:eti:graph:vocabularies``, ``urn:eti:graph:public`` (the union of the product
    graphs), ``urn:eti:graph:open`` (the union of the content graphs of the products
    with an open offer) and ``urn:eti:graph:read`` (the union of the five graphs below).
``public.nq``
    what an anonymous caller of the ETI server sees, for the peers (oxigraph serve with
    ``--union-default-graph``, rdflib-endpoint): the graphs ``public``, ``open``,
    ``agents``, ``records`` and ``vocabularies``, as in the catalogue.
``params.json``
    the values the query mix draws its parameters from (themes, municipalities,
    product IRIs, title words, labels ...).
``manifest.json``
    counts and the seed.

Products are modelled on ``catalogue/demo/products/*.trig``: a ``dprod:DataProduct``
with its contact point, output dataset, distribution, SPARQL port and ODRL offer (an
``eti:OpenOffer`` for about half of them, as in the demo), and content: one or two
``cpsv:PublicService`` with requirement, channel and legal basis. Titles, themes (EU data
themes and the shipped Los concepts), municipalities, update frequencies and dates vary.

Owners come from a pool: the five real agencies of the demo catalogue (Nav,
Helsedirektoratet, Udir, Statped, Flekkefjord kommune, with their real organisation
numbers) and SYNTHETIC organisations. A synthetic organisation's number starts with
``1`` (real Norwegian organisation numbers start with 8 or 9, so no synthetic number can
be a real one), its IRI lives under ``https://eti.example/synthetic/org/`` and its name
says "(syntetisk testaktør)". Municipality numbers and names are real (2024 numbering);
the services attributed to them are synthetic.

Everything is a function of ``--seed``: the same seed writes the same bytes.
``product_trig`` gives one product as TriG (description in the default graph, content
in a named graph), the body ``eti register`` / ``POST /api/products`` take.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox

# -- namespaces ------------------------------------------------------------------------------

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
DPROD = "https://ekgf.github.io/dprod/"
ADMS = "http://www.w3.org/ns/adms#"
FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
ODRL = "http://www.w3.org/ns/odrl/2/"
DPV = "https://w3id.org/dpv#"
ETI = "https://w3id.org/eti#"
CPSV = "http://purl.org/vocab/cpsv#"
CV = "http://data.europa.eu/m8g/"
ELI = "http://data.europa.eu/eli/ontology#"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
EU = "http://publications.europa.eu/resource/authority/"
LOS = "https://psi.norge.no/los/"
LIFE_EVENT = LOS + "hendelse/alvorlig-sykt-barn"
BASE = "https://eti.example/"
ENHET = "https://data.brreg.no/enhetsregisteret/api/enheter/"
SYNTHETIC_ORG = BASE + "synthetic/org/"
NORWAY = EU + "country/NOR"
CHANNEL_TYPE = "https://data.norge.no/vocabulary/service-channel-type#"
LEGAL_TYPE = "https://data.norge.no/vocabulary/legal-resource-type#"

PUBLIC = "urn:eti:graph:public"
AGENTS = "urn:eti:graph:agents"
RECORDS = "urn:eti:graph:records"
VOCABULARIES = "urn:eti:graph:vocabularies"
OPEN = "urn:eti:graph:open"
READ = "urn:eti:graph:read"
SHARED = f"<{BASE}legal/"  # resources described in the content of many products

# The day the generated catalogue is "as of": dates are drawn before it, so that
# validating with as_of=AS_OF judges nothing stale.
AS_OF = dt.date(2026, 11, 20)
REGISTERED_AT = "2026-11-20T08:00:00Z"

REAL_AGENCIES = [
    # (orgnr, nb name, en name, kind) -- as in catalogue/demo/agents.ttl
    ("889640782", "Arbeids- og velferdsetaten (Nav)", "NAV", "national"),
    ("983544622", "Helsedirektoratet", "Norwegian Directorate of Health", "national"),
    ("970018131", "Utdanningsdirektoratet", "Norwegian Directorate for Education", "national"),
    ("998554640", "Statped", "Statped", "national"),
    ("964967369", "Flekkefjord kommune", "Flekkefjord Municipality", "4207"),
]

MUNICIPALITIES = [
    ("0301", "Oslo"),
    ("4601", "Bergen"),
    ("5001", "Trondheim"),
    ("1103", "Stavanger"),
    ("4204", "Kristiansand"),
    ("4207", "Flekkefjord"),
    ("3403", "Hamar"),
    ("1804", "Bodø"),
    ("5501", "Tromsø"),
    ("3301", "Drammen"),
    ("1506", "Molde"),
    ("1508", "Ålesund"),
    ("4203", "Arendal"),
    ("3201", "Bærum"),
    ("3203", "Asker"),
    ("3205", "Lillestrøm"),
    ("4205", "Lindesnes"),
    ("1106", "Haugesund"),
    ("1108", "Sandnes"),
    ("3107", "Fredrikstad"),
    ("3105", "Sarpsborg"),
    ("3907", "Sandefjord"),
    ("3909", "Larvik"),
    ("3905", "Tønsberg"),
    ("4001", "Porsgrunn"),
    ("4003", "Skien"),
    ("3405", "Lillehammer"),
    ("3407", "Gjøvik"),
    ("1833", "Rana"),
    ("5403", "Alta"),
    ("1505", "Kristiansund"),
    ("4602", "Kinn"),
    ("4211", "Gjerstad"),
    ("1111", "Sokndal"),
    ("4206", "Farsund"),
    ("3411", "Ringsaker"),
    ("5006", "Steinkjer"),
    ("1820", "Alstahaug"),
    ("4640", "Sogndal"),
    ("5503", "Harstad"),
]

EU_THEMES = ["SOCI", "HEAL", "EDUC", "GOVE", "JUST"]
FREQUENCIES = ["DAILY", "WEEKLY", "MONTHLY", "MONTHLY", "QUARTERLY", "ANNUAL"]
FREQ_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "QUARTERLY": 92, "ANNUAL": 366}
ASPECTS = [
    # (nb, nn, en) -- what a product says about the service
    ("vilkår og søknad", "vilkår og søknad", "eligibility and application"),
    ("rettigheter", "rettar", "rights"),
    ("tilbud", "tilbod", "services"),
    ("saksbehandling", "sakshandsaming", "case handling"),
    ("veiledning", "rettleiing", "guidance"),
]
LAWS = [
    ("ftrl-9-10", "LOV-1997-02-28-19 § 9-10", "Folketrygdloven § 9-10", "Folketrygdlova § 9-10"),
    ("ftrl-6-3", "LOV-1997-02-28-19 § 6-3", "Folketrygdloven § 6-3", "Folketrygdlova § 6-3"),
    ("hol-3-6", "LOV-2011-06-24-30 § 3-6", "Helse- og omsorgstjenesteloven § 3-6", "lova § 3-6"),
    ("hol-3-2", "LOV-2011-06-24-30 § 3-2", "Helse- og omsorgstjenesteloven § 3-2", "lova § 3-2"),
    ("pbrl-2-5", "LOV-1999-07-02-63 § 2-5", "Pasient- og brukerrettighetsloven § 2-5", "§ 2-5"),
    ("pbrl-2-8", "LOV-1999-07-02-63 § 2-8", "Pasient- og brukerrettighetsloven § 2-8", "§ 2-8"),
    ("oppl-11-6", "LOV-2023-06-09-30 § 11-6", "Opplæringsloven § 11-6", "Opplæringslova § 11-6"),
    ("bhl-37", "LOV-2005-06-17-64 § 37", "Barnehageloven § 37", "Barnehagelova § 37"),
]
CHANNEL_NEEDS = ["SOCI", "HEAL", "EDUC"]


# -- N-Triples terms --------------------------------------------------------------------------


def iri(value: str) -> str:
    return f"<{value}>"


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def lit(value: str, lang: str | None = None, datatype: str | None = None) -> str:
    text = '"' + value.translate(_ESCAPES) + '"'
    if lang:
        return f"{text}@{lang}"
    if datatype:
        return f"{text}^^<{datatype}>"
    return text


def date_lit(day: dt.date) -> str:
    return lit(day.isoformat(), datatype=XSD + "date")


def slug(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})
    text = text.translate(table).lower()
    out = "".join(c if c in "abcdefghijklmnopqrstuvwxyz0123456789" else "-" for c in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


Triple = tuple[str, str, str]


# -- the vocabulary the products draw on -----------------------------------------------------


@dataclass
class Concept:
    iri: str
    nb: str
    nn: str
    en: str
    broader: list[str] = field(default_factory=list)


def los_concepts() -> tuple[list[Concept], dict[str, Concept]]:
    """(Los words with a Los theme above them, every Los theme), from the shipped file."""
    data = (files("eti.ontology") / "vocabularies" / "los-alvorlig-sykt-barn.ttl").read_bytes()
    labels: dict[str, dict[str, str]] = {}
    broader: dict[str, list[str]] = {}
    for t in ox.parse(data, ox.RdfFormat.TURTLE):
        s = t.subject.value if isinstance(t.subject, ox.NamedNode) else None
        if s is None or not s.startswith(LOS):
            continue
        if t.predicate.value == SKOS + "prefLabel" and isinstance(t.object, ox.Literal):
            labels.setdefault(s, {})[t.object.language or ""] = t.object.value
        elif t.predicate.value == SKOS + "broader" and isinstance(t.object, ox.NamedNode):
            broader.setdefault(s, []).append(t.object.value)

    def concept(s: str) -> Concept:
        lab = labels[s]
        nb = lab.get("nb") or lab.get("", s.rsplit("/", 1)[-1])
        return Concept(s, nb, lab.get("nn", nb), lab.get("en", nb), sorted(broader.get(s, [])))

    themes = {s: concept(s) for s in labels if s.startswith(LOS + "tema/")}
    words = [
        concept(s)
        for s in sorted(labels)
        if s.startswith(LOS + "ord/") and any(b in themes for b in broader.get(s, []))
    ]
    return words, themes


# -- organisations, places, channels ---------------------------------------------------------


@dataclass
class Org:
    iri: str
    orgnr: str
    nb: str
    en: str
    municipality: str | None  # kommunenummer, None for a national agency
    homepage: str
    synthetic: bool


def organisations(rng: random.Random, synthetic_agencies: int = 8) -> list[Org]:
    orgs = [
        Org(
            ENHET + nr,
            nr,
            nb,
            en,
            None if kind == "national" else kind,
            f"https://eti.example/org/{nr}/",
            False,
        )
        for nr, nb, en, kind in REAL_AGENCIES
    ]
    serial = 1
    for number, name in MUNICIPALITIES:
        if number == "4207":
            continue  # Flekkefjord kommune is a real agency of the demo
        nr = f"1{serial:08d}"
        serial += 1
        orgs.append(
            Org(
                SYNTHETIC_ORG + nr,
                nr,
                f"{name} kommune (syntetisk testaktør)",
                f"{name} Municipality (synthetic test actor)",
                number,
                f"https://eti.example/synthetic/kommune/{number}/",
                True,
            )
        )
    for i in range(synthetic_agencies):
        nr = f"1{serial:08d}"
        serial += 1
        orgs.append(
            Org(
                SYNTHETIC_ORG + nr,
                nr,
                f"Statlig etat {i + 1} (syntetisk testaktør)",
                f"Government agency {i + 1} (synthetic test actor)",
                None,
                f"https://eti.example/synthetic/etat/{i + 1}/",
                True,
            )
        )
    return orgs


def place(number: str | None) -> str:
    return NORWAY if number is None else f"{BASE}places/kommune/{number}"


def agent_triples(orgs: list[Org], channels: int, rng: random.Random) -> list[Triple]:
    """Organisations, places and information channels: the demo's agents, plus synthetic."""
    out: list[Triple] = []
    demo = (files("eti.catalogue.demo") / "agents.ttl").read_bytes()
    for t in ox.parse(demo, ox.RdfFormat.TURTLE):
        out.append((str(t.subject), str(t.predicate), str(t.object)))
    a = iri(RDF + "type")
    for number, name in MUNICIPALITIES:
        if number == "4207":
            continue  # in the demo's agents
        p = iri(place(number))
        out += [
            (p, a, iri(DCT + "Location")),
            (p, iri(DCT + "identifier"), lit(number)),
            (p, iri(SKOS + "prefLabel"), lit(f"{name} kommune", "nb")),
            (p, iri(SKOS + "prefLabel"), lit(f"{name} kommune", "nn")),
            (p, iri(SKOS + "prefLabel"), lit(f"{name} Municipality", "en")),
            (p, iri(SKOS + "notation"), lit(number)),
            (p, iri(DCT + "isPartOf"), iri(NORWAY)),
        ]
    for org in orgs:
        if not org.synthetic:
            continue
        o = iri(org.iri)
        out += [
            (o, a, iri(FOAF + "Organization")),
            (o, a, iri(CV + "PublicOrganisation")),
            (o, a, iri(PROV + "Agent")),
            (o, iri(DCT + "identifier"), lit(org.orgnr)),
            (o, iri(FOAF + "name"), lit(org.nb, "nb")),
            (o, iri(FOAF + "name"), lit(org.nb, "nn")),
            (o, iri(FOAF + "name"), lit(org.en, "en")),
            (o, iri(SKOS + "prefLabel"), lit(org.nb, "nb")),
            (o, iri(DCT + "spatial"), iri(place(org.municipality))),
            (o, iri(FOAF + "homepage"), iri(org.homepage)),
            (
                o,
                iri(DCT + "description"),
                lit("Syntetisk organisasjon laget for ytelsestester; nummeret er ikke ekte.", "nb"),
            ),
        ]
    publishers = [o for o in orgs if o.synthetic]
    for i in range(channels):
        c = iri(f"{BASE}synthetic/channels/kanal-{i + 1}")
        need = iri(f"{BASE}synthetic/channels/kanal-{i + 1}/needs/1")
        theme = CHANNEL_NEEDS[i % len(CHANNEL_NEEDS)]
        out += [
            (c, a, iri(ETI + "InformationChannel")),
            (c, iri(DCT + "identifier"), lit(f"kanal-{i + 1}")),
            (c, iri(FOAF + "name"), lit(f"Kanal {i + 1} (syntetisk)", "nb")),
            (c, iri(FOAF + "name"), lit(f"Kanal {i + 1} (syntetisk)", "nn")),
            (c, iri(FOAF + "name"), lit(f"Channel {i + 1} (synthetic)", "en")),
            (c, iri(DCT + "publisher"), iri(rng.choice(publishers).iri)),
            (c, iri(FOAF + "homepage"), iri(f"https://kanal-{i + 1}.example/")),
            (c, iri(ETI + "hasInformationNeed"), need),
            (need, a, iri(ETI + "InformationNeed")),
            (need, iri(DCAT + "theme"), iri(EU + "data-theme/" + theme)),
            (need, iri(CV + "isGroupedBy"), iri(LIFE_EVENT)),
            (need, iri(DCT + "spatial"), iri(NORWAY)),
        ]
    return out


def channel_iris(channels: int) -> list[str]:
    return [f"{BASE}synthetic/channels/kanal-{i + 1}" for i in range(channels)] + [
        f"{BASE}channels/{name}" for name in ("helsenorge", "nav-no")
    ]


# -- products --------------------------------------------------------------------------------


@dataclass
class Product:
    ident: str
    iri: str
    owner: Org
    open: bool
    description: list[Triple]
    content: list[Triple]
    title_nb: str
    themes: list[str]
    municipality: str | None
    modified: dt.date


def make_product(
    n: int,
    rng: random.Random,
    orgs: list[Org],
    words: list[Concept],
    themes: dict[str, Concept],
    *,
    open_share: float = 0.5,
    lean: bool = False,
    prefix: str = "",
) -> Product:
    """Product number ``n``: its description and content triples.

    ``lean`` gives a ~40-triple product (no offer, no content): the unit of the
    registration goal."""
    owner = orgs[rng.randrange(len(orgs))]
    word = words[rng.randrange(len(words))]
    tema = themes[next(b for b in word.broader if b in themes)]
    aspect = ASPECTS[rng.randrange(len(ASPECTS))]
    eu_theme = EU_THEMES[rng.randrange(len(EU_THEMES))]
    freq = FREQUENCIES[rng.randrange(len(FREQUENCIES))]
    modified = AS_OF - dt.timedelta(days=rng.randrange(FREQ_DAYS[freq]))
    issued = modified - dt.timedelta(days=rng.randrange(30, 700))
    where = owner.municipality
    if where is None and rng.random() < 0.3:
        where = MUNICIPALITIES[rng.randrange(len(MUNICIPALITIES))][0]
    where_name = dict(MUNICIPALITIES).get(where or "", "")
    suffix = f" i {where_name}" if where_name else ""
    suffix_en = f" in {where_name}" if where_name else ""
    title_nb = f"{word.nb}: {aspect[0]}{suffix}"
    title_nn = f"{word.nn}: {aspect[1]}{suffix}"
    title_en = f"{word.en}: {aspect[2]}{suffix_en}"
    ident = f"{prefix}{slug(word.nb)[:40]}-{n:06d}"
    p_iri = f"{BASE}products/{ident}"
    p, d, c = iri(p_iri), iri(p_iri + "/dataset"), iri(p_iri + "/contact")
    s = iri(p_iri + "/sparql")
    dist = iri(p_iri + "/dataset/turtle")
    owner_iri = iri(owner.iri)
    a = iri(RDF + "type")
    is_open = (not lean) and rng.random() < open_share
    desc: list[Triple] = [
        (p, a, iri(DPROD + "DataProduct")),
        (p, iri(DCT + "identifier"), lit(ident)),
        (p, iri(DCT + "title"), lit(title_nb, "nb")),
        (p, iri(DCT + "title"), lit(title_nn, "nn")),
        (p, iri(DCT + "title"), lit(title_en, "en")),
        (
            p,
            iri(DCT + "description"),
            lit(f"{owner.nb} beskriver {word.nb.lower()} for familier med syke barn.", "nb"),
        ),
        (
            p,
            iri(DCT + "description"),
            lit(f"{owner.nb} skildrar {word.nn.lower()} for familiar med sjuke barn.", "nn"),
        ),
        (p, iri(DPROD + "dataProductOwner"), owner_iri),
        (p, iri(DCT + "publisher"), owner_iri),
        (p, iri(DCAT + "contactPoint"), c),
        (p, iri(DCAT + "theme"), iri(EU + "data-theme/" + eu_theme)),
        (p, iri(DCAT + "theme"), iri(tema.iri)),
        (p, iri(DCAT + "theme"), iri(word.iri)),
        (p, iri(DCAT + "keyword"), lit(word.nb.lower(), "nb")),
        (p, iri(DCT + "accrualPeriodicity"), iri(EU + "frequency/" + freq)),
        (p, iri(DCT + "issued"), date_lit(issued)),
        (p, iri(DCT + "modified"), date_lit(modified)),
        (p, iri(DCT + "spatial"), iri(place(where))),
        (p, iri(DCT + "language"), iri(EU + "language/NOB")),
        (p, iri(DCT + "accessRights"), iri(EU + "access-right/PUBLIC")),
        (p, iri(DCAT + "version"), lit("1.0.0")),
        (p, iri(ADMS + "status"), iri(EU + "distribution-status/COMPLETED")),
        (p, iri(DPROD + "outputDataset"), d),
        (p, iri(DPROD + "outputPort"), s),
        (c, a, iri(VCARD + "Organization")),
        (c, iri(VCARD + "fn"), lit(owner.nb)),
        (c, iri(VCARD + "hasURL"), iri(owner.homepage)),
        (d, a, iri(DCAT + "Dataset")),
        (d, iri(DCT + "identifier"), lit(ident + "/dataset")),
        (d, iri(DCT + "title"), lit(title_nb, "nb")),
        (d, iri(DCT + "title"), lit(title_nn, "nn")),
        (d, iri(DCT + "description"), lit("Tjenestene i dataproduktet, etter CPSV-AP-NO.", "nb")),
        (d, iri(DCT + "description"), lit("Tenestene i dataproduktet, etter CPSV-AP-NO.", "nn")),
        (d, iri(DCT + "publisher"), owner_iri),
        (d, iri(DCAT + "contactPoint"), c),
        (d, iri(DCAT + "theme"), iri(EU + "data-theme/" + eu_theme)),
        (d, iri(DCAT + "theme"), iri(tema.iri)),
        (d, iri(DCAT + "keyword"), lit(word.nb.lower(), "nb")),
        (d, iri(DCT + "accessRights"), iri(EU + "access-right/PUBLIC")),
        (d, iri(DCAT + "distribution"), dist),
        (dist, a, iri(DCAT + "Distribution")),
        (dist, iri(DCAT + "accessURL"), iri(BASE + "sparql")),
        (dist, iri(DCT + "license"), iri(EU + "licence/NLOD_2_0")),
        (dist, iri(DCT + "format"), iri(EU + "file-type/RDF_TURTLE")),
        (s, a, iri(DCAT + "DataService")),
        (s, iri(DCT + "identifier"), lit(ident + "/sparql")),
        (s, iri(DCT + "title"), lit(f"SPARQL-endepunkt for {title_nb}", "nb")),
        (s, iri(DCT + "title"), lit(f"SPARQL-endepunkt for {title_nn}", "nn")),
        (s, iri(DCT + "description"), lit("Innholdet hentes med SPARQL.", "nb")),
        (s, iri(DCT + "description"), lit("Innhaldet vert henta med SPARQL.", "nn")),
        (s, iri(DCAT + "endpointURL"), iri(BASE + "sparql")),
        (s, iri(DCAT + "contactPoint"), c),
        (s, iri(DCAT + "servesDataset"), d),
    ]
    content: list[Triple] = []
    if lean:  # leave out what no rule asks for
        optional = {DCAT + "keyword", DCT + "issued", DCT + "language", DCT + "accessRights"}
        desc = [t for t in desc if not (t[0] == p and t[1][1:-1] in optional)]
    else:
        offer = iri(f"{BASE}offers/{ident}")
        perm, cons, duty = (f"_:{ident.replace('-', 'x')}x{k}" for k in "pcd")
        desc += [
            (p, iri(ODRL + "hasPolicy"), offer),
            (offer, a, iri(ODRL + "Offer")),
            (offer, iri(ODRL + "uid"), offer),
            (offer, iri(ODRL + "assigner"), owner_iri),
            (offer, iri(ODRL + "target"), p),
            (offer, iri(ODRL + "permission"), perm),
            *use_permission(perm, p, cons, duty),
        ]
        if is_open:
            desc.append((offer, a, iri(ETI + "OpenOffer")))
        services = 2 if rng.random() < 0.2 else 1
        for k in range(services):
            svc = iri(f"{p_iri}/services/{k + 1}")
            req, chan = (
                iri(f"{p_iri}/services/{k + 1}/requirement"),
                iri(f"{p_iri}/services/{k + 1}/channel"),
            )
            law = LAWS[rng.randrange(len(LAWS))]
            legal = iri(f"{BASE}legal/{law[0]}")
            desc.append((p, iri(ETI + "isAuthoritativeSourceFor"), svc))
            content += [
                (svc, a, iri(CPSV + "PublicService")),
                (svc, iri(DCT + "identifier"), lit(f"{ident}/{k + 1}")),
                (svc, iri(DCT + "title"), lit(f"{word.nb}{suffix}", "nb")),
                (svc, iri(DCT + "title"), lit(f"{word.nn}{suffix}", "nn")),
                (svc, iri(DCT + "title"), lit(f"{word.en}{suffix_en}", "en")),
                (
                    svc,
                    iri(DCT + "description"),
                    lit(f"{word.nb} for familier med alvorlig syke barn{suffix}.", "nb"),
                ),
                (
                    svc,
                    iri(DCT + "description"),
                    lit(f"{word.nn} for familiar med alvorleg sjuke barn{suffix}.", "nn"),
                ),
                (svc, iri(CV + "hasCompetentAuthority"), owner_iri),
                (svc, iri(CV + "holdsRequirement"), req),
                (svc, iri(CV + "hasLegalResource"), legal),
                (svc, iri(CV + "isGroupedBy"), iri(LIFE_EVENT)),
                (svc, iri(CV + "thematicArea"), iri(word.iri)),
                (svc, iri(CV + "thematicArea"), iri(tema.iri)),
                (svc, iri(CV + "hasChannel"), chan),
                (svc, iri(DCT + "spatial"), iri(place(where))),
                (req, a, iri(CV + "Requirement")),
                (req, iri(DCT + "identifier"), lit(f"{ident}/{k + 1}/requirement")),
                (req, iri(DCT + "title"), lit(f"Hvem kan få {word.nb.lower()}", "nb")),
                (chan, a, iri(CV + "Channel")),
                (chan, iri(DCT + "identifier"), lit(f"{ident}/{k + 1}/channel")),
                (chan, iri(DCT + "type"), iri(CHANNEL_TYPE + "homepage")),
                (chan, iri(VCARD + "hasURL"), iri(owner.homepage)),
                (chan, iri(CV + "ownedBy"), owner_iri),
                (legal, a, iri(ELI + "LegalResource")),
                (legal, iri(DCT + "identifier"), lit(law[1])),
                (legal, iri(DCT + "title"), lit(law[2], "nb")),
                (legal, iri(DCT + "title"), lit(law[3], "nn")),
                (legal, iri(DCT + "type"), iri(LEGAL_TYPE + "act")),
            ]
    return Product(
        ident,
        p_iri,
        owner,
        is_open,
        desc,
        content,
        title_nb,
        [EU + "data-theme/" + eu_theme, tema.iri, word.iri],
        where,
        modified,
    )


def record_triples(product: Product) -> list[Triple]:
    """The catalogue record of version 1, as ``records.record_ops`` writes it."""
    record = iri(f"urn:eti:record:{product.ident}")
    this = iri(f"urn:eti:record:{product.ident}:v1")
    agent = iri("urn:eti:agent:demo-loader")
    when = lit(REGISTERED_AT, datatype=XSD + "dateTime")
    a = iri(RDF + "type")
    status = iri(EU + "distribution-status/COMPLETED")
    topic = iri(product.iri)
    return [
        (record, a, iri(DCAT + "CatalogRecord")),
        (record, iri(FOAF + "primaryTopic"), topic),
        (record, iri(DCT + "identifier"), lit(product.ident)),
        (record, iri(DCT + "issued"), when),
        (record, iri(DCT + "modified"), when),
        (record, iri(DCAT + "version"), lit("1")),
        (record, iri(ADMS + "status"), status),
        (record, iri(PROV + "wasAttributedTo"), agent),
        (record, iri(DCAT + "hasVersion"), this),
        (record, iri(DCAT + "hasCurrentVersion"), this),
        (record, iri(DCT + "publisher"), iri(product.owner.iri)),
        (this, a, iri(DCAT + "CatalogRecord")),
        (this, iri(FOAF + "primaryTopic"), topic),
        (this, iri(DCAT + "version"), lit("1")),
        (this, iri(DCT + "issued"), when),
        (this, iri(ADMS + "status"), status),
        (this, iri(PROV + "wasAttributedTo"), agent),
        (this, iri(PROV + "generatedAtTime"), when),
        (this, iri(RDFS + "seeAlso"), iri(f"urn:eti:graph:history:{product.ident}:1")),
    ]


def agreement_triples(ident: str, product: Product, channel: str, rng: random.Random) -> list:
    ag = iri(f"{BASE}agreements/{ident}")
    a = iri(RDF + "type")
    period, perm, cons, duty = (f"_:{ident}x{k}".replace("-", "x") for k in "ptcd")
    start = AS_OF - dt.timedelta(days=rng.randrange(10, 300))
    end = start + dt.timedelta(days=730)
    owner, target = iri(product.owner.iri), iri(product.iri)
    return [
        (ag, a, iri(ODRL + "Agreement")),
        (ag, iri(ODRL + "uid"), ag),
        (ag, iri(DCT + "title"), lit(f"Avtale: {product.title_nb}", "nb")),
        (ag, iri(ODRL + "assigner"), owner),
        (ag, iri(ODRL + "assignee"), iri(channel)),
        (ag, iri(ODRL + "target"), target),
        (ag, iri(PROV + "wasDerivedFrom"), iri(f"{BASE}offers/{product.ident}")),
        (ag, iri(DCT + "issued"), date_lit(start - dt.timedelta(days=7))),
        (ag, iri(DCT + "temporal"), period),
        (period, a, iri(DCT + "PeriodOfTime")),
        (period, iri(DCAT + "startDate"), date_lit(start)),
        (period, iri(DCAT + "endDate"), date_lit(end)),
        (ag, iri(ETI + "agreementStatus"), iri(ETI + "active")),
        (ag, iri(ODRL + "permission"), perm),
        *use_permission(perm, target, cons, duty, owner, iri(channel)),
    ]


def use_permission(
    perm: str, target: str, cons: str, duty: str, assigner: str = "", assignee: str = ""
) -> list:
    """An odrl:use permission on ``target`` for service provision (DPV) with an
    attribution duty, as the demo's offers and agreements state it; an agreement's
    permission also names its parties."""
    a = iri(RDF + "type")
    parties = [(perm, iri(ODRL + "assigner"), assigner), (perm, iri(ODRL + "assignee"), assignee)]
    return [
        (perm, a, iri(ODRL + "Permission")),
        (perm, iri(ODRL + "action"), iri(ODRL + "use")),
        (perm, iri(ODRL + "target"), target),
        *(parties if assigner else []),
        (perm, iri(ODRL + "constraint"), cons),
        (perm, iri(ODRL + "duty"), duty),
        (cons, a, iri(ODRL + "Constraint")),
        (cons, iri(ODRL + "leftOperand"), iri(ODRL + "purpose")),
        (cons, iri(ODRL + "operator"), iri(ODRL + "eq")),
        (cons, iri(ODRL + "rightOperand"), iri(DPV + "ServiceProvision")),
        (duty, a, iri(ODRL + "Duty")),
        (duty, iri(ODRL + "action"), iri(ODRL + "attribute")),
    ]


def vocabulary_lines() -> list[str]:
    """The shipped ontology and vocabularies, as ``eti vocab install`` writes them."""
    root = files("eti.ontology")
    vocabularies = (p for p in (root / "vocabularies").iterdir() if p.name.endswith(".ttl"))
    sources = [root / "eti.ttl", *sorted(vocabularies, key=lambda p: p.name)]
    g = iri(VOCABULARIES)
    out = []
    for src in sources:
        for t in ox.parse(src.read_bytes(), ox.RdfFormat.TURTLE):
            out.append(f"{t.subject} {t.predicate} {t.object} {g} .\n")
    return out


# -- the whole catalogue ---------------------------------------------------------------------


class Generator:
    """Products from one seeded stream; the pools are fixed by the seed too."""

    def __init__(self, seed: int = 1, *, channels: int = 20, open_share: float = 0.5) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.orgs = organisations(self.rng)
        self.words, self.themes = los_concepts()
        self.channels = channels
        self.open_share = open_share

    def product(self, n: int, *, lean: bool = False, prefix: str = "") -> Product:
        rng = random.Random(f"{self.seed}:{prefix}:{n}")
        return make_product(
            n,
            rng,
            self.orgs,
            self.words,
            self.themes,
            open_share=self.open_share,
            lean=lean,
            prefix=prefix,
        )


def product_trig(product: Product) -> bytes:
    """One product as N-Quads-compatible TriG: description in the default graph, content
    in ``urn:eti:graph:content:{id}`` (what registration splits on)."""
    lines = [f"{s} {p} {o} .\n" for s, p, o in product.description]
    if product.content:
        lines.append(f"<urn:eti:graph:content:{product.ident}> {{\n")
        lines += [f"  {s} {p} {o} .\n" for s, p, o in product.content]
        lines.append("}\n")
    return "".join(lines).encode()


def generate(n: int, seed: int, out: Path, *, channels: int = 20, open_share: float = 0.5) -> dict:
    """Write catalogue.nq, public.nq, params.json and manifest.json into ``out``."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    gen = Generator(seed, channels=channels, open_share=open_share)
    agents = agent_triples(gen.orgs, channels, random.Random(f"{seed}:agents"))
    vocab = vocabulary_lines()
    chans = channel_iris(channels)
    counts = {"products": n, "open": 0, "agreements": 0, "catalogue_quads": 0, "public_quads": 0}
    params: dict[str, list] = {"products": [], "titles": [], "orgs": [], "themes": []}
    municipalities: set[str] = set()
    words_used: set[str] = set()
    with (
        (out / "catalogue.nq").open("w", encoding="utf-8") as cat,
        (out / "public.nq").open("w", encoding="utf-8") as pub,
    ):

        def both(line: str) -> None:
            cat.write(line)
            pub.write(line)
            # the catalogue also holds these triples in "read", the one graph its
            # anonymous queries scan (the union of the graphs the peers hold)
            statement = line.rstrip()[:-1].rstrip().rsplit(" ", 1)[0]
            cat.write(f"{statement} <{READ}> .\n")
            counts["catalogue_quads"] += 2
            counts["public_quads"] += 1

        for line in vocab:
            both(line)
        g = iri(AGENTS)
        for s, p, o in agents:
            both(f"{s} {p} {o} {g} .\n")
        ag_rng = random.Random(f"{seed}:agreements")
        shared_open: set[tuple[str, str, str]] = set()
        for i in range(n):
            product = gen.product(i)
            ident = product.ident
            pg, cg = iri(f"urn:eti:graph:product:{ident}"), iri(f"urn:eti:graph:content:{ident}")
            hg = iri(f"urn:eti:graph:history:{ident}:1")
            for s, p, o in product.description:
                cat.write(f"{s} {p} {o} {pg} .\n")
                cat.write(f"{s} {p} {o} {hg} .\n")
                both(f"{s} {p} {o} <{PUBLIC}> .\n")
            counts["catalogue_quads"] += 2 * len(product.description)
            for s, p, o in product.content:
                cat.write(f"{s} {p} {o} {cg} .\n")
                cat.write(f"{s} {p} {o} {hg} .\n")
                counts["catalogue_quads"] += 2
                if product.open:
                    # "open" is a graph: a triple that several products state (the
                    # description of a shared legal resource) is in it once
                    if s.startswith(SHARED):
                        if (s, p, o) in shared_open:
                            continue
                        shared_open.add((s, p, o))
                    both(f"{s} {p} {o} <{OPEN}> .\n")
            for s, p, o in record_triples(product):
                both(f"{s} {p} {o} <{RECORDS}> .\n")
            if product.open:
                counts["open"] += 1
            elif ag_rng.random() < 0.2:
                channel = chans[ag_rng.randrange(len(chans))]
                aid = f"{channel.rsplit('/', 1)[-1]}-{ident}"
                agg = iri(f"urn:eti:graph:agreement:{aid}")
                for s, p, o in agreement_triples(aid, product, channel, ag_rng):
                    cat.write(f"{s} {p} {o} {agg} .\n")
                    counts["catalogue_quads"] += 1
                counts["agreements"] += 1
            params["products"].append(product.iri)
            if len(params["titles"]) < 2000:
                params["titles"].append(product.title_nb)
            municipalities.add(product.municipality or "")
            words_used.update(product.themes)
    params["municipalities"] = sorted(place(m) for m in municipalities if m)
    params["themes"] = sorted(t for t in words_used if t.startswith(LOS + "ord/"))
    params["los_themes"] = sorted(t for t in words_used if t.startswith(LOS + "tema/"))
    params["eu_themes"] = sorted(EU + "data-theme/" + t for t in EU_THEMES)
    params["orgs"] = [o.iri for o in gen.orgs]
    params["words"] = sorted({w for t in params["titles"] for w in t.replace(":", " ").split()})
    params["words"] = [w for w in params["words"] if len(w) >= 5][:400]
    (out / "params.json").write_text(json.dumps(params, ensure_ascii=False, indent=0))
    counts["seed"] = seed
    counts["seconds"] = round(time.perf_counter() - started, 2)
    (out / "manifest.json").write_text(json.dumps(counts, indent=2))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--open-share", type=float, default=0.5)
    parser.add_argument(
        "--sample", type=int, default=0, help="also write N single products as TriG (samples/)"
    )
    args = parser.parse_args(argv)
    counts = generate(
        args.products, args.seed, args.out, channels=args.channels, open_share=args.open_share
    )
    if args.sample:
        gen = Generator(args.seed, channels=args.channels, open_share=args.open_share)
        folder = args.out / "samples"
        folder.mkdir(exist_ok=True)
        for i in range(args.sample):
            product = gen.product(i, prefix="sample-")
            (folder / f"{product.ident}.trig").write_bytes(product_trig(product))
            lean = gen.product(i, lean=True, prefix="lean-")
            (folder / f"{lean.ident}.trig").write_bytes(product_trig(lean))
    json.dump(counts, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
