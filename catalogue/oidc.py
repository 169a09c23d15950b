"""JWT access tokens from configured OIDC/OAuth2 issuers (Maskinporten in production).

A token is verified with PyJWT (signature by ``kid`` from the issuer's JWKS, ``iss``,
``aud``); its times (``exp``, ``nbf``, ``iat``) are checked here against the catalogue's
clock, not the machine's, with the ``oidc_clock_skew`` allowance. Its scopes and claims
then make an ``Identity`` (steward, channel, admin or, without a usable scope, anonymous).
``Authenticators`` sends a JWT to the verifier and an ``eti_…`` token to the TokenTable,
so the server asks one interface for both.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests

from . import bindings, clock
from .auth import AuthError, Identity, TokenTable
from .store import Store

log = logging.getLogger("eti.oidc")

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_ORG = re.compile(r"^(?:0192:)?([0-9]{9})$")  # ISO 6523 ICD 0192: Norwegian orgnr
FETCH_TIMEOUT = (3.05, 5.0)  # connect, read (seconds)
MAX_JWKS_BYTES = 512 * 1024
REFETCH_INTERVAL = 10.0  # seconds between two fetches of one JWKS, however many unknown kids
MAX_AGE = 3600.0  # a JWKS is fetched again after this many seconds even when every kid is known


class InvalidToken(AuthError):
    """A JWT that does not hold; the message is its RFC 6750 ``error_description``."""


class KeysUnavailable(RuntimeError):
    """The issuer's keys cannot be had (JWKS unreachable or unusable): the server's
    problem, not the caller's (503)."""


@dataclass(frozen=True)
class Issuer:
    """One trusted issuer: its ``iss``, where its keys are, the audiences accepted."""

    issuer: str
    jwks: str
    audience: tuple[str, ...]
    algorithms: tuple[str, ...] = ("RS256", "ES256")


def _is_url(jwks: str) -> bool:
    return jwks.startswith(("https://", "http://"))


def _check_issuer(where: str, entry: Issuer) -> None:
    if not entry.issuer:
        raise ValueError(f"setting {where}: the issuer is empty")
    if not entry.jwks:
        raise ValueError(f"setting {where}: jwks (a URL or a file path) is missing")
    if not entry.audience:
        raise ValueError(
            f"setting {where}: audience is missing (tokens must be meant for this catalogue)"
        )
    if _is_url(entry.jwks) and entry.jwks.startswith("http://"):
        host = urlsplit(entry.jwks).hostname or ""
        try:
            loopback = host == "localhost" or ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"setting {where}: the JWKS URL must be https (or on loopback)")
    bad = [a for a in entry.algorithms if a not in ALGORITHMS]
    if bad or not entry.algorithms:
        raise ValueError(
            f"setting {where}: algorithms must be among {', '.join(ALGORITHMS)} "
            f"(never none or HS*), not {', '.join(bad) or 'none'}"
        )


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def issuers(settings: Any) -> list[Issuer]:
    """The issuers the settings trust: ``oidc_issuer``/``oidc_jwks``/``oidc_audience``
    and each ``[[eti.oidc]]`` table. Raises ValueError naming the setting."""
    out: list[Issuer] = []
    algorithms = _strings(settings.oidc_algorithms)
    if settings.oidc_issuer or settings.oidc_jwks:
        entry = Issuer(
            settings.oidc_issuer or "",
            settings.oidc_jwks or "",
            _strings(settings.oidc_audience),
            algorithms,
        )
        _check_issuer("oidc_issuer", entry)
        out.append(entry)
    for n, table in enumerate(settings.oidc or []):
        where = f"oidc (entry {n + 1})"
        if not isinstance(table, dict):
            raise ValueError(f"setting {where}: each [[eti.oidc]] entry must be a table")
        unknown = set(table) - {"issuer", "jwks", "audience", "algorithms"}
        if unknown:
            raise ValueError(f"setting {where}: unknown keys {', '.join(sorted(unknown))}")
        entry = Issuer(
            str(table.get("issuer") or ""),
            str(table.get("jwks") or ""),
            _strings(table.get("audience")),
            _strings(table["algorithms"]) if "algorithms" in table else algorithms,
        )
        _check_issuer(where, entry)
        out.append(entry)
    seen = [e.issuer for e in out]
    if len(set(seen)) != len(seen):
        raise ValueError("setting oidc: an issuer is configured twice")
    return out


@dataclass
class KeySet:
    """An issuer's public keys by ``kid``, fetched (URL) or read (file) and cached.

    Fetched at most once per ``refetch_interval`` seconds however many unknown kids
    arrive, and again after ``max_age``; a failed fetch keeps the keys already known."""

    source: str
    refetch_interval: float = REFETCH_INTERVAL
    max_age: float = MAX_AGE
    monotonic: Callable[[], float] = time.monotonic
    fetches: int = 0
    _keys: dict[str, jwt.PyJWK] | None = None
    _fetched_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, kid: str) -> jwt.PyJWK | None:
        """The key ``kid``; refetches once (rate-limited) when it is not known."""
        with self._lock:
            now = self.monotonic()
            stale = self._fetched_at is None or now - self._fetched_at >= self.max_age
            if self._keys is None or stale or kid not in self._keys:
                if self._fetched_at is None or now - self._fetched_at >= self.refetch_interval:
                    self._refresh(now)
            if self._keys is None:
                raise KeysUnavailable("the token issuer's keys cannot be fetched")
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        self._fetched_at = now
        self.fetches += 1
        try:
            document = self._read()
            self._keys = _usable_keys(document)
        except (OSError, ValueError, requests.RequestException) as exc:
            log.warning("cannot load the JWKS %s: %s", self.source, exc)

    def _read(self) -> dict[str, Any]:
        if not _is_url(self.source):
            return json.loads(Path(self.source).read_bytes()[:MAX_JWKS_BYTES])
        with requests.get(
            self.source, timeout=FETCH_TIMEOUT, stream=True, allow_redirects=False
        ) as response:
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            body = response.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError(f"larger than {MAX_JWKS_BYTES} bytes")
        return json.loads(body)


def _usable_keys(document: Any) -> dict[str, jwt.PyJWK]:
    """Signature keys with a kid: RSA and EC public keys only (an ``oct`` key would let a
    token be signed with a shared secret)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS (an object with a 'keys' list)")
    keys: dict[str, jwt.PyJWK] = {}
    for item in document["keys"]:
        if not isinstance(item, dict) or item.get("kty") not in {"RSA", "EC"}:
            continue
        if item.get("use", "sig") != "sig" or "d" in item or not item.get("kid"):
            continue  # encryption keys, private keys and keys without a kid are not used
        try:
            keys[str(item["kid"])] = jwt.PyJWK(item)
        except jwt.PyJWTError as exc:
            log.warning("skipping JWKS key %s: %s", item.get("kid"), exc)
    return keys


@dataclass(frozen=True)
class Roles:
    """How claims become a role (the ``oidc_*_scope`` and ``oidc_*_claim`` settings)."""

    steward_scope: str = "eti:steward"
    channel_scope: str = "eti:channel"
    admin_scope: str = "eti:admin"
    org_claim: str = "consumer.ID"
    client_claim: str = "client_id"

    def scope_of(self, role: str) -> str:
        """The scope that gives ``role``."""
        return {
            "steward": self.steward_scope,
            "channel": self.channel_scope,
            "admin": self.admin_scope,
        }[role]


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _orgnr(value: Any) -> str | None:
    match = _ORG.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _number(claims: dict[str, Any], name: str, required: bool = False) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if value is None:
        raise InvalidToken(f"the token has no {name} claim")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"the token's {name} claim is not a number")
    return float(value)


class Verifier:
    """Verifies JWT access tokens of the configured issuers and maps them to identities."""

    def __init__(
        self,
        store: Store,
        trusted: Sequence[Issuer],
        *,
        skew: float = 60.0,
        roles: Roles | None = None,
        keysets: dict[str, KeySet] | None = None,
    ) -> None:
        self.store = store
        self.issuers = {i.issuer: i for i in trusted}
        self.skew = skew
        self.roles = roles or Roles()
        self.keysets = keysets or {i.issuer: KeySet(i.jwks) for i in trusted}

    def authenticate(self, token: str) -> Identity:
        """The identity of a JWT; raises InvalidToken (401) or KeysUnavailable (503)."""
        claims = self.verify(token)
        return self.identity(claims)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token whose signature, issuer, audience and times hold."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        issuer = self.issuers.get(unverified.get("iss"))  # type: ignore[arg-type]
        if issuer is None:
            raise InvalidToken("the token's issuer is not trusted")
        if header.get("alg") not in issuer.algorithms:
            raise InvalidToken("the token's signature algorithm is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key (kid)")
        key = self.keysets[issuer.issuer].get(kid)
        if key is None:
            raise InvalidToken("the token's signing key is unknown")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(issuer.algorithms),
                audience=list(issuer.audience),
                issuer=issuer.issuer,
                # times are checked below against the catalogue's clock, not time.time()
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["iss", "aud", "exp"],
                },
            )
        except jwt.InvalidSignatureError:
            raise InvalidToken("the token's signature does not verify") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("the token is not meant for this catalogue (aud)") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token's issuer is not trusted") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"the token has no {exc.claim} claim") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidToken("the token's signature algorithm is not accepted") from None
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        self._check_times(claims)
        return claims

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = clock.now().timestamp()
        exp = _number(claims, "exp", required=True)
        nbf = _number(claims, "nbf")
        iat = _number(claims, "iat")
        if exp is not None and now > exp + self.skew:
            raise InvalidToken("the token has expired")
        if nbf is not None and now + self.skew < nbf:
            raise InvalidToken("the token is not valid yet (nbf)")
        if iat is not None and now + self.skew < iat:
            raise InvalidToken("the token is issued in the future (iat)")

    def identity(self, claims: dict[str, Any]) -> Identity:
        """The role verified claims give: admin, steward, channel, else anonymous (a
        verified caller without a usable scope: it reads as anonymous, writes get 403)."""
        roles = self.roles
        client = _claim(claims, roles.client_claim)
        if not isinstance(client, str) or not client:
            raise InvalidToken(f"the token has no {roles.client_claim} claim")
        scope = claims.get("scope", claims.get("scp", ""))
        scopes = set(scope.split() if isinstance(scope, str) else _strings(scope))
        consumer = _orgnr(_claim(claims, roles.org_claim))
        supplier = _orgnr(_claim(claims, "supplier.ID"))
        common = {
            "name": client,
            "client_id": client,
            "consumer": consumer,
            "supplier": supplier if supplier != consumer else None,
            "issuer": claims["iss"],
        }
        if roles.admin_scope in scopes:
            return Identity(role="admin", **common)
        if roles.steward_scope in scopes and consumer:
            return Identity(role="steward", org=consumer, **common)
        if roles.channel_scope in scopes:
            channel = bindings.channel_of(self.store, client)
            if channel:
                return Identity(role="channel", channel=channel, **common)
        return Identity(role="anonymous", **common)


class Authenticators:
    """One ``Authenticator`` for both kinds of token: a JWT (three base64url parts) goes
    to the OIDC verifier when issuers are configured, anything else to the TokenTable."""

    def __init__(self, tokens: TokenTable, verifier: Verifier | None) -> None:
        self.tokens = tokens
        self.verifier = verifier

    def authenticate(self, token: str) -> Identity:
        if self.verifier is not None and _JWT.match(token) and not token.startswith("eti_"):
            return self.verifier.authenticate(token)
        return self.tokens.authenticate(token)


def roles_from(settings: Any) -> Roles:
    """The claims-to-roles mapping of the settings."""
    return Roles(
        steward_scope=settings.oidc_steward_scope,
        channel_scope=settings.oidc_channel_scope,
        admin_scope=settings.oidc_admin_scope,
        org_claim=settings.oidc_org_claim,
        client_claim=settings.oidc_client_claim,
    )


def authenticator(settings: Any, store: Store) -> Authenticators:
    """The authenticator the server keeps for its lifetime (so the JWKS cache lasts)."""
    trusted = issuers(settings)
    verifier = (
        Verifier(store, trusted, skew=settings.oidc_clock_skew, roles=roles_from(settings))
        if trusted
        else None
    )
    return Authenticators(TokenTable(store), verifier)
