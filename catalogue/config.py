"""Settings: defaults, then a TOML file, then ``ETI_*`` environment variables, then flags.

Every setting is listed in ``SETTINGS`` with its type and meaning, and the README's
settings table is checked against it by the tests.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from . import clock

SETTINGS: dict[str, str] = {
    "store": "data folder of the embedded Oxigraph store",
    "store_url": "URL of a remote SPARQL 1.1 store (Query + Update); overrides store "
    "(but not an explicit --store)",
    "store_update_url": "update endpoint of the remote store, when not derivable from store_url",
    "store_token": "bearer token sent to the remote store",
    "store_engine": "the remote store's engine: oxigraph (oxigraph serve, or any SPARQL 1.1 "
    "server) or virtuoso (see docs/deploy.md)",
    "store_generation_ttl": "seconds a process trusts the remote store's generation (what "
    "tells it another process wrote) before reading it again; 0: on every use",
    "host": "address eti serve listens on",
    "port": "port eti serve listens on",
    "threads": "requests eti serve answers at once (in parallel); more get 503 + Retry-After",
    "header_timeout": "seconds a client has to send a request's head; slower ones are cut "
    "(gunicorn answers 408; granian, at most 60 s, closes)",
    "body_min_rate": "bytes a second a request body must arrive at, after header_timeout "
    "seconds of grace; slower ones get 408",
    "max_connections": "connections eti serve keeps open at once (idle and half-sent ones "
    "included; they hold no thread)",
    "server": "the HTTP front of eti serve: gunicorn (threads, the default) or granian (Rust; "
    "faster on small answers, see README)",
    "base_iri": "base of the IRIs the catalogue mints",
    "query_workers": "processes answering queries on the embedded store (0: in the server process)",
    "query_queue_wait": "seconds a query waits for a free worker before a 503 with Retry-After",
    "query_timeout": "seconds after which a query is stopped and answered with an error",
    "query_timeout_anonymous": "seconds after which an anonymous caller's query is stopped "
    "(at most query_timeout)",
    "per_caller_queries": "queries one caller (a token, or a client address when anonymous) "
    "runs at once; more get 429 + Retry-After",
    "max_rows": "most result rows a query returns (truncation is never silent)",
    "answer_cache": "MiB of whole query answers kept until the next write (by any process, "
    "over a remote store); 0: none",
    "max_body": "largest request body accepted, in bytes",
    "max_validate_body_anonymous": "largest input an anonymous caller may validate, in bytes "
    "(a body, an upload or a fetched URL)",
    "validate_timeout": "seconds after which validating sent input is stopped (a 422 says "
    "the input was too costly)",
    "validate_memory": "MiB of memory the process validating sent input may use (more: 422)",
    "need_max_bytes": "largest information need a channel may record (bytes of its triples); "
    "larger: 413",
    "needs_per_channel": "information needs one channel may record; more: 429",
    "need_bytes_per_channel": "bytes of information needs one channel may record in all; more: 429",
    "service_allow": "IRI prefixes that SPARQL SERVICE may call (a list; empty: none)",
    "allow_private_urls": "let the validator fetch loopback/private addresses (tests only)",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
    "session_secret": "key that signs the pages' session cookies (set it when several servers "
    "share the sign-ins; empty: a new key each start)",
    "clock": "the catalogue's clock: a date (YYYY-MM-DD, 12:00 UTC) or date-time it starts "
    "from, for demos and tests (also ETI_TODAY / ETI_NOW); empty: the real clock",
    "oidc_issuer": "issuer (`iss`) whose JWT access tokens are accepted, e.g. Maskinporten's "
    "(empty: static tokens only)",
    "oidc_jwks": "the issuer's signing keys (JWKS): an https URL (fetched with timeouts, cached) "
    "or a file path",
    "oidc_audience": "audiences (`aud`) a token must name one of (a list; required with "
    "oidc_issuer)",
    "oidc_algorithms": "signature algorithms accepted (a list of RS256, RS384, RS512, ES256, "
    "ES384, ES512, PS256, PS384, PS512)",
    "oidc_clock_skew": "seconds of clock difference allowed when checking exp, nbf and iat",
    "oidc": "more issuers: a TOML table array `[[eti.oidc]]`, each with issuer, jwks, audience "
    "(and algorithms)",
    "oidc_steward_scope": "scope that makes a token's consumer organisation a steward",
    "oidc_channel_scope": "scope that makes a client bound with `eti channel bind` that channel",
    "oidc_admin_scope": "scope that makes a token an admin",
    "oidc_org_claim": "claim holding the organisation (`0192:ORGNR` or ORGNR; dotted path into "
    "objects)",
    "oidc_client_claim": "claim holding the client id",
    "feed_page_size": "members after which a page of the change feed (/feed) is closed, at the "
    "next second",
    "feed_settle": "seconds a feed page's last second must lie in the past before the page is "
    "closed (immutable): longer than any write takes",
}


@dataclass
class Settings:
    """The running configuration of the catalogue and its server."""

    store: str = "var/store"
    store_url: str | None = None
    store_update_url: str | None = None
    store_token: str | None = None
    store_engine: str = "oxigraph"
    store_generation_ttl: float = 0.0
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 8
    header_timeout: float = 10.0
    body_min_rate: int = 10240
    max_connections: int = 1000
    server: str = "gunicorn"
    base_iri: str = "https://eti.example/"
    query_workers: int = 2
    query_queue_wait: float = 5.0
    query_timeout: float = 30.0
    query_timeout_anonymous: float = 10.0
    per_caller_queries: int = 1
    max_rows: int = 10_000
    answer_cache: int = 64
    max_body: int = 10 * 1024 * 1024
    max_validate_body_anonymous: int = 512 * 1024
    validate_timeout: float = 20.0
    validate_memory: int = 1024
    need_max_bytes: int = 4096
    needs_per_channel: int = 100
    need_bytes_per_channel: int = 256 * 1024
    service_allow: list[str] = field(default_factory=list)
    allow_private_urls: bool = False
    log_level: str = "INFO"
    session_secret: str | None = None
    clock: str | None = None
    oidc_issuer: str | None = None
    oidc_jwks: str | None = None
    oidc_audience: list[str] = field(default_factory=list)
    oidc_algorithms: list[str] = field(default_factory=lambda: ["RS256", "ES256"])
    oidc_clock_skew: float = 60.0
    oidc: list[dict[str, Any]] = field(default_factory=list)
    oidc_steward_scope: str = "eti:steward"
    oidc_channel_scope: str = "eti:channel"
    oidc_admin_scope: str = "eti:admin"
    oidc_org_claim: str = "consumer.ID"
    oidc_client_claim: str = "client_id"
    feed_page_size: int = 500
    feed_settle: float = 30.0

    @classmethod
    def load(
        cls, path: str | Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Defaults < TOML file (``path`` or ``ETI_CONFIG``) < ``ETI_*`` variables < overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = path or env.get("ETI_CONFIG")
        if path:
            try:
                data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ValueError(f"cannot read the settings file {path}: {exc}") from None
            data = data.get("eti", data)
            unknown = set(data) - set(SETTINGS)
            if unknown:
                raise ValueError(f"{path}: unknown settings {', '.join(sorted(unknown))}")
            values.update(data)
        for name in SETTINGS:
            key = f"ETI_{name.upper()}"
            if env.get(key) or (key in env and name in _EMPTY_MEANS_NONE):
                values[name] = env[key]
        if clock.setting_from_env(env):  # ETI_NOW, ETI_TODAY or ETI_CLOCK
            values["clock"] = clock.setting_from_env(env)
        if overrides.get("store") is not None and overrides.get("store_url") is None:
            # an explicit data folder (--store) wins over a URL from the file or ETI_STORE_URL
            values.pop("store_url", None)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(
            **{
                f.name: _coerce(f.name, f.type, values[f.name])
                for f in fields(cls)
                if f.name in values
            }
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse values that would turn a safety limit off by accident (a time limit
        of 0 s, a negative row limit) with the setting's name."""
        for name, low, above in _RANGES:
            value = getattr(self, name)
            if value < low or (above and value == low):
                bound = f"above {low:g}" if above else f"{low:g} or more"
                raise ValueError(f"setting {name}: {value!r} must be {bound}")
        if self.clock:
            clock.parse(self.clock)  # raises ValueError naming the setting
        if self.server not in ("granian", "gunicorn"):
            raise ValueError(f"setting server: {self.server!r} is not granian or gunicorn")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"setting port: {self.port} is not a TCP port")
        from .oidc import issuers  # here, not at the top: oidc needs no settings at import

        issuers(self)  # raises ValueError naming the setting


# (setting, lower bound, bound excluded)
_RANGES = [
    ("store_generation_ttl", 0, False),
    ("query_timeout", 0, True),
    ("query_timeout_anonymous", 0, True),
    ("per_caller_queries", 1, False),
    ("max_body", 0, True),
    ("max_validate_body_anonymous", 0, True),
    ("validate_timeout", 0, True),
    ("validate_memory", 64, False),
    ("need_max_bytes", 0, True),
    ("needs_per_channel", 0, True),
    ("need_bytes_per_channel", 0, True),
    ("threads", 1, False),
    ("header_timeout", 0, True),
    ("body_min_rate", 0, True),
    ("max_connections", 1, False),
    ("max_rows", 0, False),
    ("query_workers", 0, False),
    ("query_queue_wait", 0, False),
    ("answer_cache", 0, False),
    ("oidc_clock_skew", 0, False),
    ("feed_page_size", 1, False),
    ("feed_settle", 0, False),
]
# settings whose variable set to "" means "none" rather than "not set"
_EMPTY_MEANS_NONE = {"service_allow"}


def _coerce(name: str, kind: Any, value: Any) -> Any:
    kind = str(kind)
    try:
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            return str(value).lower() in {"1", "true", "yes", "on"}
        if kind.startswith("list"):
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            return list(value)
    except (TypeError, ValueError):
        raise ValueError(f"setting {name}: {value!r} is not a valid {kind}") from None
    return value
