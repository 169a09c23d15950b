"""A product description as a form: the steward pages' fields to RDF and back.

Pure functions: ``build`` turns a form (a dict of strings and lists of strings) into the
triples of a product description, ``to_form`` reads a description back into the form
for editing, ``submission`` adds the uploaded content as the API takes it (description
in the default graph, content in the product's content graph), and ``field_of`` says
which field a validation result concerns. Nothing here reads the store or the request:
what the steward pages write is exactly what ``POST /api/products`` writes for the same
body (``registry.register``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyoxigraph as ox

from .namespaces import (
    ADMS,
    BRREG,
    CPSV,
    DCAT,
    DCT,
    DPROD,
    ETI,
    ODRL,
    RDF,
    RDFS,
    VCARD,
    XSD,
    content_graph,
    is_valid_id,
)
from .rdfio import EXTENSIONS, RdfInputError, parse_quads

LANGS = ("nb", "nn", "en")
EU = "http://publications.europa.eu/resource/authority/"
LANGUAGE_CODES = {"nb": EU + "language/NOB", "nn": EU + "language/NNO", "en": EU + "language/ENG"}
TURTLE = EU + "file-type/RDF_TURTLE"
DURATION = re.compile(r"P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?\Z")
EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+\Z")
PHONE = re.compile(r"\+?[0-9][0-9 ]{3,20}\Z")
WEB = re.compile(r"https?://[^\s<>\"{}|\\^`]+\Z")
UPLOADS = (".ttl", ".turtle", ".trig", ".jsonld", ".json")
MAX_KEYWORDS = 30

# What the dataset says of itself, in the three languages of the form.
DATASET_TEXT = {
    "nb": "Offentlige tjenester og rettigheter i dataproduktet, beskrevet etter CPSV-AP-NO.",
    "nn": "Offentlege tenester og rettar i dataproduktet, skildra etter CPSV-AP-NO.",
    "en": "The public services and rights of the data product, described with CPSV-AP-NO.",
}
DISTRIBUTION_TITLE = {
    "nb": "Turtle via SPARQL-endepunktet",
    "nn": "Turtle via SPARQL-endepunktet",
    "en": "Turtle through the SPARQL endpoint",
}
PORT_TITLE = {
    "nb": "SPARQL-endepunkt for {}",
    "nn": "SPARQL-endepunkt for {}",
    "en": "SPARQL endpoint for {}",
}
PORT_TEXT = {
    "nb": "Innholdet i dataproduktet kan hentes med SPARQL fra katalogens endepunkt.",
    "nn": "Innhaldet i dataproduktet kan hentast med SPARQL frå endepunktet til katalogen.",
    "en": "The data product's content can be retrieved with SPARQL from the catalogue's endpoint.",
}

# Single-valued fields and list fields of the form (everything is a string).
TEXT_FIELDS = (
    "id",
    *(f"title_{lang}" for lang in LANGS),
    *(f"description_{lang}" for lang in LANGS),
    *(f"keywords_{lang}" for lang in LANGS),
    "frequency",
    "spatial",
    "contact_name",
    "contact_email",
    "contact_url",
    "contact_phone",
    "access",
    "licence",
    "status",
    "version",
    "offer",
    *(f"offer_comment_{lang}" for lang in LANGS),
    "duty_attribute",
    "duty_refresh",
    "issued",
)
LIST_FIELDS = ("themes", "purposes")


class FormProblem(ValueError):
    """A field the form cannot make RDF of: ``field`` and a message ``code``."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def empty() -> dict[str, Any]:
    """A new form: nothing filled in but the usual choices."""
    form: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "")
    form.update({name: [] for name in LIST_FIELDS})
    form.update(
        status=EU + "distribution-status/COMPLETED",
        access=EU + "access-right/PUBLIC",
        licence=EU + "licence/NLOD_2_0",
        offer="agreement",
        duty_attribute="on",
    )
    return form


def from_fields(values: Any) -> dict[str, Any]:
    """A form from submitted fields (a Werkzeug MultiDict or a plain dict), trimmed."""
    form: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = values.get(name, "")
        form[name] = str(value).strip()
    for name in LIST_FIELDS:
        got = values.getlist(name) if hasattr(values, "getlist") else values.get(name, [])
        form[name] = [str(v).strip() for v in got if str(v).strip()]
    return form


def problems(form: dict[str, Any]) -> list[FormProblem]:
    """What the form must say before the shapes can judge it (the shapes judge the rest)."""
    found = []
    if not is_valid_id(form["id"]):
        found.append(FormProblem("id", "form.id_invalid"))
    if form["contact_email"] and not EMAIL.match(form["contact_email"]):
        found.append(FormProblem("contact_email", "form.email_invalid"))
    if form["contact_url"] and not WEB.match(form["contact_url"]):
        found.append(FormProblem("contact_url", "form.url_invalid"))
    if form["contact_phone"] and not PHONE.match(form["contact_phone"]):
        found.append(FormProblem("contact_phone", "form.phone_invalid"))
    if form["duty_refresh"] and not DURATION.match(form["duty_refresh"]):
        found.append(FormProblem("duty_refresh", "form.duration_invalid"))
    if form["offer"] not in ("", "open", "agreement"):
        found.append(FormProblem("offer", "form.offer_invalid"))
    if form["offer"] and not form["purposes"]:
        found.append(FormProblem("purposes", "form.purposes_missing"))
    for name in ("frequency", "spatial", "access", "licence", "status", "themes", "purposes"):
        values = form[name] if isinstance(form[name], list) else [form[name]]
        if any(v and not WEB.match(v) for v in values):
            found.append(FormProblem(name, "form.choice_invalid"))
    if form["issued"] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", form["issued"]):
        found.append(FormProblem("issued", "form.date_invalid"))
    return found


def keywords(text: str) -> list[str]:
    """Keywords of a comma- or semicolon-separated field, each once, in order."""
    out = [k.strip() for k in re.split(r"[,;\n]", text) if k.strip()]
    return list(dict.fromkeys(out))[:MAX_KEYWORDS]


@dataclass(frozen=True)
class Names:
    """The IRIs a form's product is made of."""

    product: str
    contact: str
    dataset: str
    distribution: str
    port: str
    offer: str
    endpoint: str

    @classmethod
    def of(cls, base: str, ident: str) -> Names:
        product = f"{base}products/{ident}"
        return cls(
            product=product,
            contact=product + "/contact",
            dataset=product + "/dataset",
            distribution=product + "/dataset/turtle",
            port=product + "/sparql",
            offer=f"{base}offers/{ident}",
            endpoint=base + "sparql",
        )


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def services(content: Iterable[ox.Triple | ox.Quad]) -> list[str]:
    """The public services (IRIs) the content describes: what the product is the
    authoritative source of."""
    kind = _n(CPSV + "PublicService")
    return sorted(
        {
            t.subject.value
            for t in content
            if t.predicate.value == RDF + "type"
            and t.object == kind
            and isinstance(t.subject, ox.NamedNode)
        }
    )


def build(
    form: dict[str, Any],
    *,
    base: str,
    orgnr: str,
    today: date,
    items: Sequence[str] = (),
) -> list[ox.Triple]:
    """The product description a form says (owner and publisher: organisation
    ``orgnr``; ``dct:modified`` today; ``items``: the public services of its content).
    Raises FormProblem for the first field the form cannot make RDF of."""
    wrong = problems(form)
    if wrong:
        raise wrong[0]
    names = Names.of(base, form["id"])
    org = _n(BRREG + orgnr)
    p, contact, dataset = _n(names.product), _n(names.contact), _n(names.dataset)
    dist, port, offer = _n(names.distribution), _n(names.port), _n(names.offer)
    out: list[ox.Triple] = []

    def add(s: Any, predicate: str, o: Any) -> None:
        out.append(ox.Triple(s, _n(predicate), o))

    def texts(s: Any, predicate: str, prefix: str) -> None:
        for lang in LANGS:
            if form.get(f"{prefix}_{lang}"):
                add(s, predicate, ox.Literal(form[f"{prefix}_{lang}"], language=lang))

    def iri(s: Any, predicate: str, value: str) -> None:
        if value:
            add(s, predicate, _n(value))

    used = [lang for lang in LANGS if form.get(f"title_{lang}") or form.get(f"description_{lang}")]
    issued = form["issued"] or today.isoformat()
    day = _n(XSD + "date")
    add(p, RDF + "type", _n(DPROD + "DataProduct"))
    add(p, DCT + "identifier", ox.Literal(form["id"]))
    texts(p, DCT + "title", "title")
    texts(p, DCT + "description", "description")
    add(p, DPROD + "dataProductOwner", org)
    add(p, DCT + "publisher", org)
    add(p, DCAT + "contactPoint", contact)
    for theme in form["themes"]:
        iri(p, DCAT + "theme", theme)
    words = [
        ox.Literal(word, language=lang)
        for lang in LANGS
        for word in keywords(form.get(f"keywords_{lang}", ""))
    ]
    for word in words:
        add(p, DCAT + "keyword", word)
    iri(p, DCT + "accrualPeriodicity", form["frequency"])
    add(p, DCT + "issued", ox.Literal(issued, datatype=day))
    add(p, DCT + "modified", ox.Literal(today.isoformat(), datatype=day))
    iri(p, DCT + "spatial", form["spatial"])
    for lang in used:
        iri(p, DCT + "language", LANGUAGE_CODES[lang])
    iri(p, DCT + "accessRights", form["access"])
    if form["version"]:
        add(p, DCAT + "version", ox.Literal(form["version"]))
    iri(p, ADMS + "status", form["status"])
    add(p, DPROD + "outputDataset", dataset)
    add(p, DPROD + "outputPort", port)
    for item in items:
        iri(p, ETI + "isAuthoritativeSourceFor", item)
    # the contact point
    add(contact, RDF + "type", _n(VCARD + "Organization"))
    if form["contact_name"]:
        add(contact, VCARD + "fn", ox.Literal(form["contact_name"]))
    if form["contact_email"]:
        add(contact, VCARD + "hasEmail", _n("mailto:" + form["contact_email"]))
    iri(contact, VCARD + "hasURL", form["contact_url"])
    if form["contact_phone"]:
        add(contact, VCARD + "hasTelephone", _n("tel:" + form["contact_phone"].replace(" ", "")))
    # the output dataset, its distribution and the port that serves it
    add(dataset, RDF + "type", _n(DCAT + "Dataset"))
    add(dataset, DCT + "identifier", ox.Literal(form["id"] + "/dataset"))
    texts(dataset, DCT + "title", "title")
    for lang in used:
        add(dataset, DCT + "description", ox.Literal(DATASET_TEXT[lang], language=lang))
    add(dataset, DCT + "publisher", org)
    add(dataset, DCAT + "contactPoint", contact)
    for theme in form["themes"]:
        iri(dataset, DCAT + "theme", theme)
    iri(dataset, DCT + "spatial", form["spatial"])
    iri(dataset, DCT + "accessRights", form["access"])
    for lang in used:
        iri(dataset, DCT + "language", LANGUAGE_CODES[lang])
    for word in words:
        add(dataset, DCAT + "keyword", word)
    add(dataset, DCT + "modified", ox.Literal(today.isoformat(), datatype=day))
    add(dataset, DCAT + "distribution", dist)
    add(dist, RDF + "type", _n(DCAT + "Distribution"))
    for lang in used:
        add(dist, DCT + "title", ox.Literal(DISTRIBUTION_TITLE[lang], language=lang))
    add(dist, DCAT + "accessURL", _n(names.endpoint))
    add(dist, DCAT + "accessService", port)
    add(dist, DCT + "format", _n(TURTLE))
    iri(dist, DCT + "license", form["licence"])
    add(dist, DPROD + "isDistributionOf", dataset)
    add(port, RDF + "type", _n(DCAT + "DataService"))
    add(port, DCT + "identifier", ox.Literal(form["id"] + "/sparql"))
    for lang in LANGS:
        if form.get(f"title_{lang}"):
            title = PORT_TITLE[lang].format(form[f"title_{lang}"])
            add(port, DCT + "title", ox.Literal(title, language=lang))
    for lang in used:
        add(port, DCT + "description", ox.Literal(PORT_TEXT[lang], language=lang))
    add(port, DCAT + "endpointURL", _n(names.endpoint))
    add(port, DCAT + "servesDataset", dataset)
    add(port, DPROD + "isAccessServiceOf", dist)
    add(port, DCT + "publisher", org)
    add(port, DCAT + "contactPoint", contact)
    if form["offer"]:
        out += _offer(form, p, offer, org)
    return out


def _offer(form: dict[str, Any], p: ox.NamedNode, offer: ox.NamedNode, org: ox.NamedNode):
    """The ODRL offer: open (anyone's request is accepted) or by agreement; one permission
    to use the product for the chosen DPV purposes, with the chosen duties."""
    out: list[ox.Triple] = []

    def add(s: Any, predicate: str, o: Any) -> None:
        out.append(ox.Triple(s, _n(predicate), o))

    add(p, ODRL + "hasPolicy", offer)
    add(offer, RDF + "type", _n(ODRL + "Offer"))
    if form["offer"] == "open":
        add(offer, RDF + "type", _n(ETI + "OpenOffer"))
    add(offer, ODRL + "uid", offer)
    add(offer, ODRL + "assigner", org)
    add(offer, ODRL + "target", p)
    for lang in LANGS:
        if form.get(f"offer_comment_{lang}"):
            comment = ox.Literal(form[f"offer_comment_{lang}"], language=lang)
            add(offer, RDFS + "comment", comment)
    permission = ox.BlankNode()
    add(offer, ODRL + "permission", permission)
    add(permission, RDF + "type", _n(ODRL + "Permission"))
    add(permission, ODRL + "action", _n(ODRL + "use"))
    add(permission, ODRL + "target", p)
    add(permission, ODRL + "assigner", org)
    for purpose in form["purposes"]:
        constraint = ox.BlankNode()
        add(permission, ODRL + "constraint", constraint)
        add(constraint, RDF + "type", _n(ODRL + "Constraint"))
        add(constraint, ODRL + "leftOperand", _n(ODRL + "purpose"))
        add(constraint, ODRL + "operator", _n(ODRL + "eq"))
        add(constraint, ODRL + "rightOperand", _n(purpose))
    if form["duty_attribute"]:
        duty = ox.BlankNode()
        add(permission, ODRL + "duty", duty)
        add(duty, RDF + "type", _n(ODRL + "Duty"))
        add(duty, ODRL + "action", _n(ODRL + "attribute"))
    if form["duty_refresh"]:
        duty, constraint = ox.BlankNode(), ox.BlankNode()
        add(permission, ODRL + "duty", duty)
        add(duty, RDF + "type", _n(ODRL + "Duty"))
        add(duty, ODRL + "action", _n(ETI + "refresh"))
        add(duty, ODRL + "constraint", constraint)
        add(constraint, RDF + "type", _n(ODRL + "Constraint"))
        add(constraint, ODRL + "leftOperand", _n(ODRL + "elapsedTime"))
        add(constraint, ODRL + "operator", _n(ODRL + "lteq"))
        add(
            constraint,
            ODRL + "rightOperand",
            ox.Literal(form["duty_refresh"], datatype=_n(XSD + "duration")),
        )
    return out


class _Read:
    """Triples by subject and predicate."""

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self.by: dict[Any, dict[str, list[Any]]] = {}
        for t in triples:
            self.by.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(t.object)

    def all(self, s: Any, predicate: str) -> list[Any]:
        return sorted(self.by.get(s, {}).get(predicate, []), key=str)

    def one(self, s: Any, predicate: str) -> Any:
        found = self.all(s, predicate)
        return found[0] if found else None

    def iri(self, s: Any, predicate: str) -> str:
        found = self.one(s, predicate)
        return found.value if isinstance(found, ox.NamedNode) else ""

    def text(self, s: Any, predicate: str, lang: str | None = None) -> str:
        for o in self.all(s, predicate):
            if isinstance(o, ox.Literal) and (lang is None or o.language == lang):
                return o.value
        return ""


def to_form(description: Sequence[ox.Triple], iri: str) -> dict[str, Any]:
    """The form of a stored description (the current version, for editing)."""
    d = _Read(description)
    p = _n(iri)
    form = empty()
    form["id"] = d.text(p, DCT + "identifier") or iri.rstrip("/").rsplit("/", 1)[-1]
    for lang in LANGS:
        form[f"title_{lang}"] = d.text(p, DCT + "title", lang)
        form[f"description_{lang}"] = d.text(p, DCT + "description", lang)
        words = [o.value for o in d.all(p, DCAT + "keyword") if o.language == lang]
        form[f"keywords_{lang}"] = ", ".join(sorted(words))
    form["themes"] = [o.value for o in d.all(p, DCAT + "theme") if isinstance(o, ox.NamedNode)]
    form["frequency"] = d.iri(p, DCT + "accrualPeriodicity")
    form["spatial"] = d.iri(p, DCT + "spatial")
    form["access"] = d.iri(p, DCT + "accessRights")
    form["status"] = d.iri(p, ADMS + "status")
    form["version"] = d.text(p, DCAT + "version")
    form["issued"] = d.text(p, DCT + "issued")[:10]
    contact = d.one(p, DCAT + "contactPoint")
    form["contact_name"] = d.text(contact, VCARD + "fn") or d.text(
        contact, VCARD + "organization-name"
    )
    form["contact_email"] = d.iri(contact, VCARD + "hasEmail").removeprefix("mailto:")
    form["contact_url"] = d.iri(contact, VCARD + "hasURL")
    form["contact_phone"] = d.iri(contact, VCARD + "hasTelephone").removeprefix("tel:")
    form["licence"] = ""
    for dataset in d.all(p, DPROD + "outputDataset"):
        for dist in d.all(dataset, DCAT + "distribution"):
            form["licence"] = form["licence"] or d.iri(dist, DCT + "license")
    form.update(offer="", purposes=[], duty_attribute="", duty_refresh="")
    offer = d.one(p, ODRL + "hasPolicy")
    if offer is not None:
        kinds = {o.value for o in d.all(offer, RDF + "type")}
        form["offer"] = "open" if ETI + "OpenOffer" in kinds else "agreement"
        for lang in LANGS:
            form[f"offer_comment_{lang}"] = d.text(offer, RDFS + "comment", lang)
        for permission in d.all(offer, ODRL + "permission"):
            for c in d.all(permission, ODRL + "constraint"):
                if d.iri(c, ODRL + "leftOperand") == ODRL + "purpose":
                    form["purposes"].append(d.iri(c, ODRL + "rightOperand"))
            for duty in d.all(permission, ODRL + "duty"):
                action = d.iri(duty, ODRL + "action")
                if action == ODRL + "attribute":
                    form["duty_attribute"] = "on"
                elif action == ETI + "refresh":
                    for c in d.all(duty, ODRL + "constraint"):
                        form["duty_refresh"] = d.text(c, ODRL + "rightOperand")
        form["purposes"] = sorted(set(form["purposes"]))
    return form


def read_content(data: bytes, filename: str) -> list[ox.Triple]:
    """The content a steward uploads (TriG, Turtle or JSON-LD, told by the file's name):
    all of its triples, whichever graph they are in. Raises RdfInputError, naming the
    file and the line and column of a syntax error, for anything else."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in UPLOADS:
        raise RdfInputError(
            "the content must be a TriG (.trig), Turtle (.ttl) or JSON-LD (.jsonld) file",
            source=filename or "upload",
        )
    if not data.strip():
        raise RdfInputError("the file is empty", source=filename)
    quads = parse_quads(data, EXTENSIONS[suffix], source=filename, fresh_blank_nodes=True)
    if not quads:
        raise RdfInputError("the file holds no statements", source=filename)
    kinds = {q.object.value for q in quads if q.predicate.value == RDF + "type"}
    if DPROD + "DataProduct" in kinds:
        raise RdfInputError(
            "the file describes a data product: upload only the content (public services); "
            "the form makes the description",
            source=filename,
        )
    return [ox.Triple(q.subject, q.predicate, q.object) for q in quads]


def lost_statements(
    stored: Sequence[ox.Triple], form_again: Sequence[ox.Triple]
) -> list[ox.Triple]:
    """What of a stored description the form, read from it and made again, would not
    state (blank nodes compared by position); the day of the last change is not counted
    (a save sets it)."""

    def key(t: ox.Triple) -> tuple[str, str, str]:
        terms = [("_:" if isinstance(x, ox.BlankNode) else str(x)) for x in t]
        return terms[0], terms[1], terms[2]

    kept = {key(t) for t in form_again}
    modified = DCT + "modified"
    return [t for t in stored if key(t) not in kept and t.predicate.value != modified]


def submission(
    description: Sequence[ox.Triple], content: Sequence[ox.Triple], ident: str
) -> list[ox.Quad]:
    """The body the API would take for the product: the description in the default graph,
    the content in the product's content graph (as a TriG upload gives them)."""
    graph = _n(content_graph(ident))
    return [
        *(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in description),
        *(ox.Quad(t.subject, t.predicate, t.object, graph) for t in content),
    ]


# Which field a validation result concerns: by the role of its resource, then its path.
_FIELDS = {
    "product": {
        DCT + "title": "title_nb",
        DCT + "description": "description_nb",
        DCAT + "keyword": "keywords_nb",
        DCAT + "theme": "themes",
        DCT + "accrualPeriodicity": "frequency",
        DCT + "spatial": "spatial",
        DCAT + "contactPoint": "contact_email",
        DCT + "accessRights": "access",
        ADMS + "status": "status",
        DCAT + "version": "version",
        DCT + "issued": "issued",
        DCT + "modified": "frequency",
        ODRL + "hasPolicy": "offer",
    },
    "contact": {
        VCARD + "hasEmail": "contact_email",
        VCARD + "hasURL": "contact_url",
        VCARD + "hasTelephone": "contact_phone",
    },
    "distribution": {DCT + "license": "licence"},
    "dataset": {DCT + "license": "licence", DCAT + "theme": "themes"},
    "offer": {ODRL + "permission": "purposes"},
}
_ROLE_DEFAULT = {
    "product": "",
    "contact": "contact_email",
    "distribution": "licence",
    "dataset": "",
    "port": "",
    "offer": "purposes",
}


_TEXTS = {DCT + "title": "title", DCT + "description": "description", DCAT + "keyword": "keywords"}


def field_of(
    resource: str, path: str | None, names: Names, form: dict[str, Any] | None = None
) -> str:
    """The form field a result about ``resource`` (``path``: its property IRI) concerns;
    "content" for the uploaded content, "" for the product as a whole. A text missing in
    a language is the first of that field's languages left empty (the dataset and the
    port take their titles from the product's)."""
    roles = {
        names.product: "product",
        names.contact: "contact",
        names.dataset: "dataset",
        names.distribution: "distribution",
        names.port: "port",
        names.offer: "offer",
    }
    role = roles.get(resource)
    if role is None:
        return "content"
    if role in ("product", "dataset", "port") and path in _TEXTS:
        prefix = _TEXTS[path]
        empty_ones = [
            lang for lang in LANGS if form is not None and not form.get(f"{prefix}_{lang}")
        ]
        return f"{prefix}_{empty_ones[0] if empty_ones else 'nb'}"
    return _FIELDS.get(role, {}).get(path or "", _ROLE_DEFAULT[role])
