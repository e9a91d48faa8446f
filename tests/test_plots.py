"""mgviz.plots: every figure builds from plain data or a fitted model, and says so when it has nothing to show."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_app import tiny_model  # noqa: E402

from mgviz import plots  # noqa: E402
from mgviz.levels.meso import category_mix_over_time  # noqa: E402
from mgviz.schema import LEVELS  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def _is_empty_note(fig: go.Figure) -> bool:
    return len(fig.data) == 0 and len(fig.layout.annotations) == 1


def test_rating_histogram_counts_each_value():
    fig = plots.rating_histogram([1, 2, 2, 5, 5, 5])
    assert list(fig.data[0].x) == ["1.0", "2.0", "5.0"]
    assert list(fig.data[0].y) == [1, 2, 3]


def test_rating_histogram_bins_continuous_ratings():
    fig = plots.rating_histogram(np.linspace(0, 10, 500))
    bars = fig.data[0]
    assert isinstance(bars, go.Bar) and len(bars.x) == 30  # binned server-side, not 500 raw values
    assert sum(bars.y) == 500 and bars.x[0] == pytest.approx(10 / 60)


def test_long_tail_of_a_big_catalogue_keeps_its_shape_in_few_points():
    counts = np.arange(40_000, 0, -1).astype(float)
    fig = plots.long_tail(counts)
    assert len(fig.data[0].x) <= 2000 and fig.data[0].x[0] == 1 and fig.data[0].x[-1] == 40_000
    assert fig.data[0].y[0] == 40_000 and fig.data[0].y[-1] == 1


def test_long_tail_sorts_and_reports_head_share():
    fig = plots.long_tail([1, 50, 3, 100, 2, 1, 1, 1, 1, 1])
    assert list(fig.data[0].y[:3]) == [100, 50, 3]
    note = fig.layout.annotations[0].text
    assert "top 20% of items" in note and "93%" in note  # (100 + 50) / 161


def test_long_tail_uses_log_scale_for_heavy_tails():
    fig = plots.long_tail([1000] + [1] * 50)
    assert fig.layout.yaxis.type == "log"


@pytest.mark.parametrize(
    "fig",
    [
        plots.rating_histogram([]),
        plots.long_tail([]),
        plots.k_quality(pd.DataFrame(columns=["k", "inertia", "silhouette"])),
        plots.k_stability(None),
        plots.k_stability(pd.DataFrame(columns=["k", "ari_seeds"])),
        plots.segment_sizes([], []),
        plots.share_bars({}, "x"),
        plots.category_shares_over_time(pd.DataFrame(columns=["period", "category", "share"])),
        plots.cold_start_quality(None),
        plots.history_timeline(pd.DataFrame(columns=["time", "title", "category", "rating"])),
        plots.weight_bars([], [], "x"),
        plots.contribution_bars(pd.DataFrame()),
        plots.metric_comparison({}, [("ndcg", "NDCG")]),
        plots.weight_ternary(pd.DataFrame(), ["macro", "meso", "micro"]),
        plots.user_map(np.zeros((0, 2)), [], [], []),
    ],
)
def test_empty_inputs_give_an_explained_blank_figure(fig):
    assert _is_empty_note(fig)


def test_user_map_points_carry_their_user_row(model):
    fig = plots.user_map(model.umap_xy, model.segments, model.segment_labels, model.user_ids, model.top_categories())
    assert len(fig.data) == len(model.profiles)
    rows = sorted(int(r) for trace in fig.data for r in np.asarray(trace.customdata)[:, 0])
    assert rows == list(range(len(model.user_ids)))
    trace = fig.data[0]
    first = int(trace.customdata[0][0])
    assert trace.customdata[0][1] == model.user_ids[first]
    assert trace.x[0] == pytest.approx(float(model.umap_xy[first, 0]))
    assert fig.layout.dragmode == "select"


def test_user_map_highlights_one_user(model):
    fig = plots.user_map(model.umap_xy, model.segments, model.segment_labels, model.user_ids, highlight=5)
    star = fig.data[-1]
    assert star.marker.symbol == "star"
    assert star.x[0] == pytest.approx(float(model.umap_xy[5, 0]))
    assert model.user_ids[5] in fig.layout.annotations[0].text


def test_a_segment_has_one_colour_on_every_chart(model):
    """The map's trace and the size bar of a segment share its colour."""
    fig_map = plots.user_map(model.umap_xy, model.segments, model.segment_labels, model.user_ids)
    sizes = [p.size for p in model.profiles]
    fig_sizes = plots.segment_sizes(model.segment_labels, sizes)
    for s, trace in enumerate(fig_map.data):
        assert trace.name.startswith(f"{s}:")
        assert trace.marker.color == fig_sizes.data[0].marker.color[s] == plots.segment_color(s)


def test_segment_colours_are_distinct_for_every_k_the_app_offers():
    colours = [plots.segment_color(s).lower() for s in range(30)]  # the Data page allows K up to 30
    assert len(set(colours)) == 30
    assert all(re.fullmatch(r"#[0-9a-f]{6}|rgb\(\d+, \d+, \d+\)", c) for c in colours), colours


def test_segment_colours_are_the_same_in_another_process():
    """A fixed palette, not one that depends on hashing or a random state: the report and the app agree."""
    code = "from mgviz import plots; print('|'.join(plots.segment_color(s) for s in range(30)))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=root)
    assert out.stdout.strip().split("|") == [plots.segment_color(s) for s in range(30)]


def test_k_quality_marks_current_k(model):
    fig = plots.k_quality(model.k_scores, current_k=3)
    names = [t.name for t in fig.data]
    assert any("silhouette" in n for n in names) and any("inertia" in n for n in names)
    assert fig.layout.shapes[0].x0 == 3


def test_k_stability_draws_ari_per_k_and_marks_current_k(model):
    per_k = pd.DataFrame(model.stability["per_k"])
    fig = plots.k_stability(per_k.iloc[::-1], current_k=3)  # drawn in K order whatever the row order
    assert list(fig.data[0].x) == sorted(per_k["k"]) and "ARI" in fig.data[0].name
    np.testing.assert_allclose(fig.data[0].y, per_k.sort_values("k")["ari_seeds"])
    assert fig.layout.shapes[0].x0 == 3 and fig.layout.yaxis.range[1] == 1.05
    assert plots.k_stability(pd.DataFrame({"k": [2, 3], "ari_seeds": [-0.2, 0.4]})).layout.yaxis.range[0] == -0.2


def test_heatmap_share_and_lift(model):
    share = plots.segment_category_heatmap(model.segment_category, model.segment_labels, model.categories)
    assert np.asarray(share.data[0].z).shape == (len(model.profiles), len(model.categories))
    pop = model.category_mix.mean(axis=0)
    lift = plots.segment_category_heatmap(
        model.segment_category, model.segment_labels, model.categories, relative=True, population=pop
    )
    expected = model.segment_category / pop
    assert np.allclose(np.asarray(lift.data[0].customdata, dtype=float), expected, rtol=1e-5)
    assert lift.data[0].zmid == 0


def test_category_mix_bars_orders_by_the_subject(model):
    mix = model.category_mix[0]
    fig = plots.category_mix_bars(mix, model.category_mix.mean(axis=0), model.categories, "user u000")
    assert list(fig.data[0].y)[0] == model.categories[int(np.argmax(mix))]
    assert fig.data[1].name == "all users"


def test_category_shares_over_time_stack_to_one(model):
    frame = category_mix_over_time(model.dataset, model.item_categories, model.categories, freq="MS")
    fig = plots.category_shares_over_time(frame, top=3)
    assert {t.name for t in fig.data} <= set(model.categories) | {"other"}
    assert "other" in {t.name for t in fig.data}
    per_period = pd.concat([pd.Series(t.y, index=t.x) for t in fig.data]).groupby(level=0).sum()
    assert np.allclose(per_period.to_numpy(), 1.0)


def test_cold_start_quality_compares_with_prior():
    fig = plots.cold_start_quality({"mae": 0.02, "mae_prior": 0.06, "top1_accuracy": 0.6, "top1_prior": 0.1})
    assert list(fig.data[0].y) == [0.02, 0.06]
    assert list(fig.data[1].y) == [0.6, 0.1]


def test_history_timeline_one_marker_per_interaction():
    h = pd.DataFrame(
        {
            "time": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
            "title": ["A", "B", "C"],
            "category": ["x", "y", "x"],
            "rating": [1, 5, 3],
        }
    )
    fig = plots.history_timeline(h)
    assert len(fig.data[0].x) == 3
    sizes = list(fig.data[0].marker.size)
    assert sizes[1] > sizes[2] > sizes[0]


def test_friends_map_stars_the_user_and_rings_their_friends():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from helpers_app import tiny_social_model

    from mgviz import explore

    model = tiny_social_model()
    friends = explore.friends_of(model, 0)
    assert len(friends) >= 2
    fig = plots.friends_map(model.umap_xy, model.segments, model.segment_labels, model.user_ids, 0,
                            friends["row"].tolist())  # fmt: skip
    ring = next(t for t in fig.data if (t.name or "").startswith("friends of user u000"))
    assert ring.name == f"friends of user u000 ({len(friends)})"
    np.testing.assert_allclose(ring.x, model.umap_xy[friends["row"], 0], rtol=1e-6)
    assert sorted(ring.customdata[:, 1]) == sorted(friends["user_id"])
    lines = next(t for t in fig.data if t.mode == "lines")
    assert len(lines.x) == 3 * len(friends)  # user → friend, then a gap, per friend
    assert fig.data[-1].name == "user u000" and fig.layout.title.text == "Friends of user u000 on the map"
    # on a sampled map, friends who are not on it are left out
    shown = np.setdiff1d(np.arange(len(model.user_ids)), friends["row"].to_numpy()[:1])
    fig = plots.friends_map(model.umap_xy[shown], model.segments, model.segment_labels, model.user_ids, 0,
                            friends["row"].tolist(), rows=shown)  # fmt: skip
    assert next(t for t in fig.data if (t.name or "").startswith("friends of")).name.endswith(f"({len(friends) - 1})")


def test_weight_bars_keep_order_and_shorten_long_names():
    fig = plots.weight_bars(["a" * 80, "b"], [0.9, 0.1], "kw")
    assert fig.data[0].y[0].endswith("…") and len(fig.data[0].y[0]) <= 45
    assert fig.layout.yaxis.autorange == "reversed"


def test_contribution_bars_stack_every_level(model):
    recs = model.recommend({"macro": 0.25, "meso": 0.25, "micro": 0.25, "semantic": 0.25}, n=5, rows=[0])
    fig = plots.contribution_bars(recs, labels=["t"] * 5)
    assert [t.name for t in fig.data] == [plots.LEVEL_NAMES[lv] for lv in LEVELS if lv in model.levels]
    assert fig.layout.barmode == "stack"
    total = sum(np.asarray(t.x, dtype=float) for t in fig.data)
    assert np.allclose(total, recs["score"].to_numpy(), atol=1e-4)


def test_metric_comparison_one_panel_per_metric():
    rows = {"current": {"ndcg": 0.1, "recall": 0.2}, "pinned": {"ndcg": 0.05}, "popular": {"ndcg": 0.01, "recall": 0.1}}
    fig = plots.metric_comparison(rows, [("ndcg", "NDCG"), ("recall", "Recall")])
    assert len(fig.data) == 2
    assert list(fig.data[0].y) == ["current", "pinned", "popular"]
    assert fig.data[0].marker.color[2] != fig.data[0].marker.color[0]


def test_weight_ternary_marks_current_and_best():
    from itertools import product

    grid = [(a, b, c, 0.0) for a, b, c in product(np.arange(0, 1.01, 0.25), repeat=3) if abs(a + b + c - 1) < 1e-9]
    surface = pd.DataFrame(grid, columns=["macro", "meso", "micro", "semantic"])
    surface["ndcg"] = surface["micro"] * 0.2
    fig = plots.weight_ternary(
        surface, ["macro", "meso", "micro"], current={"macro": 0.5, "meso": 0.5, "micro": 0.0, "semantic": 0.0},
        fixed=("semantic", 0.0),
    )  # fmt: skip
    names = [t.name for t in fig.data]
    assert names == ["NDCG", "best on this slice", "current weights"]
    assert fig.data[1].c[0] == pytest.approx(1.0)  # best: all micro
    assert fig.data[2].a[0] == pytest.approx(0.5)
    assert "semantic = 0.0" in fig.layout.title.text
