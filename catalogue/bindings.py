"""Which OIDC client speaks for which channel: bindings an admin makes.

A JWT with the channel scope names its client (``client_id``), not a channel; an admin
binds the client to a channel (``eti channel bind``). The bindings live in the store's
system graph, which no SPARQL caller can read.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pyoxigraph as ox

from . import clock, queries
from .namespaces import XSD
from .store import Store

_CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces


def _node(client_id: str) -> ox.NamedNode:
    if not _CLIENT_ID.match(client_id):
        raise ValueError(
            f"a client id is 1 to 200 printable ASCII characters without spaces, not {client_id!r}"
        )
    return ox.NamedNode("urn:eti:client:" + quote(client_id, safe=""))


def bind(store: Store, client_id: str, channel: str) -> None:
    """Let tokens of ``client_id`` (with the channel scope) act as ``channel``."""
    node = _node(client_id)
    iri = ox.NamedNode(channel)  # raises ValueError for a malformed IRI
    if not channel.startswith(("https://", "http://", "urn:")):
        raise ValueError(f"the channel must be an IRI (https://…), not {channel!r}")
    when = clock.now().replace(microsecond=0).isoformat().replace("+00:00", "Z")
    store.update(
        queries.load("client-bind"),
        bindings={
            "client": node,
            "id": ox.Literal(client_id),
            "channel": iri,
            "when": ox.Literal(when, datatype=ox.NamedNode(XSD + "dateTime")),
        },
    )


def unbind(store: Store, client_id: str) -> bool:
    """Remove a client's binding; False when it had none."""
    node = _node(client_id)
    if channel_of(store, client_id) is None:
        return False
    store.update(queries.load("client-unbind"), bindings={"client": node})
    return True


def channel_of(store: Store, client_id: str) -> str | None:
    """The channel ``client_id`` is bound to, or None."""
    try:
        node = _node(client_id)
    except ValueError:
        return None
    rows = list(store.query(queries.load("client-channel"), bindings={"client": node}))
    return rows[0]["channel"].value if rows else None


def listing(store: Store) -> list[dict[str, str]]:
    """Every binding: client id, channel and when it was made."""
    return [
        {"client_id": r["id"].value, "channel": r["channel"].value, "bound": r["bound"].value}
        for r in store.query(queries.load("client-list"))
    ]
