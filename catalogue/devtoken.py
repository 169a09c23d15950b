"""A token issuer for development: a local key pair and Maskinporten-shaped access tokens.

Integrators try the catalogue's JWT path without Maskinporten: ``eti dev-token`` makes
(once) a key pair in a folder, writes its public half as a JWKS file the catalogue reads
(``oidc_jwks``), and signs tokens with the claims Maskinporten puts in its access tokens
(``scope``, ``client_id``, ``consumer``/``supplier`` with ``0192:ORGNR``). Never a
production issuer: the private key lies in a plain file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from . import clock

DEFAULT_ISSUER = "urn:eti:dev-issuer"
DEFAULT_AUDIENCE = "eti"
KEY_FILE = "dev-issuer-key.pem"
JWKS_FILE = "jwks.json"


def new_key(alg: str = "RS256") -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """A fresh private key for ``alg`` (RS256: RSA 2048; ES256: EC P-256)."""
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"the development issuer signs with RS256 or ES256, not {alg!r}")


def public_jwk(key: Any, kid: str | None = None) -> dict[str, Any]:
    """The public JWK of a private key, with ``kid`` (default: its RFC 7638 thumbprint)
    and ``alg``."""
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        required, alg = ("e", "kty", "n"), "RS256"
    else:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        required, alg = ("crv", "kty", "x", "y"), "ES256"
    if kid is None:
        canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).digest()
        kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


def claims(
    *,
    issuer: str = DEFAULT_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
    scope: str = "eti:steward",
    client_id: str = "dev-client",
    org: str | None = None,
    supplier: str | None = None,
    seconds: int = 600,
) -> dict[str, Any]:
    """The claims of a Maskinporten-shaped access token, timed by the catalogue's clock."""
    now = int(clock.now().timestamp())
    out: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "scope": scope,
        "client_id": client_id,
        "token_type": "Bearer",
        "iat": now,
        "exp": now + seconds,
        "jti": secrets.token_urlsafe(16),
    }
    if org:
        out["consumer"] = {"authority": "iso6523-actorid-upis", "ID": f"0192:{org}"}
    if supplier:
        out["supplier"] = {"authority": "iso6523-actorid-upis", "ID": f"0192:{supplier}"}
    return out


class DevIssuer:
    """A key pair kept in ``folder`` (made on first use) and its JWKS file."""

    def __init__(self, folder: str | Path, alg: str = "RS256") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        key_path = self.folder / KEY_FILE
        if key_path.exists():
            loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
                raise ValueError(f"{key_path}: not an RSA or EC private key")
            self.key: Any = loaded
        else:
            self.key = new_key(alg)
            pem = self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
        self.jwk = public_jwk(self.key)
        self.alg = self.jwk["alg"]
        self.kid = self.jwk["kid"]
        self.jwks_path = self.folder / JWKS_FILE
        self.jwks_path.write_text(json.dumps({"keys": [self.jwk]}, indent=2) + "\n")

    def sign(self, payload: dict[str, Any], **headers: Any) -> str:
        """``payload`` signed with this issuer's key (header ``kid`` and ``alg``)."""
        return jwt.encode(
            payload, self.key, algorithm=self.alg, headers={"kid": self.kid, **headers}
        )

    def token(self, **kwargs: Any) -> str:
        """A signed Maskinporten-shaped access token (arguments as ``claims``)."""
        return self.sign(claims(**kwargs))
