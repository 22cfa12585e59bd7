"""Every per-portal setting, in one typed model.

A portal's settings are stored as a JSON document on its row. Reading is lenient, so a document
written by another hubtrail version still loads: unknown keys are ignored and a stored value that no
longer validates falls back to its default. Changing is strict: `apply_changes` rejects unknown
names and invalid values with a message naming the setting. The CLI (`hubtrail portal set/show`)
and the README's table are generated from the field list below, so a new setting is one new field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from hubtrail.core.errors import FieldError, ValidationError

log = logging.getLogger("hubtrail.core.portal_settings")

DAY_MS = 86_400_000
# The limiter keeps one timestamp per request in the window, so the window's size is bounded.
MAX_PER_INTERVAL_LIMIT = 100_000

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class ConsentMode(StrEnum):
    NONE = "none"
    OPT_IN = "opt_in"


class SegmentMode(StrEnum):
    """How Segment's browser library reaches hubtrail, as Segment's connection modes."""

    CLOUD = "cloud"
    DEVICE = "device"


class PortalSettings(BaseModel):
    """One portal's settings; each field's description is its documentation (CLI, README)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    rate_limit_emulation: bool = Field(
        False,
        description="Answer the CRM API like HubSpot's rate limiter: X-HubSpot-RateLimit-* "
        "headers on every response and 429 RATE_LIMIT errors once a limit is reached.",
    )
    rate_limit_interval_ms: int = Field(
        10_000,
        ge=1,
        le=DAY_MS,
        description="Length of the rolling window the per-interval limit counts requests in "
        "(X-HubSpot-RateLimit-Interval-Milliseconds).",
    )
    rate_limit_max_per_interval: int = Field(
        100,
        ge=1,
        le=MAX_PER_INTERVAL_LIMIT,
        description="Requests each access token may make per rolling interval "
        "(X-HubSpot-RateLimit-Max; over it: 429 TEN_SECONDLY_ROLLING).",
    )
    rate_limit_daily: int = Field(
        40_000,
        ge=0,
        description="Requests each access token may make per day, reset at midnight UTC "
        "(X-HubSpot-RateLimit-Daily; over it: 429 DAILY; 0: no daily limit and no Daily "
        "headers, as for HubSpot's OAuth apps).",
    )
    allowed_site_domains: list[str] = Field(
        default_factory=list,
        description="Hostnames (lowercase) the portal's sites are served from; empty: any site.",
    )
    consent_mode: ConsentMode = Field(
        ConsentMode.NONE,
        description="Cookie consent: none (track at once) or opt_in (no identifying cookie, and "
        "page views count only anonymously, until the visitor consents).",
    )
    cookie_lifetime_days: int = Field(
        180,
        ge=1,
        le=730,
        description="Lifetime of hubspotutk, __hstc and __hs_do_not_track (HubSpot: 6 months).",
    )
    segment_create_unknown_traits: bool = Field(
        False,
        description="Segment traits that are not properties become new string properties "
        "(off: they are dropped, each drop recorded with its reason).",
    )
    segment_mode: SegmentMode = Field(
        SegmentMode.CLOUD,
        description="Segment's browser library: cloud (it sends every call to hubtrail's /v1) "
        "or device (its settings also load hubtrail's HubSpot plugin, which sends page views, "
        "identifies and events through the tracking code; the library's own copy of those is "
        "then kept but not applied, so nothing counts twice).",
    )
    load_forms_sdk: bool = Field(
        False,
        description="Device mode: the HubSpot plugin also loads hubtrail's forms script "
        "(hbspt.forms) before analytics.js reports ready.",
    )
    form_submissions_per_minute: int = Field(
        20,
        ge=1,
        le=10_000,
        description="Forms spam guard: submissions one IP address may make per minute; over it "
        "the submission API answers 429 and creates nothing.",
    )
    max_visitors_per_contact: int = Field(
        50,
        ge=1,
        description="Identity guard: an email already linked to this many browsers links no "
        "more (a shared or placeholder address), and the refusal is recorded.",
    )

    @field_validator("allowed_site_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        """Accept one comma-separated string as well as a list (the CLI passes a string)."""
        if isinstance(value, str):
            return [part for part in (p.strip() for p in value.split(",")) if part]
        return value

    @field_validator("allowed_site_domains")
    @classmethod
    def _hostnames(cls, domains: list[str]) -> list[str]:
        """Lowercase hostnames without duplicates; a URL, port or path is refused, not guessed."""
        seen: list[str] = []
        for raw in domains:
            host = raw.strip().lower().removesuffix(".")
            if not is_hostname(host):
                raise ValueError(f"{raw!r} is not a hostname (example: www.example.com)")
            if host not in seen:
                seen.append(host)
        return seen


def is_hostname(text: str) -> bool:
    """Whether `text` is a lowercase DNS hostname such as `www.example.com` or `localhost`."""
    labels = text.split(".")
    return 0 < len(text) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


@dataclass(frozen=True, slots=True)
class SettingField:
    """One setting as the CLI and documentation show it."""

    name: str
    kind: str
    default: Any
    description: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def setting_fields() -> list[SettingField]:
    """Every portal setting with its kind (`bool`, `int`, `list`), default and description."""
    fields = []
    for name, info in PortalSettings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        kind = {bool: "bool", int: "int", list: "list"}.get(type(default), "str")
        fields.append(SettingField(name, kind, default, info.description or ""))
    return fields


def load_settings(document: Mapping[str, Any]) -> PortalSettings:
    """The settings a stored document describes; invalid stored values fall back to defaults."""
    known = {k: v for k, v in document.items() if k in PortalSettings.model_fields}
    try:
        return PortalSettings.model_validate(known)
    except PydanticValidationError as exc:
        broken = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        log.warning("ignoring invalid stored portal settings: %s", ", ".join(sorted(broken)))
        return PortalSettings.model_validate({k: v for k, v in known.items() if k not in broken})


def apply_changes(current: PortalSettings, changes: Mapping[str, Any]) -> PortalSettings:
    """`current` with `changes` applied; `ValidationError` names each unknown or invalid setting."""
    unknown = sorted(set(changes) - set(PortalSettings.model_fields))
    if unknown:
        names = ", ".join(sorted(PortalSettings.model_fields))
        raise ValidationError(
            f"Unknown portal setting: {', '.join(unknown)} (known: {names})",
            errors=[FieldError(f"unknown setting {name}", "UNKNOWN", in_=name) for name in unknown],
        )
    try:
        return PortalSettings.model_validate({**current.model_dump(), **changes})
    except PydanticValidationError as exc:
        errors = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            message = str(error["msg"])
            if error["type"] == "value_error":  # ours: it names the bad value already
                message = message.removeprefix("Value error, ")
            else:
                message += f" (got {error['input']!r})"
            errors.append(FieldError(f"{name}: {message}", "INVALID", in_=name))
        raise ValidationError(
            "Invalid portal settings: " + "; ".join(e.message for e in errors), errors=errors
        ) from None
