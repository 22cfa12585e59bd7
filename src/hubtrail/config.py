"""Every setting hubtrail has, in one declarative list.

Settings come from (highest priority first) command-line flags, `HUBTRAIL_*` environment variables,
an optional `hubtrail.toml` in the working directory, and the defaults below. `Settings` is built
once in the CLI and passed down; nothing reads the environment anywhere else.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "HUBTRAIL_"
TOML_FILE = "hubtrail.toml"


class SqliteSynchronous(StrEnum):
    """SQLite's `synchronous` pragma: NORMAL survives a killed process, FULL a power cut."""

    NORMAL = "NORMAL"
    FULL = "FULL"


class Settings(BaseSettings):
    """hubtrail's settings. Each field's description is its documentation (README, --help)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, toml_file=TOML_FILE, extra="ignore", frozen=True
    )

    database_url: str = Field(
        "sqlite:///./hubtrail.db",
        description="Where data lives: sqlite:///path.db (embedded) or postgresql://user@host/db.",
    )
    database_schema: str = Field(
        "",
        description="PostgreSQL schema for hubtrail's tables (empty: the default search path).",
    )
    database_pool_size: int = Field(
        10, ge=1, description="PostgreSQL connections per process (SQLite uses one writer)."
    )
    sqlite_synchronous: SqliteSynchronous = Field(
        SqliteSynchronous.NORMAL,
        description="SQLite durability: NORMAL survives a killed process, FULL also a power loss.",
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8080, ge=0, le=65535, description="Port the HTTP server listens on.")
    public_url: str = Field(
        "",
        description="URL users reach hubtrail at, for printed links (empty: http://HOST:PORT).",
    )
    tracking_collector_url: str = Field(
        "",
        description="URL hubtrail.js sends hits to (empty: PUBLIC_URL/collect, or without "
        "PUBLIC_URL the address the script was loaded from + /collect); set it when a reverse "
        "proxy serves the collector from the site's own domain.",
    )
    commit_window_ms: float = Field(
        0.0,
        ge=0,
        description="Group commit: extra time the inbox writer waits to gather messages (0: none).",
    )
    commit_max_messages: int = Field(
        1000, ge=1, description="Group commit: most messages written in one inbox transaction."
    )
    commit_max_waiting_messages: int = Field(
        50_000,
        ge=1,
        description="Overload guard: when this many accepted messages already wait for the "
        "inbox writer, ingestion answers 429 with Retry-After (clients back off and resend).",
    )
    max_query_bytes: int = Field(
        8192, ge=256, description="Longest accepted query string on ingest endpoints (else 414)."
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest accepted request body (else 413)."
    )
    process_in_server: bool = Field(
        True,
        description="Run the processor inside `hubtrail serve` (false: `hubtrail worker` does it).",
    )
    process_batch_size: int = Field(
        500,
        ge=1,
        description="Most inbox messages the processor claims per transaction (it claims about "
        "twice what the last one got through in its slice).",
    )
    process_slice_ms: float = Field(
        20.0,
        ge=1,
        description="Longest a processor transaction runs before committing (SQLite writer share).",
    )
    process_poll_ms: float = Field(
        250.0, ge=1, description="How often an idle processor looks for new inbox messages."
    )
    forward_in_server: bool = Field(
        True,
        description="Run the forwarder (delivery to destinations) inside `hubtrail serve`; set it "
        "to false when `hubtrail worker` processes forward.",
    )
    forward_max_attempts: int = Field(
        10, ge=1, description="Attempts before a change that keeps failing is dead-lettered."
    )
    forward_max_age_s: float = Field(
        259_200.0,
        gt=0,
        description="Age (seconds since it was queued) after which an undelivered change is "
        "dead-lettered, whatever its attempts (3 days).",
    )
    forward_linger_ms: float = Field(
        1000.0,
        ge=0,
        description="How long a part-filled batch waits for more changes before it is sent "
        "(fewer calls, each carrying more).",
    )
    forward_poll_ms: float = Field(
        500.0, gt=0, description="How often an idle forwarder looks for changes to send."
    )
    forward_timeout_s: float = Field(
        30.0, gt=0, description="Timeout of one call to a destination."
    )
    forward_lease_s: float = Field(
        60.0,
        gt=0,
        description="How long a worker holds a destination without renewing it; after a crash "
        "another worker takes over once it expires.",
    )
    forward_retry_base_ms: int = Field(
        1000, ge=1, description="First retry delay; it doubles per attempt, with jitter."
    )
    forward_retry_cap_ms: int = Field(
        600_000, ge=1, description="Longest retry delay (10 minutes)."
    )
    forward_scan_rows: int = Field(
        2000, ge=100, description="Due outbox rows a forwarder cycle looks at to pick a batch."
    )
    portal_cache_ttl_s: float = Field(
        5.0, ge=0, description="How long portal settings and credentials are cached in memory."
    )
    log_level: str = Field("INFO", description="Python logging level for hubtrail's loggers.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @model_validator(mode="after")
    def _lease_outlasts_a_call(self) -> Settings:
        """A worker's lease must outlast one call, or a successor could take over rows the
        worker is still sending."""
        if self.forward_lease_s < self.forward_timeout_s + 2:
            raise ValueError(
                "forward_lease_s must be at least forward_timeout_s + 2 seconds "
                f"(lease {self.forward_lease_s:g} s, timeout {self.forward_timeout_s:g} s)"
            )
        return self

    @property
    def base_url(self) -> str:
        """The URL printed for users: `public_url`, or one built from host and port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"


def describe_settings() -> list[dict[str, Any]]:
    """One row per setting (name, env var, default, help), for --help and the README test."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default
        rows.append(
            {
                "name": name,
                "env": ENV_PREFIX + name.upper(),
                "default": default.value if isinstance(default, StrEnum) else default,
                "help": field.description or "",
            }
        )
    return rows
