"""The Streamlit server settings that protect users stay on, and the upload limit agrees with the code."""

from __future__ import annotations

import tomllib

import pytest

from mgviz import limits
from tests.conftest import ROOT

CONFIG = ROOT / ".streamlit" / "config.toml"


@pytest.fixture(scope="module")
def config() -> dict:
    assert CONFIG.is_file(), f"{CONFIG} is missing: the server would run with Streamlit's defaults"
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", ["enableXsrfProtection", "enableCORS"])
def test_protection_is_on(config, key):
    value = config.get("server", {}).get(key)
    assert value is True, f"server.{key} must be set to true in {CONFIG.name} (is {value!r})"


def test_no_usage_statistics_leave_the_machine(config):
    assert config.get("browser", {}).get("gatherUsageStats") is False, "browser.gatherUsageStats must be false"


def test_upload_limit_is_set_and_within_the_code_limit(config):
    size = config.get("server", {}).get("maxUploadSize")
    assert isinstance(size, int) and not isinstance(size, bool), "server.maxUploadSize must be set (in MB)"
    assert 0 < size <= limits.UPLOAD_CEILING_MB, (
        f"server.maxUploadSize = {size} MB is over the {limits.UPLOAD_CEILING_MB} MB the code accepts "
        "(mgviz.limits.UPLOAD_CEILING_MB, chosen from the memory measurements in docs/reliability.md)"
    )
    assert limits.configured_upload_mb([CONFIG]) == size
    assert limits.MAX_UPLOAD_MB == min(size, limits.UPLOAD_CEILING_MB)


def test_errors_are_not_shown_in_detail_to_visitors(config):
    # tracebacks can carry file paths and data; the app shows its own clear messages instead
    assert config.get("client", {}).get("showErrorDetails") in ("none", False)


def test_upload_limit_reading_falls_back_and_caps(tmp_path, monkeypatch):
    monkeypatch.delenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", raising=False)
    missing = tmp_path / "none.toml"
    assert limits.configured_upload_mb([missing]) is None
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\nmaxUploadSize = ")
    assert limits.configured_upload_mb([broken]) is None
    other = tmp_path / "other.toml"
    other.write_text("[server]\nmaxUploadSize = 50\n")
    assert limits.configured_upload_mb([broken, other]) == 50
    monkeypatch.setenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", "5000")
    assert limits.configured_upload_mb([other]) == 5000
    assert limits.upload_limit_mb() == limits.UPLOAD_CEILING_MB


def test_no_full_garbage_collection_after_every_run(config):
    # gc.collect(2) after each fragment run holds the interpreter for 200-350 ms with a model loaded,
    # which delayed every slider move by as much (docs/benchmarks.md, slider move in a real browser)
    assert config.get("runner", {}).get("postScriptGC") is False
    import streamlit.config as st_config

    assert "runner.postScriptGC" in st_config._config_options_template  # the option still exists
