"""Settings come from defaults, a TOML file, ETI_* variables and flags, in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from eti.catalogue.config import Settings


def test_precedence(tmp_path: Path) -> None:
    toml = tmp_path / "eti.toml"
    toml.write_text('[eti]\nport = 9000\nmax_rows = 5\nservice_allow = ["https://a/"]\n')
    s = Settings.load(toml, env={"ETI_PORT": "9100", "ETI_QUERY_TIMEOUT": "2.5"}, port=9200)
    assert s.port == 9200
    assert s.max_rows == 5
    assert s.query_timeout == 2.5
    assert s.service_allow == ["https://a/"]
    assert Settings.load(toml, env={"ETI_PORT": "9100"}).port == 9100


def test_env_lists_and_booleans() -> None:
    s = Settings.load(
        env={"ETI_SERVICE_ALLOW": "https://a/, https://b/", "ETI_ALLOW_PRIVATE_URLS": "true"}
    )
    assert s.service_allow == ["https://a/", "https://b/"]
    assert s.allow_private_urls is True


def test_unknown_setting_in_file_is_an_error(tmp_path: Path) -> None:
    toml = tmp_path / "eti.toml"
    toml.write_text("prot = 1\n")
    with pytest.raises(ValueError, match="unknown settings prot"):
        Settings.load(toml, env={})


def test_bad_value_is_an_error() -> None:
    with pytest.raises(ValueError, match="setting port"):
        Settings.load(env={"ETI_PORT": "eighty"})


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    toml = tmp_path / "eti.toml"
    toml.write_text("port = [\n")
    with pytest.raises(ValueError, match="cannot read the settings file"):
        Settings.load(toml, env={})


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ETI_QUERY_TIMEOUT", "0", "query_timeout: 0.0 must be above 0"),
        ("ETI_QUERY_TIMEOUT", "-5", "query_timeout"),
        ("ETI_MAX_ROWS", "-1", "max_rows: -1 must be 0 or more"),
        ("ETI_MAX_BODY", "0", "max_body"),
        ("ETI_THREADS", "0", "threads"),
        ("ETI_PORT", "70000", "not a TCP port"),
    ],
)
def test_a_limit_that_would_switch_safety_off_is_refused(variable, value, message) -> None:
    """Regression: ``ETI_QUERY_TIMEOUT=0`` was accepted and meant every query timed out
    at once; a negative row limit meant no limit."""
    with pytest.raises(ValueError, match=message):
        Settings.load(env={variable: value})


def test_an_empty_service_allow_variable_overrides_the_file(tmp_path: Path) -> None:
    """Regression: ``ETI_SERVICE_ALLOW=`` was skipped as unset, so the file's allow-list
    stayed in force; an operator clearing it in the environment means "none"."""
    toml = tmp_path / "eti.toml"
    toml.write_text('service_allow = ["https://data.norge.no/sparql"]\n')
    assert Settings.load(toml, env={}).service_allow == ["https://data.norge.no/sparql"]
    assert Settings.load(toml, env={"ETI_SERVICE_ALLOW": ""}).service_allow == []
    assert Settings.load(toml, env={"ETI_PORT": ""}).port == 8080  # others: "" is unset
