"""Configuration layers: defaults < network.toml < CONFRERES_<KEY> < test_config; clear start-up errors."""

import pytest

from comments_service import create_app
from comments_service.core.config import ConfigError, from_environment


def test_environment_overrides_defaults_and_network(monkeypatch, tmp_path, network_file):
    monkeypatch.setenv("CONFRERES_NETWORK", str(network_file))
    monkeypatch.setenv("CONFRERES_DB", str(tmp_path / "env.sqlite3"))
    monkeypatch.setenv("CONFRERES_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("CONFRERES_RATE_LIMIT", "3/minute")
    monkeypatch.setenv("CONFRERES_MODERATION", "all")
    monkeypatch.setenv("CONFRERES_EDIT_WINDOW", "5")
    app = create_app()
    assert app.config["DB"] == str(tmp_path / "env.sqlite3")
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["RATE_LIMIT"] == "3/minute"
    assert app.config["MODERATION"] == "all"
    assert app.config["EDIT_WINDOW"] == 5
    assert (tmp_path / "env.sqlite3").exists()  # migrated at start


def test_test_config_wins_over_environment(monkeypatch, network_file, tmp_path):
    monkeypatch.setenv("CONFRERES_MODERATION", "all")
    app = create_app(
        {"TESTING": True, "NETWORK": str(network_file), "DB": str(tmp_path / "t.db"), "MODERATION": "none"}
    )
    assert app.config["MODERATION"] == "none"


def test_edit_window_defaults_to_network_policy(app):
    assert app.config["EDIT_WINDOW"] == 15


def test_db_defaults_to_var_under_the_network_root(network_file):
    app = create_app({"TESTING": True, "NETWORK": str(network_file)})
    assert app.config["DB"] == str(network_file.parent / "var" / "comments.sqlite3")


def test_refuses_default_secret_outside_debug_and_testing(network_file, tmp_path):
    with pytest.raises(ConfigError, match="CONFRERES_SECRET_KEY"):
        create_app({"NETWORK": str(network_file), "DB": str(tmp_path / "x.db")})
    # debug is allowed to use it
    create_app({"DEBUG": True, "NETWORK": str(network_file), "DB": str(tmp_path / "x.db")})


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("MODERATION", "sometimes", "CONFRERES_MODERATION"),
        ("RATE_LIMIT", "lots", "CONFRERES_RATE_LIMIT"),
        ("READ_RATE_LIMIT", "10 per fortnight", "CONFRERES_READ_RATE_LIMIT"),
    ],
)
def test_bad_settings_stop_the_start_with_a_clear_message(network_file, tmp_path, key, value, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True, "NETWORK": str(network_file), "DB": str(tmp_path / "x.db"), key: value})


def test_bad_environment_values_are_named():
    with pytest.raises(ConfigError, match="CONFRERES_EDIT_WINDOW"):
        from_environment({"CONFRERES_EDIT_WINDOW": "a quarter hour"})
    with pytest.raises(ConfigError, match="CONFRERES_AUTO_MIGRATE"):
        from_environment({"CONFRERES_AUTO_MIGRATE": "perhaps"})
    assert from_environment({"CONFRERES_RATE_LIMIT": "off", "OTHER": "x"}) == {"RATE_LIMIT": "off"}


def test_missing_network_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        create_app({"TESTING": True, "NETWORK": str(tmp_path / "nope.toml"), "DB": str(tmp_path / "x.db")})


def test_rate_limit_off_disables_the_limiter(app):
    assert app.extensions["confreres_limiter"].enabled is False
