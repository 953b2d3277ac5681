"""Credentials come from the environment or .env, and never show."""

from __future__ import annotations

import pytest

from onesig_nb.config import Credentials, load_credentials, mask, redact
from onesig_nb.errors import ConfigError

APP = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
KEY = "os_v2_app_fake_key_for_tests_1234567890abcdef"


def test_no_key_anywhere_means_sandbox(tmp_path):
    assert load_credentials({}, dotenv=tmp_path / "missing.env") is None


def test_environment_wins_over_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"ONESIGNAL_APP_ID={APP}\nONESIGNAL_REST_API_KEY=from-file-key-000000\n")
    creds = load_credentials({"ONESIGNAL_REST_API_KEY": KEY}, dotenv=env_file)
    assert creds.api_key == KEY and creds.app_id == APP and creds.api == "current"


def test_dotenv_location_can_come_from_the_environment(tmp_path):
    env_file = tmp_path / "team.env"
    env_file.write_text(
        f"ONESIGNAL_APP_ID={APP}\nONESIGNAL_REST_API_KEY={KEY}\nONESIGNAL_API=legacy\n"
    )
    creds = load_credentials({"ONESIG_NB_DOTENV": str(env_file)})
    assert creds.api == "legacy"


@pytest.mark.parametrize(
    "env, fix",
    [
        ({"ONESIGNAL_REST_API_KEY": KEY}, "ONESIGNAL_APP_ID"),
        ({"ONESIGNAL_APP_ID": APP}, "unset ONESIGNAL_APP_ID to rehearse"),
        ({"ONESIGNAL_REST_API_KEY": KEY, "ONESIGNAL_APP_ID": "my-app"}, "Keys & IDs"),
        ({"ONESIGNAL_REST_API_KEY": KEY, "ONESIGNAL_APP_ID": APP, "ONESIGNAL_API": "v2"}, "legacy"),
    ],
)
def test_bad_settings_say_how_to_fix_them(tmp_path, env, fix):
    with pytest.raises(ConfigError) as err:
        load_credentials(env, dotenv=tmp_path / "none.env")
    assert fix in str(err.value)
    assert KEY not in str(err.value)


def test_the_key_never_shows_in_repr_or_masks():
    creds = Credentials(app_id=APP, api_key=KEY)
    assert KEY not in repr(creds) and KEY not in str(creds)
    assert mask(KEY) == "…" + KEY[-4:]
    assert mask("short") == "…" and mask(None) == "<not set>"
    assert redact(f"Authorization: Key {KEY}", KEY) == f"Authorization: Key {mask(KEY)}"
