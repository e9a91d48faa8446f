"""An analyst checks that the held-out numbers are honest: nothing from the test part leaks into training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mgviz.evaluation.report import EvalContext
from mgviz.evaluation.splits import split
from mgviz.pipeline import BuildConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small(sample_dataset):
    from dataclasses import replace

    users = sample_dataset.user_ids[:250]
    inter = sample_dataset.interactions
    return replace(
        sample_dataset,
        interactions=inter[inter["user_id"].isin(users)].reset_index(drop=True),
        users=sample_dataset.users[sample_dataset.users["user_id"].isin(users)].reset_index(drop=True),
    )


def _perturb_test_rows(dataset, seed=1):
    """Same log, but every held-out row points at a random other item with another rating and review."""
    train_df, test_df = split(dataset.interactions, "temporal", 0.2)
    rng = np.random.default_rng(seed)
    changed = dataset.interactions.copy()
    changed.loc[test_df.index, "item_id"] = rng.choice(dataset.item_ids, len(test_df))
    changed.loc[test_df.index, "rating"] = rng.integers(1, 6, len(test_df)).astype(float)
    changed.loc[test_df.index, "text"] = "completely different words zebra xylophone"
    return dataset.with_interactions(changed), test_df.index


def test_perturbing_test_rows_leaves_trained_levels_unchanged(small, encoder):
    config = BuildConfig(k=4, seed=0)
    original = EvalContext.from_dataset(small, config, encoder, ks=(10,))
    perturbed_ds, test_index = _perturb_test_rows(small)
    perturbed = EvalContext.from_dataset(perturbed_ds, config, encoder, ks=(10,))
    # the perturbation is real: the test matrices differ
    assert (original.test != perturbed.test).nnz > 0
    everyone = np.arange(len(small.users))
    for level, fitted in original.model.levels.items():
        np.testing.assert_array_equal(fitted.score(everyone), perturbed.model.levels[level].score(everyone),
                                      err_msg=level)  # fmt: skip
    np.testing.assert_array_equal(original.model.segments, perturbed.model.segments)
    pd.testing.assert_frame_equal(original.model.keywords, perturbed.model.keywords)
    assert original.auto_weights() == perturbed.auto_weights()
    # the level settings and every point of their validation curves too: tuning never reads test rows
    assert original.tuned["params"] and original.tuned["params"] == perturbed.tuned["params"]
    assert original.tuned["levels"]["curves"] == perturbed.tuned["levels"]["curves"]
    assert original.tuned["levels"]["baselines"] == perturbed.tuned["levels"]["baselines"]
    for name in ("popular", "ease", "itemknn"):
        np.testing.assert_array_equal(original.baselines_fitted[name].score(everyone),
                                      perturbed.baselines_fitted[name].score(everyone))  # fmt: skip
    assert (original.train != perturbed.train).nnz == 0


def test_metrics_for_weights_and_baselines(small, encoder):
    ctx = EvalContext.from_dataset(small, BuildConfig(k=4, seed=0), encoder, ks=(10, 20))
    fused = ctx.metrics_for(ctx.auto_weights())
    for key in ("ndcg@10", "recall@20", "coverage@10", "ild_category@10", "novelty@10", "ndcg", "recall"):
        assert key in fused and np.isfinite(fused[key])
    assert 0 < fused["ndcg"] <= 1
    quick = ctx.metrics_for(ctx.auto_weights(), quick=True)
    assert {"ndcg", "recall", "coverage", "ild_category", "novelty"} <= set(quick)
    assert all(quick[key] == pytest.approx(fused[key]) for key in quick)
    base = ctx.baselines
    assert {"popular", "ease", "itemknn", "micro only", "macro only", "meso only", "semantic only"} <= set(base)
    # personalised methods beat most-popular on this data with planted interests
    assert base["ease"]["ndcg@10"] > base["popular"]["ndcg@10"]
    surface = ctx.surface(step=0.25)
    # 5 levels at step 1/4: C(4 + 4, 4) = 70 weight vectors
    assert len(surface) == 70 and set(surface.columns) == {"macro", "meso", "micro", "semantic", "time", "ndcg"}
    seg = ctx.per_segment(ctx.auto_weights())
    assert len(seg) == 4 and seg["n_users"].sum() == len(ctx.rows)


def test_evaluate_command_prints_json(tmp_path, small, capsys):
    from mgviz.cli import main

    path = tmp_path / "inter.csv"
    small.interactions.to_csv(path, index=False)
    assert main(["evaluate", "--interactions", str(path), "--segments", "4", "--json", "--quiet", "--k", "5,10"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["split"]["method"] == "temporal" and out["seed"] == 0
    assert set(out["weights"]) == {"macro", "meso", "micro", "semantic", "time"}
    assert abs(sum(out["weights"].values()) - 1) < 1e-6
    assert "ease" in out["methods"] and "fused (auto)" in out["methods"]
    assert "ndcg@5" in out["methods"]["ease"]


def test_saved_evaluation_round_trips(small, encoder, tmp_path):
    from mgviz.evaluation.persist import has_evaluation, load_evaluation, save_evaluation
    from mgviz.runs import RunError

    ctx = EvalContext.from_dataset(small, BuildConfig(k=4, seed=0), encoder, ks=(10,))
    assert not has_evaluation(tmp_path)
    save_evaluation(ctx, tmp_path)
    assert has_evaluation(tmp_path)
    again = load_evaluation(tmp_path)
    w = ctx.auto_weights()
    assert again.auto_weights() == w
    assert again.metrics_for(w) == ctx.metrics_for(w)
    assert again.baselines["ease"] == ctx.baselines["ease"]
    # the dashboard's surface comes with it: loading it computes nothing
    import mgviz.evaluation.report as report

    saved = again.surfaces[(10, 0.1, "ndcg")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "weight_surface", lambda *a, **k: pytest.fail("the saved surface was recomputed"))
        pd.testing.assert_frame_equal(again.surface(k=10, step=0.1), saved)
    pd.testing.assert_frame_equal(saved, ctx.surface(k=10, step=0.1))
    (tmp_path / "evaluation" / "test_surface.parquet").write_bytes(b"broken")
    with pytest.raises(RunError, match="surface"):
        load_evaluation(tmp_path)
    (tmp_path / "evaluation" / "test_surface.parquet").unlink()  # a save from before surfaces were kept
    assert load_evaluation(tmp_path).surfaces == {}
    (tmp_path / "evaluation" / "test.indptr.npy").write_bytes(b"broken")
    with pytest.raises(RunError, match="evaluation"):
        load_evaluation(tmp_path)


def test_a_big_log_is_evaluated_on_a_user_sample_that_is_reported(small, encoder):
    ctx = EvalContext.from_dataset(small, BuildConfig(k=3, seed=0), encoder, ks=(10,), tune=False, max_users=40)
    info = ctx.split_info
    assert info["sampled_users"] == 40 and info["of_users"] == len(small.users)
    assert len(ctx.model.user_ids) == 40 and len(ctx.model.item_ids) == len(small.items)
    assert set(ctx.model.dataset.interactions["user_id"]) <= set(ctx.model.user_ids)
    again = EvalContext.from_dataset(small, BuildConfig(k=3, seed=0), encoder, ks=(10,), tune=False, max_users=40)
    assert list(again.model.user_ids) == list(ctx.model.user_ids)  # the same seed, the same sample
    from mgviz.explore import split_text

    assert "levels refit on a sample of 40 of" in split_text(info)


def test_level_tuning_chooses_from_its_grids_and_keeps_fixed_settings(small):
    from mgviz.evaluation.level_tuning import EASE_GRID, TIME_NEXT_GRID, tune_levels

    fit_df, val_df = split(small.interactions, "temporal", 0.2)
    fit = small.with_interactions(fit_df)
    config = BuildConfig(k=4, seed=0)
    info = tune_levels(fit, val_df, config)
    curves = pd.DataFrame(info["curves"])
    ease = curves[curves["level"] == "ease"]
    assert sorted(ease["value"]) == sorted(EASE_GRID)
    # the chosen λ is the curve's best point, and the EASE baseline uses the same one
    assert info["params"]["ease_l2"] == ease.loc[ease["ndcg"].idxmax(), "value"] == info["baselines"]["ease"]["l2"]
    assert curves.groupby(["level", "param"])["chosen"].sum().eq(1).all()
    assert info["params"]["time_next_share"] in TIME_NEXT_GRID and info["fits"] > len(EASE_GRID)
    fixed = tune_levels(fit, val_df, BuildConfig(k=4, seed=0, ease_l2=123.0, factors=16), fixed={"ease_l2", "factors"})
    assert "ease_l2" not in fixed["params"] and "factors" not in fixed["params"]
    assert not ((pd.DataFrame(fixed["curves"])["param"] == "factors").any())
    # the same inputs and seed give the same choices
    assert tune_levels(fit, val_df, config)["params"] == info["params"]


def test_tuned_fits_are_reused_only_for_the_same_data_and_settings(small, encoder):
    """Level tuning hands the chosen ALS and EASE fits to the weight-tuning build: reused, they give
    the very same scores as fitting again; other data or other settings fit anew."""
    from dataclasses import replace

    from mgviz.evaluation.level_tuning import tune_levels
    from mgviz.levels.micro import FitCache
    from mgviz.pipeline import build

    fit_df, val_df = split(small.interactions, "temporal", 0.2)
    fit = small.with_interactions(fit_df)
    config = BuildConfig(k=4, seed=0, umap=False, k_range=[], micro_model="als+ease")
    cache = FitCache()
    info = tune_levels(fit, val_df, config, cache=cache)
    assert len(cache) == 2  # the chosen ALS factors and the chosen EASE weights
    tuned = replace(config, **info["params"])
    reused = build(fit, tuned, encoder, fit_cache=cache)
    assert cache.hits == 2
    fresh = build(fit, tuned, encoder)
    rows = np.arange(len(fit.users))
    np.testing.assert_allclose(reused.levels["micro"].score(rows), fresh.levels["micro"].score(rows), rtol=1e-5,
                               atol=1e-6)  # fmt: skip
    build(fit, replace(tuned, factors=tuned.factors + 8, ease_l2=tuned.ease_l2 * 2), encoder, fit_cache=cache)
    build(small, tuned, encoder, fit_cache=cache)  # the whole log is other data
    assert cache.hits == 2
