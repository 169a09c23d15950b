"""Who is calling: bearer tokens, stored as hashes only, behind a small interface.

``Authenticator`` is what the server asks; ``TokenTable`` is the built-in one (tokens
in the store's system graph, never readable through SPARQL). JWT access tokens of an
OAuth2/OIDC issuer (Maskinporten in production) are verified by ``eti.catalogue.oidc``
behind the same interface.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import pyoxigraph as ox

from . import clock, queries
from .graphs import insert_data
from .namespaces import XSD
from .store import Store

ROLES = ("admin", "steward", "channel")
SYS = "urn:eti:sys:"
_TOKEN = re.compile(r"^eti_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
_ORGNR = re.compile(r"^[0-9]{9}$")


@dataclass(frozen=True)
class Identity:
    """A caller: an admin, a steward acting for one organisation, a channel, or anonymous.

    A static token sets ``token_id``; a JWT access token (``eti.catalogue.oidc``) sets
    ``client_id``, ``issuer``, ``consumer`` (the organisation the token is for, whatever
    the role) and ``supplier`` (an organisation acting for the consumer, when delegated).
    """

    role: str = "anonymous"
    org: str | None = None
    channel: str | None = None
    name: str | None = None
    token_id: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    consumer: str | None = None
    supplier: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.role == "anonymous"


ANONYMOUS = Identity()


class AuthError(ValueError):
    """A credential that does not hold (unknown, revoked, expired or malformed)."""


class Authenticator(Protocol):
    """Turns a bearer token into an identity."""

    def authenticate(self, token: str) -> Identity:
        """The identity of ``token``; raises AuthError when it does not hold."""
        ...


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return clock.now().replace(microsecond=0)


def _time(value: datetime) -> ox.Literal:
    return ox.Literal(
        value.isoformat().replace("+00:00", "Z"), datatype=ox.NamedNode(XSD + "dateTime")
    )


class TokenTable:
    """Bearer tokens kept in the store's system graph (hashes only)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(
        self,
        role: str,
        *,
        org: str | None = None,
        channel: str | None = None,
        name: str | None = None,
        days: int | None = None,
    ) -> tuple[str, str]:
        """A new token: returns (id, token). The token is shown once and never stored."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if role == "steward" and not (org and _ORGNR.match(org)):
            raise ValueError("a steward token needs --org with a 9-digit organisation number")
        if role == "channel":
            if not channel:
                raise ValueError("a channel token needs --channel with the channel's IRI")
            ox.NamedNode(channel)  # raises ValueError for a malformed IRI
        if role != "steward" and org:
            raise ValueError("--org is for steward tokens")
        if role != "channel" and channel:
            raise ValueError("--channel is for channel tokens")
        ident = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        node = ox.NamedNode(f"urn:eti:token:{ident}")
        created = _now()
        fields: list[tuple[str, ox.NamedNode | ox.Literal]] = [
            ("hash", ox.Literal(_hash(secret))),
            ("role", ox.Literal(role)),
            ("created", _time(created)),
        ]
        if org:
            fields.append(("org", ox.Literal(org)))
        if channel:
            fields.append(("channel", ox.NamedNode(channel)))
        if name:
            fields.append(("name", ox.Literal(name)))
        if days is not None:
            fields.append(("expires", _time(created + timedelta(days=days))))
        triples = [ox.Triple(node, ox.NamedNode(SYS + k), v) for k, v in fields]
        self.store.update(insert_data({"urn:eti:graph:system": triples}))
        return ident, f"eti_{ident}_{secret}"

    def list(self) -> list[dict[str, str | None]]:
        """Every token's id, role, scope, name and state (never the hash)."""
        rows = self.store.query(queries.load("token-list"))
        out = []
        for row in rows:
            out.append(
                {
                    k: (row[k].value if row[k] is not None else None)
                    for k in (
                        "id",
                        "role",
                        "org",
                        "channel",
                        "name",
                        "created",
                        "expires",
                        "revoked",
                    )
                }
            )
        return out

    def revoke(self, ident: str) -> bool:
        """Revoke a token by id; False when there is no such live token."""
        node = (
            ox.NamedNode(f"urn:eti:token:{ident}") if re.fullmatch(r"[0-9a-f]{12}", ident) else None
        )
        if node is None or not bool(
            self.store.query(queries.load("token-live"), bindings={"token": node})
        ):
            return False
        self.store.update(
            queries.load("token-revoke"), bindings={"token": node, "when": _time(_now())}
        )
        return True

    def authenticate(self, token: str) -> Identity:
        match = _TOKEN.match(token)
        if not match:
            raise AuthError("malformed token")
        ident, secret = match.groups()
        rows = list(
            self.store.query(
                queries.load("token-lookup"),
                bindings={"token": ox.NamedNode(f"urn:eti:token:{ident}")},
            )
        )
        if not rows or not hmac.compare_digest(rows[0]["hash"].value, _hash(secret)):
            raise AuthError("unknown token")
        row = rows[0]
        if row["revoked"] is not None:
            raise AuthError("revoked token")
        if row["expires"] is not None and row["expires"].value < _time(_now()).value:
            raise AuthError("expired token")
        return Identity(
            role=row["role"].value,
            org=row["org"].value if row["org"] is not None else None,
            channel=row["channel"].value if row["channel"] is not None else None,
            name=row["name"].value if row["name"] is not None else None,
            token_id=ident,
        )
