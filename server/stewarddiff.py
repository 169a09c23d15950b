"""A product's versions as readable changes: each added or removed statement as a row of
"what", "property" and "value" in words, not Turtle."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import pyoxigraph as ox

from eti.catalogue.namespaces import PREFIXES
from eti.catalogue.registry import Version

from .i18n import known, t

# The parts of a product the form makes, by the end of their IRI.
PARTS = {"": "diff.part.product", "/contact": "diff.part.contact", "/dataset": "diff.part.dataset"}
PARTS.update({"/dataset/turtle": "diff.part.distribution", "/sparql": "diff.part.port"})


def _compact(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and re.fullmatch(r"[\w.-]+", local):
            return f"{prefix}:{local}"
    return iri


def _property(iri: str) -> str:
    """A property in words when the pages know it ("Title"), else its short name."""
    local = re.split(r"[#/]", iri)[-1]
    key = f"diff.prop.{local}"
    return t(key) if known(key) else _compact(iri)


def _what(node: Any, product: str, offer: str) -> str:
    if isinstance(node, ox.BlankNode):
        return t("diff.part.inner")
    value = node.value
    if value == offer:
        return t("diff.part.offer")
    if value.startswith(product) and value[len(product) :] in PARTS:
        return t(PARTS[value[len(product) :]])
    return _compact(value)


def _value(node: Any, label: Callable[[str], str]) -> dict[str, str]:
    if isinstance(node, ox.Literal):
        return {"text": node.value, "lang": node.language or ""}
    if isinstance(node, ox.BlankNode):
        return {"text": t("diff.part.inner"), "lang": ""}
    named = label(node.value)
    fallback = re.split(r"[/#:]", node.value.rstrip("/"))[-1]  # what label() gives unknowns
    return {"text": named if named and named != fallback else _compact(node.value), "lang": ""}


def statement_rows(
    triples: Sequence[ox.Triple], product: str, label: Callable[[str], str], change: str
) -> list[dict[str, Any]]:
    """Statements as rows of what, property and value in words (``change``: "added" or
    "removed"), sorted; the types of blank nodes (an offer's parts) are left out."""
    offer = product.replace("/products/", "/offers/", 1)
    rows = [
        {
            "change": change,
            "what": _what(triple.subject, product, offer),
            "property": _property(triple.predicate.value),
            "value": _value(triple.object, label),
        }
        for triple in triples
        if not (
            triple.predicate.value.endswith("#type") and isinstance(triple.subject, ox.BlankNode)
        )
    ]
    return sorted(rows, key=lambda r: (r["what"], r["property"], r["change"] != "removed"))


def readable_versions(
    versions: Sequence[Version], product: str, label: Callable[[str], str]
) -> list[dict[str, Any]]:
    """Newest first: per version, who and when, and its changes as labelled rows (the
    statements about blank nodes, such as an offer's constraints, as "a part of it")."""
    out = []
    for v in reversed(versions):
        rows = statement_rows(v.added, product, label, "added")
        rows += statement_rows(v.removed, product, label, "removed")
        rows.sort(key=lambda r: (r["what"], r["property"], r["change"] != "removed"))
        out.append(
            {
                "version": v.version,
                "issued": v.issued,
                "status": v.status,
                "agent": re.split(r"[:/]", v.agent or "")[-1] if v.agent else "",
                "rows": rows,
            }
        )
    return out
