"""What a product page shows, gathered from the catalogue: the description the caller
may read (datasets, ports, contacts, offers and their duties, the caller's own
agreements, the version history, freshness) and the product's validation report, as a
write would make it (cached until the store is written or the day changes).

The words are the caller's: ``Words`` says in which language to pick texts and how to
name a concept, so the HTTP face decides wording and links and nothing here knows of it.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyoxigraph as ox

from . import agreements, registry
from .auth import Identity
from .namespaces import content_graph, product_graph

DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
DPROD = "https://ekgf.github.io/dprod/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
ETI = "https://w3id.org/eti#"
ADMS_STATUS = "http://www.w3.org/ns/adms#status"
ODRL_POLICY = "http://www.w3.org/ns/odrl/2/hasPolicy"
REPORTS_KEPT = 256  # product reports kept per store


@dataclass
class Words:
    """The caller's words: its language, how to pick one of a language-tagged set of
    texts, and a concept's label."""

    lang: str
    pick: Callable[[dict[str, str]], str]
    label: Callable[[str | None], str]


class Described:
    """Triples indexed by subject and predicate, for reading a description."""

    def __init__(self, triples: Iterable[ox.Triple], words: Words) -> None:
        self.words = words
        self.by: dict[Any, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for triple in triples:
            self.by[triple.subject][triple.predicate.value].append(triple.object)

    def objects(self, subject: Any, predicate: str) -> list[Any]:
        return sorted(self.by.get(subject, {}).get(predicate, []), key=str)

    def iris(self, subject: Any, predicate: str) -> list[str]:
        return [o.value for o in self.objects(subject, predicate) if isinstance(o, ox.NamedNode)]

    def iri(self, subject: Any, predicate: str) -> str | None:
        found = self.iris(subject, predicate)
        return found[0] if found else None

    def text(self, subject: Any, predicate: str) -> str:
        texts: dict[str, str] = {}
        for o in self.objects(subject, predicate):
            if isinstance(o, ox.Literal):
                texts.setdefault(o.language or "", o.value)
        return self.words.pick(texts) if texts else ""

    def texts(self, subject: Any, predicate: str) -> list[str]:
        """Literals in the caller's language, else in Bokmål, else untagged ones."""
        found = [o for o in self.objects(subject, predicate) if isinstance(o, ox.Literal)]
        for lang in (self.words.lang, "nb", None):
            chosen = {o.value for o in found if o.language == lang}
            if chosen:
                return sorted(chosen)
        return []

    def literal(self, subject: Any, predicate: str) -> str | None:
        for o in self.objects(subject, predicate):
            if isinstance(o, ox.Literal):
                return o.value
        return None


# --- the validation report of a product -------------------------------------------------

_reports: weakref.WeakKeyDictionary[Any, dict[tuple, Any]] = weakref.WeakKeyDictionary()
_reports_lock = threading.Lock()


def validation_report(store: Any, ident: str, today: date) -> Any:
    """The product's validation report as a write would make it (None: nothing to
    report), kept per store until it is written or the day changes."""
    from .writes import validate_changes

    key = (ident, getattr(store, "generation", 0), today)
    with _reports_lock:
        cache = _reports.setdefault(store, {})
        if key in cache:
            return cache[key]
    graph = product_graph(ident)
    reports = validate_changes(store, {graph: store.triples(graph)}, as_of=today)
    with _reports_lock:
        if len(cache) > REPORTS_KEPT:
            cache.clear()
        cache[key] = reports[0] if reports else None
    return cache[key]


def validation_summary(
    store: Any, ident: str, iri: str, visible: set[str], words: Words, today: date
) -> dict[str, Any] | None:
    """The report's verdict, counts, the product's quality and the results about what
    the caller sees; None when the product cannot be validated now."""
    from .writes import WriteError

    try:
        report = validation_report(store, ident, today)
    except WriteError:
        return None
    if report is None:
        return None
    results = [
        {"severity": r.severity, "message": r.message(words.lang), "resource": str(r.resource)}
        for r in report.results
        if str(r.resource) in visible
    ]
    return {
        "conforms": report.conforms,
        "counts": report.counts,
        "quality": report.quality.get(iri),
        "results": results,
    }


# --- the product page's model -----------------------------------------------------------


def _concepts(iris: Iterable[str], words: Words) -> list[dict[str, str]]:
    found = ({"iri": i, "label": words.label(i)} for i in iris)
    return sorted(found, key=lambda c: c["label"].lower())


def _contact(d: Described, node: Any) -> dict[str, Any]:
    def strip(iri: str | None, prefix: str) -> str | None:
        return iri[len(prefix) :] if iri and iri.startswith(prefix) else iri

    return {
        "name": d.text(node, VCARD + "fn") or d.text(node, VCARD + "organization-name"),
        "url": d.iri(node, VCARD + "hasURL"),
        "email": strip(d.iri(node, VCARD + "hasEmail"), "mailto:"),
        "phone": strip(d.iri(node, VCARD + "hasTelephone"), "tel:"),
    }


def _freshness(d: Described, p: ox.NamedNode, today: date) -> dict[str, Any] | None:
    frequency = d.iri(p, DCT + "accrualPeriodicity")
    modified = d.literal(p, DCT + "modified")
    if not (frequency and modified):
        return None
    from .validation import freshness_deadline

    try:
        deadline = freshness_deadline(date.fromisoformat(modified[:10]), frequency)
    except ValueError:
        return None
    if deadline is None:
        return None
    return {"fresh": today <= deadline, "deadline": deadline}


def _datasets(d: Described, p: ox.NamedNode, words: Words) -> list[dict[str, Any]]:
    out = []
    for node in d.objects(p, DPROD + "outputDataset"):
        distributions = [
            {
                "title": d.text(dist, DCT + "title"),
                "format": words.label(d.iri(dist, DCT + "format")),
                "licence": words.label(d.iri(dist, DCT + "license")),
                "access_url": d.iri(dist, DCAT + "accessURL"),
            }
            for dist in d.objects(node, DCAT + "distribution")
        ]
        out.append(
            {
                "iri": getattr(node, "value", ""),
                "title": d.text(node, DCT + "title"),
                "description": d.text(node, DCT + "description"),
                "distributions": distributions,
            }
        )
    return out


def _offers(store: Any, d: Described, p: ox.NamedNode, words: Words) -> list[dict[str, Any]]:
    """The product's offers; ``duties`` as (action IRI, refresh interval) pairs."""
    out = []
    for iri in d.iris(p, ODRL_POLICY):
        offer = agreements.get_offer(store, iri)
        if offer is None:
            continue
        out.append(
            {
                "iri": iri,
                "comment": d.text(ox.NamedNode(iri), RDFS_COMMENT),
                "open": offer.open,
                "purposes": _concepts(offer.purposes, words),
                "duties": list(offer.duties),
            }
        )
    return out


def _history(
    catalogue: Any, ident: str, record: registry.Record, caller: Identity, purpose: str | None
) -> list[dict[str, Any]]:
    readable = catalogue.reads_content(caller, record, purpose=purpose)
    return [
        {
            "version": v.version,
            "issued": v.issued,
            "status": registry.STATUS + v.status,
            "agent": re.split(r"[:/]", v.agent or "")[-1] if v.agent else "",
            "added": len(v.added),
            "removed": len(v.removed),
        }
        for v in reversed(registry.history(catalogue.store, ident, with_content=readable))
    ]


def product_model(
    catalogue: Any,
    ident: str,
    record: registry.Record,
    caller: Identity,
    *,
    purpose: str | None,
    words: Words,
    today: date,
) -> dict[str, Any]:
    """Everything the product page shows, for ``caller`` and the declared ``purpose``
    (one view decision, as for the API). ``agreements`` are the caller's own on the
    product; a history entry's ``status`` is the status IRI."""
    store = catalogue.store
    access = catalogue.access(caller, purpose=purpose)
    triples = catalogue.product_triples(ident, caller, access=access)
    d = Described(triples, words)
    p = ox.NamedNode(record.iri)
    doc = catalogue.searcher.index().documents.get(record.iri)
    ports = [
        {
            "iri": getattr(node, "value", ""),
            "title": d.text(node, DCT + "title"),
            "description": d.text(node, DCT + "description"),
            "endpoint": d.iri(node, DCAT + "endpointURL"),
        }
        for node in d.objects(p, DPROD + "outputPort")
    ]
    items = [
        {"iri": iri, "title": d.text(ox.NamedNode(iri), DCT + "title")}
        for iri in d.iris(p, ETI + "isAuthoritativeSourceFor")
    ]
    mine = []
    if not caller.anonymous:
        mine = [a for a in agreements.for_caller(store, caller) if a.target == record.iri]
    visible = {str(t.subject.value) for t in triples if isinstance(t.subject, ox.NamedNode)}
    status = d.iri(p, ADMS_STATUS)
    return {
        "ident": ident,
        "iri": record.iri,
        "record": record,
        "title": d.text(p, DCT + "title") or ident,
        "description": d.text(p, DCT + "description"),
        "keywords": d.texts(p, DCAT + "keyword"),
        "owner": _concepts(d.iris(p, DPROD + "dataProductOwner"), words),
        "publisher": _concepts(d.iris(p, DCT + "publisher"), words),
        "contacts": [_contact(d, node) for node in d.objects(p, DCAT + "contactPoint")],
        "themes": _concepts(d.iris(p, DCAT + "theme"), words),
        "events": _concepts(sorted(doc.facets.get("event", set())) if doc else [], words),
        "spatial": _concepts(d.iris(p, DCT + "spatial"), words),
        "frequency": words.label(d.iri(p, DCT + "accrualPeriodicity")),
        "modified": d.literal(p, DCT + "modified"),
        "issued": d.literal(p, DCT + "issued"),
        "version": d.literal(p, DCAT + "version"),
        "status": words.label(status),
        "status_code": (status or "").rsplit("/", 1)[-1],
        "access": words.label(d.iri(p, DCT + "accessRights")),
        "languages": [c["label"] for c in _concepts(d.iris(p, DCT + "language"), words)],
        "freshness": _freshness(d, p, today),
        "datasets": _datasets(d, p, words),
        "ports": ports,
        "info_items": items,
        "readable": access.reads(content_graph(ident)),
        "offers": _offers(store, d, p, words),
        "agreements": mine,
        "history": _history(catalogue, ident, record, caller, purpose),
        "validation": validation_summary(store, ident, record.iri, visible, words, today),
    }
