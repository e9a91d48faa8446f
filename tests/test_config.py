"""Build settings are declared once (mgviz.config.SETTINGS) and checked before any work: a bad value or
an unknown key is refused with a message naming it, before a single text is encoded."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mgviz.config import SETTINGS, BuildConfig, ConfigError, format_setting, parse_setting


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("k", 0, "k=0: must be >= 1"),
        ("k", 2.5, "k=2.5: must be a whole number"),
        ("ease_l2", -1.0, "ease_l2=-1.0: must be > 0"),
        ("ease_l2", float("nan"), "must be finite"),
        ("micro_model", "svd", "must be one of als, ease, als+ease, knn, als+knn"),
        ("semantic_model", "magic", "must be one of cosine, learned"),
        ("fusion_strategy", "max", "must be one of weighted, product"),
        ("text_alpha", {"paragraph": 1.0}, "unknown name 'paragraph'"),
        ("weights", {"micro": -1.0}, "weights.micro=-1.0: must be >= 0"),
        ("weights", {"micro": 0.0}, "at least one level needs a weight > 0"),
        ("item_text_fields", [], "must list some of title, categories, text"),
        ("k_range", [1, 2], "whole numbers >= 2"),
        ("umap", "yes", "must be true or false"),
        ("half_life_days", 0.0, "must be > 0"),
    ],
)
def test_bad_values_are_refused_naming_the_value(field, value, needle):
    with pytest.raises(ConfigError) as exc:
        BuildConfig(**{field: value})
    assert needle in str(exc.value) and field in str(exc.value)


def test_replace_checks_too_and_none_only_where_allowed():
    config = BuildConfig()
    assert dataclasses.replace(config, half_life_days=None).half_life_days is None
    with pytest.raises(ConfigError, match="ease_l2=None: needs a value"):
        dataclasses.replace(config, ease_l2=None)


def test_unknown_keys_are_refused_not_dropped():
    with pytest.raises(ConfigError, match="unknown build setting 'ease_lambda'"):
        BuildConfig.from_dict({"ease_lambda": 100.0})
    d = BuildConfig(k=4, micro_model="ease", ease_l2=120.0, semantic_model="learned").to_dict()
    assert BuildConfig.from_dict(json.loads(json.dumps(d))) == BuildConfig.from_dict(d)


def test_every_field_is_declared_and_round_trips_as_text():
    fields = {f.name for f in dataclasses.fields(BuildConfig)}
    assert fields == set(SETTINGS)
    config = BuildConfig(half_life_days=None, k_range=[2, 5], text_alpha={"document": 1.0}, fusion_strategy="product")
    for name, value in config.to_dict().items():
        assert parse_setting(name, format_setting(name, value)) == value, name
    with pytest.raises(ConfigError, match="should be name=number pairs"):
        parse_setting("weights", "micro:1")
    with pytest.raises(ConfigError, match="factors='many': should be a whole number"):
        parse_setting("factors", "many")


def test_a_bad_setting_stops_the_build_before_encoding(sample_dataset):
    from mgviz.pipeline import build

    class NoEncoder:
        def encode(self, *_a, **_k):
            raise AssertionError("encoding started")

    with pytest.raises(ConfigError):
        build(sample_dataset, BuildConfig(k=0), NoEncoder())
    with pytest.raises(ConfigError):
        build(sample_dataset, {"k": 3}, NoEncoder())


def test_cli_takes_every_setting_and_refuses_bad_ones(tmp_path, capsys, sample_paths):
    from mgviz.cli import main

    for flag, value in (("--ease-l2", "-3"), ("--micro-model", "svd"), ("--block-weights", "text=one")):
        code = main(["build", "--interactions", str(sample_paths["interactions"]), "--out", str(tmp_path / "r"),
                     flag, value])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and flag.strip("-").replace("-", "_") in err, err
    (tmp_path / "settings.json").write_text('{"k": 3, "ease_lambda": 9}')
    code = main(["build", "--interactions", str(sample_paths["interactions"]), "--out", str(tmp_path / "r"),
                 "--config", str(tmp_path / "settings.json")])  # fmt: skip
    assert code == 2 and "unknown build setting 'ease_lambda'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_weights_in_a_config_file_are_used_not_retuned(tmp_path, capsys, sample_paths):
    import json as _json

    from mgviz.cli import main

    settings = {"k": 3, "umap": False, "k_range": [], "iterations": 3, "factors": 8,
                "weights": {"macro": 0.0, "meso": 0.5, "micro": 0.5, "semantic": 0.0}}  # fmt: skip
    (tmp_path / "settings.json").write_text(_json.dumps(settings))
    code = main(["build", "--interactions", str(sample_paths["interactions"]), "--out", str(tmp_path / "r"),
                 "--config", str(tmp_path / "settings.json"), "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    manifest = _json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["config"]["weights"] == settings["weights"] and manifest["config"]["k"] == 3


def test_als_fold_in_is_implicits_own_user_equation():
    """Folding a user in solves implicit's user equation exactly: with the item factors the fit
    ended with, it lands next to the fitted user factors even for small (decayed) weights."""
    import numpy as np
    import scipy.sparse as sp

    from mgviz.levels.micro import als_fold_in, fit_als

    rng = np.random.default_rng(0)
    m = sp.random(300, 120, density=0.08, format="csr", random_state=1, dtype=np.float32)
    m.data = rng.uniform(0.01, 0.2, m.nnz).astype(np.float32)
    uf, vf = fit_als(m, factors=8, regularization=0.05, iterations=30, alpha=10.0, seed=0)
    errors = []
    for u in range(0, 300, 7):
        if m[u].nnz:
            x = als_fold_in(m[u].toarray().ravel(), vf, 10.0, 0.05)
            errors.append(np.linalg.norm(x - uf[u]) / max(np.linalg.norm(uf[u]), 1e-9))
    assert np.median(errors) < 0.05, np.median(errors)
