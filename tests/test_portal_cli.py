"""`hubtrail portal set` and `hubtrail portal show`: every portal setting from the command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from hubtrail.cli import app
from hubtrail.core.portal_settings import PortalSettings, setting_fields
from tests.conftest import Database

runner = CliRunner()


@pytest.fixture
def hubtrail(database: Database, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run a command against the test database; returns (exit code, stdout, output)."""
    monkeypatch.setenv("HUBTRAIL_DATABASE_SCHEMA", database.schema)

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, "--database-url", database.url])
        return result.exit_code, result.stdout, result.output

    return invoke


@pytest.fixture
def hub_id(hubtrail) -> int:  # type: ignore[no-untyped-def]
    code, out, output = hubtrail("portal", "create", "Acme", "--json")
    assert code == 0, output
    return int(orjson.loads(out)["hub_id"])


def test_show_prints_the_portal_and_its_default_settings(hubtrail, hub_id: int) -> None:  # type: ignore[no-untyped-def]
    code, out, output = hubtrail("portal", "show", str(hub_id), "--json")
    assert code == 0, output
    assert orjson.loads(out) == {
        "hub_id": hub_id,
        "name": "Acme",
        "settings": PortalSettings().model_dump(),
    }
    code, out, _ = hubtrail("portal", "show", str(hub_id))
    assert code == 0
    assert "rate_limit_daily" in out
    assert "40000" in out


def test_set_changes_only_the_given_settings(hubtrail, hub_id: int) -> None:  # type: ignore[no-untyped-def]
    code, out, output = hubtrail(
        "portal",
        "set",
        str(hub_id),
        "--rate-limit-emulation",
        "--rate-limit-daily",
        "500",
        "--allowed-site-domains",
        "WWW.Example.com,shop.example.com",
        "--json",
    )
    assert code == 0, output
    assert orjson.loads(out)["settings"]["rate_limit_daily"] == 500
    code, out, output = hubtrail(
        "portal", "set", str(hub_id), "--rate-limit-max-per-interval", "7", "--json"
    )
    assert code == 0, output
    code, out, _ = hubtrail("portal", "show", str(hub_id), "--json")
    assert orjson.loads(out)["settings"] == {
        **PortalSettings().model_dump(),
        "rate_limit_emulation": True,
        "rate_limit_daily": 500,
        "rate_limit_max_per_interval": 7,
        "allowed_site_domains": ["www.example.com", "shop.example.com"],
    }
    code, out, _ = hubtrail("portal", "set", str(hub_id), "--allowed-site-domains", "", "--json")
    assert code == 0
    assert orjson.loads(out)["settings"]["allowed_site_domains"] == []


def _other_choice(default: object) -> str:
    """A valid value for a choice setting that differs from its default."""
    return next(m.value for m in type(default) if m != default)  # type: ignore[attr-defined]


def test_every_setting_has_a_flag(hubtrail, hub_id: int) -> None:  # type: ignore[no-untyped-def]
    values = {"int": "365", "list": "example.com"}
    args = [
        arg
        for f in setting_fields()
        for arg in (
            (f.flag,)
            if f.kind == "bool"
            else (f.flag, values.get(f.kind) or _other_choice(f.default))
        )
    ]
    code, out, output = hubtrail("portal", "set", str(hub_id), *args, "--json")
    assert code == 0, output
    expected = {"bool": True, "int": 365, "list": ["example.com"]}
    assert orjson.loads(out)["settings"] == {
        f.name: expected[f.kind] if f.kind in expected else _other_choice(f.default)
        for f in setting_fields()
    }


def test_switches_turn_on_and_off(hubtrail, hub_id: int) -> None:  # type: ignore[no-untyped-def]
    args = ("portal", "set", str(hub_id), "--segment-mode", "device", "--load-forms-sdk", "--json")
    code, out, output = hubtrail(*args)
    assert code == 0, output
    settings = orjson.loads(out)["settings"]
    assert (settings["segment_mode"], settings["load_forms_sdk"]) == ("device", True)
    code, out, output = hubtrail("portal", "set", str(hub_id), "--no-load-forms-sdk", "--json")
    assert code == 0, output
    settings = orjson.loads(out)["settings"]
    assert (settings["segment_mode"], settings["load_forms_sdk"]) == ("device", False)


def _flat(output: str) -> str:
    """Output with rich's box borders and line breaks removed, for substring checks."""
    return " ".join(output.replace("│", " ").split())


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--rate-limit-daily", "-5"], "rate_limit_daily: Input should be greater than or equal"),
        (["--consent-mode", "maybe"], "consent_mode: Input should be 'none' or 'opt_in'"),
        (["--allowed-site-domains", "https://example.com/"], "not a hostname"),
    ],
)
def test_invalid_settings_are_refused_and_nothing_changes(  # type: ignore[no-untyped-def]
    hubtrail, hub_id: int, args: list[str], says: str
) -> None:
    code, _, output = hubtrail("portal", "set", str(hub_id), "--rate-limit-interval-ms", "9", *args)
    assert code != 0
    assert says in _flat(output)
    _, out, _ = hubtrail("portal", "show", str(hub_id), "--json")
    assert orjson.loads(out)["settings"] == PortalSettings().model_dump()


def test_set_without_a_setting_lists_them(hubtrail, hub_id: int) -> None:  # type: ignore[no-untyped-def]
    code, _, output = hubtrail("portal", "set", str(hub_id))
    assert code != 0
    assert "give at least one setting to change: --rate-limit-emulation" in _flat(output)


def test_an_unknown_portal_is_an_error(hubtrail) -> None:  # type: ignore[no-untyped-def]
    for command in (["show", "4242"], ["set", "4242", "--rate-limit-daily", "1"]):
        code, _, output = hubtrail("portal", *command)
        assert code != 0
        assert "no portal has hub id 4242" in output


def test_every_portal_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Portal settings", 1)[1].split("\n## ", 1)[0]
    missing = [f.name for f in setting_fields() if f"| `{f.name}` |" not in section]
    assert missing == []
