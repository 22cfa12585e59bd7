"""Portal credentials: generated here, stored only as SHA-256 digests.

Tokens are 128-bit random values, so a fast digest is enough to make a stolen database useless for
authenticating; a password hash would only slow every request down.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from enum import StrEnum

_ALPHANUMERIC = string.ascii_letters + string.digits


class CredentialKind(StrEnum):
    ACCESS_TOKEN = "access_token"
    WRITE_KEY = "write_key"


def new_secret(kind: CredentialKind) -> str:
    """A fresh secret: `pat-ht1-<uuid>` like HubSpot's private-app tokens, or a write key."""
    if kind is CredentialKind.ACCESS_TOKEN:
        return f"pat-ht1-{uuid.uuid4()}"
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(32))


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_hint(secret: str) -> str:
    """The last characters of a secret, safe to show so a user can tell credentials apart."""
    return "…" + secret[-4:]


def bearer_token(authorization: str | None) -> str | None:
    """The token of a `Bearer` Authorization header (scheme case-insensitive), or None."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
