"""Information needs of channels (``eti:InformationNeed``) and the products that meet them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import pyoxigraph as ox

from . import agreements, queries
from .auth import Identity
from .namespaces import AGENTS, CV, DCAT, DCT, ETI, RDF
from .store import Store
from .writes import BadInput, Forbidden, WriteError, commit, serialised

HAS_NEED = ETI + "hasInformationNeed"


class NeedTooLarge(WriteError):
    """One need is larger than ``need_max_bytes``."""

    status, error = 413, "Content Too Large"


class NeedQuotaReached(WriteError):
    """The channel's needs reached ``needs_per_channel`` or ``need_bytes_per_channel``."""

    status, error = 429, "Too Many Requests"


@dataclass(frozen=True)
class Quota:
    """How much a channel may record: the largest need (bytes of its triples, as
    N-Triples), how many needs, and how many bytes of needs in all (settings
    ``need_max_bytes``, ``needs_per_channel``, ``need_bytes_per_channel``)."""

    max_bytes: int = 4096
    per_channel: int = 100
    bytes_per_channel: int = 256 * 1024


def _size(triples: list[ox.Triple]) -> int:
    return sum(len(str(t).encode()) + 3 for t in triples)  # " .\n" ends each line


def _check_quota(
    agents: list[ox.Triple], channel: ox.NamedNode, new: list[ox.Triple], quota: Quota
) -> None:
    """413 when the new need alone is too large; 429 when the channel's needs would pass
    its quota (by count or by size). Both name the setting."""
    size = _size(new)
    if size > quota.max_bytes:
        raise NeedTooLarge(
            f"the need is {size} bytes; one need may be {quota.max_bytes} bytes at most "
            "(need_max_bytes): shorten its description or give fewer themes"
        )
    held = {t.object for t in agents if t.subject == channel and t.predicate.value == HAS_NEED}
    if len(held) >= quota.per_channel:
        raise NeedQuotaReached(
            f"the channel has {len(held)} information needs already, as many as it may "
            f"(needs_per_channel = {quota.per_channel})"
        )
    total = _size([t for t in agents if t.subject in held]) + size
    if total > quota.bytes_per_channel:
        raise NeedQuotaReached(
            f"the channel's needs would take {total} bytes, more than it may "
            f"(need_bytes_per_channel = {quota.bytes_per_channel})"
        )


def _iri(value: object, name: str) -> ox.NamedNode:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise BadInput(f"{name} must be an IRI")
    try:
        return ox.NamedNode(value)
    except ValueError:
        raise BadInput(f"{name} is not a valid IRI: {value!r}") from None


def _known(store: Store, query: str, variable: str, node: ox.NamedNode, what: str) -> None:
    """400 naming ``node`` when the catalogue does not know it: a need on a concept or
    place nothing is described with could never be met."""
    if not store.query(queries.load(query), bindings={variable: node}):
        raise BadInput(f"<{node.value}> is not {what} the catalogue knows")


@serialised
def add(store: Store, who: Identity, body: dict, quota: Quota | None = None) -> str:
    """Record a need of the caller's channel in the agents graph, within its ``quota``."""
    if who.role != "channel" or not who.channel:
        raise Forbidden("only channels record information needs")
    themes = body.get("themes") or []
    if not isinstance(themes, list) or (not themes and not body.get("life_event")):
        raise BadInput("give 'themes' (a list of IRIs) or a 'life_event' IRI")
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        raise BadInput("give a 'description' of the need")
    lang = body.get("lang", "nb")
    if lang not in ("nb", "nn", "en"):
        raise BadInput(f"lang must be nb, nn or en, not {lang!r}")
    theme_nodes = [_iri(t, "themes[]") for t in themes]
    event = _iri(body["life_event"], "life_event") if body.get("life_event") else None
    spatial = _iri(body["spatial"], "spatial") if body.get("spatial") else None
    for concept in [*theme_nodes, *([event] if event else [])]:
        _known(store, "concept-known", "concept", concept, "a concept (theme or life event)")
    if spatial is not None:
        _known(store, "place-known", "place", spatial, "a place")
    channel = ox.NamedNode(who.channel)
    need = ox.NamedNode(f"{who.channel}/needs/{secrets.token_hex(4)}")
    triples = [
        ox.Triple(channel, ox.NamedNode(HAS_NEED), need),
        ox.Triple(need, ox.NamedNode(RDF + "type"), ox.NamedNode(ETI + "InformationNeed")),
        ox.Triple(
            need,
            ox.NamedNode(DCT + "description"),
            ox.Literal(description.strip(), language=lang),
        ),
    ]
    triples += [ox.Triple(need, ox.NamedNode(DCAT + "theme"), t) for t in theme_nodes]
    if event is not None:
        triples.append(ox.Triple(need, ox.NamedNode(CV + "isGroupedBy"), event))
    if spatial is not None:
        triples.append(ox.Triple(need, ox.NamedNode(DCT + "spatial"), spatial))
    agents = store.triples(AGENTS)
    _check_quota(agents, channel, triples, quota or Quota())
    commit(store, {AGENTS: [*agents, *triples]}, check=False)
    return need.value


def _held(store: Store, who: Identity, today: date) -> dict[str, agreements.Agreement]:
    """Per product, the caller's agreement that tells most: one in force before any other,
    then the latest to end."""
    best: dict[str, agreements.Agreement] = {}
    for agreement in agreements.for_caller(store, who):
        rank = (agreement.in_force(today), agreement.end)
        current = best.get(agreement.target)
        if current is None or rank > (current.in_force(today), current.end):
            best[agreement.target] = agreement
    return best


def matches(store: Store, who: Identity, *, today: date) -> list[dict]:
    """Each need of the channel with the products meeting it (a shared theme, or the
    need's life event, within the need's area: see ``need-matches.rq``) and, per product,
    whether the channel holds an agreement in force (``covered``: that, or an open offer)."""
    channel = ox.NamedNode(who.channel or "")
    held = _held(store, who, today)
    out: dict[str, dict] = {}
    for row in store.query(queries.load("need-matches"), bindings={"channel": channel}):
        need = out.setdefault(
            row["need"].value, {"need": row["need"].value, "description": None, "products": {}}
        )
        text = row["description"]
        if text is not None and (need["description"] is None or text.language == "nb"):
            need["description"] = text.value  # the Bokmål text when there is one
        if row["product"] is None:
            continue
        product = row["product"].value
        agreement = held.get(product)
        is_open = row["open"] is not None and row["open"].value == "true"
        need["products"][product] = {
            "product": product,
            "title": row["title"].value if row["title"] else None,
            "open": is_open,
            "agreement": agreement.ident if agreement else None,
            "status": agreement.effective(today) if agreement else None,
            "covered": is_open or bool(agreement and agreement.in_force(today)),
        }
    return [
        {**n, "products": sorted(n["products"].values(), key=lambda p: p["product"])}
        for n in out.values()
    ]
