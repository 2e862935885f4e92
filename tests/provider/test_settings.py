"""Settings: environment variables, flags on top, and errors that name the key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from valetkey.provider.lab import LabSwitch
from valetkey.provider.settings import SettingsError, build_settings


def test_defaults() -> None:
    settings = build_settings({}, environ={})
    assert settings.issuer_url == "http://127.0.0.1:8400"
    assert settings.database_url == "sqlite:///.valetkey/valetkey.db"
    assert settings.code_ttl == 60
    assert settings.lab == frozenset()


def test_environment_then_flags() -> None:
    env = {
        "VALETKEY_PORT": "9000",
        "VALETKEY_DATA_DIR": "/srv/valetkey-data",
        "VALETKEY_CODE_TTL": "30",
    }
    settings = build_settings({"port": "9100", "host": None}, environ=env)
    assert settings.port == 9100
    assert settings.data_dir == Path("/srv/valetkey-data")
    assert settings.code_ttl == 30
    assert settings.issuer_url == "http://127.0.0.1:9100"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VALETKEY_PORT": "eighty"}, "VALETKEY_PORT='eighty': expected a whole number"),
        ({"VALETKEY_PORT": "70000"}, "VALETKEY_PORT='70000': expected a number from 0 to 65535"),
        (
            {"VALETKEY_CODE_TTL": "3600"},
            "VALETKEY_CODE_TTL='3600': expected a number from 1 to 600",
        ),
        ({"VALETKEY_ISSUER": "ftp://x"}, "VALETKEY_ISSUER='ftp://x': expected an http(s) URL"),
        ({"VALETKEY_ISSUER": "https://x/?q=1"}, "with no query or fragment"),
        ({"VALETKEY_DB": "mysql://x"}, "VALETKEY_DB='mysql://x': expected a sqlite:/// or"),
        ({"VALETKEY_DEMO_DATA": "maybe"}, "VALETKEY_DEMO_DATA='maybe': expected true or false"),
        ({"VALETKEY_ACCESS_TOKEN_FORMAT": "paseto"}, "expected jwt or opaque"),
        ({"VALETKEY_LAB": "everything"}, "unknown lab switch 'everything' (choose from"),
    ],
)
def test_bad_values_name_key_and_value(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        build_settings({}, environ=env)
    assert message in str(caught.value)


def test_lab_switches_parse() -> None:
    settings = build_settings({"lab": "weak-password-hash"}, environ={})
    assert settings.lab == frozenset({LabSwitch.WEAK_PASSWORD_HASH})
