"""Information needs of channels (``eti:InformationNeed``) and the products that meet them."""

from __future__ import annotations

import secrets
from datetime import date

import pyoxigraph as ox

from . import agreements, queries
from .auth import Identity
from .namespaces import AGENTS, CV, DCAT, DCT, ETI, RDF
from .store import Store
from .writes import BadInput, Forbidden, commit, serialised


def _iri(value: object, name: str) -> ox.NamedNode:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise BadInput(f"{name} must be an IRI")
    try:
        return ox.NamedNode(value)
    except ValueError:
        raise BadInput(f"{name} is not a valid IRI: {value!r}") from None


@serialised
def add(store: Store, who: Identity, body: dict) -> str:
    """Record a need of the caller's channel in the agents graph."""
    if who.role != "channel" or not who.channel:
        raise Forbidden("only channels record information needs")
    themes = body.get("themes") or []
    if not isinstance(themes, list) or (not themes and not body.get("life_event")):
        raise BadInput("give 'themes' (a list of IRIs) or a 'life_event' IRI")
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        raise BadInput("give a 'description' of the need")
    channel = ox.NamedNode(who.channel)
    need = ox.NamedNode(f"{who.channel}/needs/{secrets.token_hex(4)}")
    triples = [
        ox.Triple(channel, ox.NamedNode(ETI + "hasInformationNeed"), need),
        ox.Triple(need, ox.NamedNode(RDF + "type"), ox.NamedNode(ETI + "InformationNeed")),
        ox.Triple(
            need,
            ox.NamedNode(DCT + "description"),
            ox.Literal(description.strip(), language=body.get("lang", "nb")),
        ),
    ]
    triples += [ox.Triple(need, ox.NamedNode(DCAT + "theme"), _iri(t, "themes[]")) for t in themes]
    if body.get("life_event"):
        triples.append(
            ox.Triple(
                need, ox.NamedNode(CV + "isGroupedBy"), _iri(body["life_event"], "life_event")
            )
        )
    if body.get("spatial"):
        triples.append(
            ox.Triple(need, ox.NamedNode(DCT + "spatial"), _iri(body["spatial"], "spatial"))
        )
    commit(store, {AGENTS: [*store.triples(AGENTS), *triples]}, check=False)
    return need.value


def matches(store: Store, who: Identity, *, today: date) -> list[dict]:
    """Each need of the channel with the products meeting it (a shared theme or life event)
    and, per product, whether the channel holds an agreement in force."""
    channel = ox.NamedNode(who.channel or "")
    held = {a.target: a for a in agreements.for_caller(store, who)}
    out: dict[str, dict] = {}
    for row in store.query(queries.load("need-matches"), bindings={"channel": channel}):
        need = out.setdefault(
            row["need"].value,
            {
                "need": row["need"].value,
                "description": row["description"].value if row["description"] else None,
                "products": {},
            },
        )
        if row["product"] is None:
            continue
        product = row["product"].value
        agreement = held.get(product)
        need["products"][product] = {
            "product": product,
            "title": row["title"].value if row["title"] else None,
            "open": row["open"].value == "true",
            "agreement": agreement.ident if agreement else None,
            "status": agreement.effective(today) if agreement else None,
            "covered": row["open"].value == "true" or bool(agreement and agreement.in_force(today)),
        }
    return [
        {**n, "products": sorted(n["products"].values(), key=lambda p: p["product"])}
        for n in out.values()
    ]
