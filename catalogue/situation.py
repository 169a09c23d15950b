"""Compiling a family's situation: from every product the caller may read, what applies
in their municipality for the life event "Alvorlig sykt barn", grouped by need, each with
the responsible agency, how to apply, legal basis, authoritative source and freshness."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Any

import pyoxigraph as ox

from . import queries, search
from .auth import Identity
from .graphs import collapse
from .writes import BadInput, NotFound

LOS = "https://psi.norge.no/los/"


def compile_situation(
    catalogue: Any,
    who: Identity,
    *,
    municipality: str,
    age: int | None = None,
    needs: list[str] | None = None,
    purpose: str | None = None,
    today: date,
) -> dict[str, Any]:
    """The services that apply, grouped by need (Los theme), with sources and freshness."""
    from .validation import freshness_deadline

    if not re.fullmatch(r"[0-9]{4}", municipality or ""):
        raise BadInput("municipality must be a four-digit municipality number, e.g. 4207")
    if age is not None and not 0 <= age <= 25:
        raise BadInput("age must be between 0 and 25")
    store = catalogue.store
    rows = list(
        store.query(queries.load("place-by-number"), bindings={"number": ox.Literal(municipality)})
    )
    if not rows:
        raise NotFound(f"no municipality {municipality} in the catalogue")
    place = rows[0]["place"]
    access = catalogue.reading_view(who, purpose=purpose, today=today)
    labels = catalogue.searcher.index().labels
    services: dict[str, dict[str, Any]] = {}
    for row in store.query(
        queries.load("situation"),
        bindings={"place": place},
        default_graph=access.default or collapse(access.graphs),
        named_graphs=access.graphs,
    ):
        iri = row["service"].value
        item = services.setdefault(
            iri,
            {
                "service": iri,
                "title": _v(row["title"]),
                "description": _v(row["description"]),
                "authority": _v(row["authority"]),
                "authority_name": _v(row["authorityName"]),
                "requirement": _v(row["requirement"]),
                "apply_at": _v(row["applyAt"]),
                "area": _v(row["area"]),
                "legal_basis": {},
                "themes": set(),
                "source": None,
            },
        )
        if row["legal"] is not None:
            item["legal_basis"].setdefault(
                row["legal"].value, {"title": _v(row["legalTitle"]), "link": _v(row["legalPage"])}
            )
        if row["theme"] is not None:
            item["themes"].add(row["theme"].value)
        if row["product"] is not None and item["source"] is None:
            modified = _v(row["modified"])
            periodicity = _v(row["periodicity"])
            deadline = None
            if modified and periodicity:
                deadline = freshness_deadline(date.fromisoformat(modified[:10]), periodicity)
            item["source"] = {
                "product": row["product"].value,
                "modified": modified,
                "accrual_periodicity": periodicity,
                "fresh_until": deadline.isoformat() if deadline else None,
                "fresh": deadline is None or deadline >= today,
            }
    wanted = [n for n in (needs or []) if n.strip()]
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in sorted(
        services.values(), key=lambda s: (s["authority_name"] or "", s["title"] or "")
    ):
        if wanted and not any(_meets(item, need, labels) for need in wanted):
            continue
        for group in _groups(item):
            groups[group].append(item)
    out_groups = []
    for group, items in sorted(groups.items(), key=lambda kv: _label(labels, kv[0])):
        out_groups.append(
            {
                "need": group,
                "label": _label(labels, group),
                "services": [
                    {
                        **s,
                        "legal_basis": list(s["legal_basis"].values()),
                        "themes": sorted(s["themes"]),
                    }
                    for s in items
                ],
            }
        )
    producers = sorted(
        {s["authority"] for g in out_groups for s in g["services"] if s["authority"]}
    )
    agreements = [
        {"agreement": a.iri, "product": a.target, "purpose": a.purpose} for a in access.agreements
    ]
    return {
        "municipality": municipality,
        "place": place.value,
        "age": age,
        "age_note": "eligibility by age is stated in each service's requirement text; "
        "the catalogue holds no structured age bounds",
        "needs": wanted,
        "as_of": today.isoformat(),
        "producers": producers,
        "groups": out_groups,
        "agreements": agreements,
        "services": sum(len(g["services"]) for g in out_groups),
    }


def _v(term: ox.NamedNode | ox.Literal | None) -> str | None:
    return term.value if term is not None else None


def _groups(item: dict[str, Any]) -> list[str]:
    """The Los themes (tema) a service is grouped under; its words (ord) otherwise."""
    themes = sorted(t for t in item["themes"] if t.startswith(LOS + "tema/"))
    return themes or sorted(item["themes"]) or ["other"]


def _label(labels: dict[str, dict[str, str]], iri: str) -> str:
    found = labels.get(iri, {})
    return found.get("nb") or found.get("nn") or found.get("en") or iri.rsplit("/", 1)[-1]


def _meets(item: dict[str, Any], need: str, labels: dict[str, dict[str, str]]) -> bool:
    """A need is a Los IRI, a Los slug (e.g. 'omsorgsstonad'), or words to search for."""
    need = need.strip()
    if need.startswith("http"):
        return need in item["themes"]
    if any(t.rsplit("/", 1)[-1] == need for t in item["themes"]):
        return True
    text = " ".join(
        filter(
            None, [item["title"], item["description"], *(_label(labels, t) for t in item["themes"])]
        )
    )
    return search.text_score(text, need.replace("-", " ")) == 1.0
