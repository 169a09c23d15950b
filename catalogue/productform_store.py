"""What the steward pages read from the store: the form's choices (vocabularies and
places) and an organisation's products with status, quality score and freshness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pyoxigraph as ox

from . import queries, registry
from .namespaces import ADMS, DCT, DPV, SKOS, VOCABULARIES, product_graph
from .productform import EU
from .rdfio import to_rdflib, to_rdflib_graph
from .store import Store

# Which concepts each choice of the form offers: by IRI prefix, or DPV's purpose scheme.
CHOICES = {
    "themes": (
        EU + "data-theme/",
        "https://psi.norge.no/los/tema/",
        "https://psi.norge.no/los/ord/",
    ),
    "frequency": (EU + "frequency/",),
    "access": (EU + "access-right/",),
    "licence": (EU + "licence/",),
    "status": (EU + "distribution-status/",),
    "spatial": (
        "https://eti.example/places/",
        "http://publications.europa.eu/resource/authority/country/",
    ),
}
PURPOSES = DPV + "purposes-classes"


def choices(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Per choice field, its concepts: ``{"iri", "labels": {lang: text}}``, in IRI order."""
    labels: dict[str, dict[str, str]] = {}
    schemes: dict[str, set[str]] = {}
    for row in store.query(queries.load("form-choices")):
        value = row["value"].value
        label = row["label"]
        labels.setdefault(value, {})[label.language or ""] = label.value
        if row["scheme"] is not None:
            schemes.setdefault(value, set()).add(row["scheme"].value)
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in [*CHOICES, "purposes"]}
    for value in sorted(labels):
        for name, prefixes in CHOICES.items():
            if value.startswith(prefixes):
                out[name].append({"iri": value, "labels": labels[value]})
        if PURPOSES in schemes.get(value, set()):
            out["purposes"].append({"iri": value, "labels": labels[value]})
    return out


@dataclass
class Listed:
    """One of an organisation's products, as ``/my/products`` lists it."""

    ident: str
    iri: str
    titles: dict[str, str]
    status: str
    version: int
    modified: str | None
    frequency: str | None
    due: date | None
    overdue: bool
    quality: dict[str, Any]


def organisation_products(store: Store, orgnr: str, today: date) -> list[Listed]:
    """The registered products of organisation ``orgnr``: overdue first (by due date),
    then those due soonest, then those without a due date, by id. The quality score is
    the metadata score of the stored description (a stored product passed the rules)."""
    from .quality import score_resources
    from .validation import freshness_deadline

    rows = store.query(queries.load("own-products"), bindings={"orgnr": ox.Literal(orgnr)})
    # the score asks only which scheme a value is in: those triples, not the vocabularies
    in_scheme = [t for t in store.triples(VOCABULARIES) if t.predicate.value == SKOS + "inScheme"]
    out = []
    for ident in sorted({row["id"].value for row in rows}):
        record = registry.get_record(store, ident)
        if record is None:
            continue
        description = store.triples(product_graph(ident))
        iri = ox.NamedNode(record.iri)
        about = [t for t in description if t.subject == iri]
        titles = {
            t.object.language or "": t.object.value
            for t in about
            if t.predicate.value == DCT + "title" and isinstance(t.object, ox.Literal)
        }

        def first(predicate: str, about: list = about) -> str | None:
            return next((t.object.value for t in about if t.predicate.value == predicate), None)

        modified, frequency = first(DCT + "modified"), first(DCT + "accrualPeriodicity")
        due = None
        if modified and frequency:
            try:
                due = freshness_deadline(date.fromisoformat(modified[:10]), frequency)
            except ValueError:
                due = None
        graph = to_rdflib_graph([*description, *in_scheme])
        quality = score_resources(graph, [to_rdflib(iri)], [])
        out.append(
            Listed(
                ident=ident,
                iri=record.iri,
                titles=titles,
                status=first(ADMS + "status") or "",
                version=record.version,
                modified=modified,
                frequency=frequency,
                due=due,
                overdue=due is not None and due < today,
                quality=next(iter(quality.values()), {}),
            )
        )
    out.sort(key=lambda p: (not p.overdue, p.due is None, p.due or date.max, p.ident))
    return out
