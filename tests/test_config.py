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
