"""Email validation as HubSpot does it, plus the placeholder rule.

HubSpot checks format, not deliverability: RFC syntax, no quoted local part, and a top-level domain
that really exists. On top of that hubtrail refuses placeholders (`{{email}}`, `undefined`, …) that
would otherwise tie every anonymous visitor to one fake contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from email_validator import EmailNotValidError, validate_email
from publicsuffixlist import PublicSuffixList

_TEMPLATE_MARKERS = ("{{", "}}", "{%", "%%", "*|", "|*", "${", "[[", "]]", "<%", "%>")
_PLACEHOLDER_WORDS = frozenset({"undefined", "null", "none", "nil", "nan", "true", "false"})


@dataclass(frozen=True, slots=True)
class EmailCheck:
    """The result of checking one address: `email` is the normalized form when valid."""

    email: str | None
    reason: str | None

    @property
    def valid(self) -> bool:
        return self.email is not None


@cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=False)


def placeholder_reason(raw: str) -> str | None:
    """Why `raw` looks like a template placeholder rather than an address, or None."""
    text = raw.strip().lower()
    if text in _PLACEHOLDER_WORDS:
        return f"'{raw}' is a placeholder, not an email address"
    if any(marker in text for marker in _TEMPLATE_MARKERS):
        return f"'{raw}' contains an unfilled template placeholder"
    local = text.partition("@")[0]
    if local in _PLACEHOLDER_WORDS:
        return f"'{raw}' has a placeholder local part ('{local}')"
    return None


def check_email(raw: str) -> EmailCheck:
    """Validate an address the way HubSpot does before creating or updating a contact."""
    text = raw.strip()
    if not text:
        return EmailCheck(None, "email is empty")
    placeholder = placeholder_reason(text)
    if placeholder:
        return EmailCheck(None, placeholder)
    if text.startswith('"'):
        return EmailCheck(None, f"Email address {text} is invalid: quoted local parts are refused")
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        return EmailCheck(None, f"Email address {text} is invalid: {exc}")
    tld = result.ascii_domain.rsplit(".", 1)[-1]
    if "." not in result.ascii_domain or _suffixes().publicsuffix(tld) is None:
        return EmailCheck(None, f"Email address {text} is invalid: unknown top-level domain")
    return EmailCheck(f"{result.local_part}@{result.domain.lower()}", None)


def email_key(email: str) -> str:
    """The form an email is compared in: case-insensitive, as HubSpot matches contacts."""
    return email.strip().lower()
