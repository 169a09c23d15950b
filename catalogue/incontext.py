"""Validation in the catalogue's context: a file checked with what registration checks it
with (the agents it names, the products claiming the same information items, an
agreement's target product and offer), so a producer's CI gets the verdict the catalogue
would give (``eti validate FILE --server URL`` / ``--store PATH``,
``POST /api/validate?context=catalogue``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pyoxigraph as ox
import rdflib

from . import rdfio
from .store import Store
from .validation import Report, validate
from .writes import agents_named, context_for_agreement, context_for_product

_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_PRODUCT = "https://ekgf.github.io/dprod/DataProduct"
_AGREEMENT = "http://www.w3.org/ns/odrl/2/Agreement"


def catalogue_context(store: Store, data: rdflib.Graph) -> rdflib.Graph:
    """What the catalogue in ``store`` says about what ``data`` refers to, as registration
    reads it; what ``data`` itself describes is left out (the file's word replaces it)."""
    triples = rdfio.from_rdflib_graph(data)
    types = {t.object.value for t in triples if t.predicate.value == _TYPE}
    context = agents_named(store, triples, {})
    if _PRODUCT in types:
        context += context_for_product(store, triples, triples, {})
    if _AGREEMENT in types:
        context += context_for_agreement(store, triples, {})
    described = {t.subject for t in triples}
    kept: list[ox.Triple] = [t for t in dict.fromkeys(context) if t.subject not in described]
    return rdfio.to_rdflib_graph(kept)


def validate_in_catalogue(
    store: Store,
    data: rdflib.Graph,
    profiles: Sequence[str] | None = None,
    *,
    as_of: dt.date | None = None,
    progress: Callable[[str], object] | None = None,
) -> Report:
    """``data`` validated with the catalogue's context (see ``catalogue_context``);
    ``progress`` as for ``validate``."""
    context = catalogue_context(store, data)
    return validate(data, profiles, as_of=as_of, context=context, progress=progress)
