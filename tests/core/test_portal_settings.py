"""The portal settings model: defaults, lenient loading, strict changes, site domains."""

from __future__ import annotations

import pytest

from hubtrail.core.errors import ValidationError
from hubtrail.core.portal_settings import (
    PortalSettings,
    apply_changes,
    is_hostname,
    load_settings,
    setting_fields,
)


def test_defaults_are_hubspots_limits_with_emulation_off() -> None:
    settings = load_settings({})
    assert settings == PortalSettings()
    assert settings.rate_limit_emulation is False
    assert settings.rate_limit_interval_ms == 10_000
    assert settings.rate_limit_max_per_interval == 100
    assert settings.rate_limit_daily == 40_000
    assert settings.allowed_site_domains == []


def test_every_setting_has_a_description_and_a_default() -> None:
    fields = setting_fields()
    assert [f.name for f in fields] == list(PortalSettings.model_fields)
    for field in fields:
        assert field.description, field.name
        assert field.flag == "--" + field.name.replace("_", "-")
    kinds = {f.name: f.kind for f in fields}
    assert kinds["rate_limit_emulation"] == "bool"
    assert kinds["rate_limit_daily"] == "int"
    assert kinds["allowed_site_domains"] == "list"


def test_stored_documents_load_leniently() -> None:
    settings = load_settings(
        {"rate_limit_daily": 500, "from_a_newer_version": 1, "rate_limit_interval_ms": "soon"}
    )
    assert settings.rate_limit_daily == 500
    assert settings.rate_limit_interval_ms == 10_000


def test_changes_are_parsed_from_cli_strings_and_merged() -> None:
    current = PortalSettings(rate_limit_daily=500)
    changed = apply_changes(
        current,
        {
            "rate_limit_emulation": "true",
            "rate_limit_max_per_interval": "7",
            "allowed_site_domains": " Shop.Example.com, www.example.com., shop.example.com",
        },
    )
    assert changed.rate_limit_emulation is True
    assert changed.rate_limit_max_per_interval == 7
    assert changed.rate_limit_daily == 500
    assert changed.allowed_site_domains == ["shop.example.com", "www.example.com"]
    assert apply_changes(changed, {"allowed_site_domains": ""}).allowed_site_domains == []


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"rate_limit_daily": "-1"}, "rate_limit_daily: Input should be greater than or equal"),
        ({"rate_limit_interval_ms": "0"}, "rate_limit_interval_ms"),
        ({"rate_limit_max_per_interval": "lots"}, "(got 'lots')"),
        ({"rate_limit_emulation": "maybe"}, "rate_limit_emulation: Input should be a valid bool"),
        ({"allowed_site_domains": "https://example.com/"}, "is not a hostname"),
        ({"allowed_site_domains": ["example.com:8080"]}, "'example.com:8080' is not a hostname"),
        ({"rate_limit_speed": "1"}, "Unknown portal setting: rate_limit_speed"),
    ],
)
def test_invalid_changes_are_refused_naming_the_setting(
    changes: dict[str, object], says: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        apply_changes(PortalSettings(), changes)
    assert says in refused.value.message


def test_hostnames() -> None:
    for good in ("example.com", "www.example.co.uk", "localhost", "a-b.example", "10.0.0.1"):
        assert is_hostname(good), good
    for bad in ("", "Example.com", "-a.com", "a-.com", "a..com", "a.com/x", "*.a.com", "a b"):
        assert not is_hostname(bad), bad
    assert not is_hostname("a" * 64 + ".com")


def test_settings_are_frozen() -> None:
    settings = PortalSettings()
    with pytest.raises(Exception, match="frozen"):
        settings.rate_limit_daily = 1  # type: ignore[misc]
