"""No users × items array anywhere: a 10k-user × 5k-item build, its recommendations for every
user, a run saved and loaded, and one user folded in all stay far below one users × items
float32 array of memory. (Speed and the 10M-interaction figures live in benchmarks/scale.py.)"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_app import HashEncoder  # noqa: E402

from mgviz.config import BuildConfig  # noqa: E402
from mgviz.schema import Dataset  # noqa: E402

N_USERS, N_ITEMS, N_CATS, PER_USER = 10_000, 5_000, 20, 20


def _log(seed: int = 0) -> Dataset:
    """Users with a favourite category, Zipf-like popularity inside each category."""
    rng = np.random.default_rng(seed)
    item_cat = rng.integers(0, N_CATS, N_ITEMS)
    by_cat = [np.flatnonzero(item_cat == c) for c in range(N_CATS)]
    fav = rng.integers(0, N_CATS, N_USERS)
    users = np.repeat(np.arange(N_USERS), PER_USER)
    cat = np.where(rng.random(len(users)) < 0.7, fav[users], rng.integers(0, N_CATS, len(users)))
    items = np.array([by_cat[c][min(int(rng.zipf(1.6)) - 1, len(by_cat[c]) - 1)] for c in cat])
    uid = np.char.add("u", np.arange(N_USERS).astype(str))
    iid = np.char.add("i", np.arange(N_ITEMS).astype(str))
    inter = pd.DataFrame({"user_id": uid[users], "item_id": iid[items], "rating": rng.integers(1, 6, len(users)) * 1.0,
                          "timestamp": 1.6e9 + rng.integers(0, 3e7, len(users)) * 1.0, "text": ""})  # fmt: skip
    inter = inter.drop_duplicates(["user_id", "item_id"]).reset_index(drop=True)
    words = np.array(["red", "blue", "green", "wool", "steel", "oak", "silk", "glass", "stone", "paper"])
    item_table = pd.DataFrame({
        "item_id": iid, "title": [f"{words[c % 10]} {words[(c * 3 + 1) % 10]} thing {i}" for i, c in enumerate(item_cat)],
        "text": "", "categories": [[f"cat{c}"] for c in item_cat],
    }).sort_values("item_id", ignore_index=True)  # fmt: skip
    user_table = pd.DataFrame({"user_id": uid, "text": "", "age": rng.integers(18, 70, N_USERS)}).sort_values(
        "user_id", ignore_index=True
    )
    return Dataset(inter, item_table, user_table, ["age"], has_rating=True, has_time=True)


@pytest.mark.slow
def test_a_10k_by_5k_build_never_holds_a_users_by_items_array(tmp_path):
    from mgviz.pipeline import build
    from mgviz.realtime import update_user
    from mgviz.runs import load_run, save_run

    dataset = _log()
    one_dense = N_USERS * N_ITEMS * 4  # a single users × items float32 array: 200 MB
    peaks = {}

    def measured(name, fn):
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        peaks[name] = tracemalloc.get_traced_memory()[1] - base
        return out

    tracemalloc.start()
    try:
        model = measured("build", lambda: build(dataset, BuildConfig(umap=False), HashEncoder()))
        recs = measured("recommend every user", lambda: model.recommend(n=10))
        measured("save", lambda: save_run(model, tmp_path / "run"))
        again = measured("load", lambda: load_run(tmp_path / "run"))
        measured(
            "fold in", lambda: update_user(again, again.user_ids[0], pd.DataFrame({"item_id": [again.item_ids[1]]}))
        )
    finally:
        tracemalloc.stop()
    assert model.levels["micro"].params["effective"] == "als+knn"  # 5k items: above EASE's reach
    from mgviz.explore import micro_model_note

    assert micro_model_note(model) == "Micro: ALS + item-kNN – 5,000 items is more than EASE's 4,096 (ease_max_items)"
    assert len(recs) == N_USERS * 10
    # what each step keeps plus its temporaries, at its peak, is a fraction of one dense array
    for name, peak in peaks.items():
        assert peak < one_dense / 4, f"{name}: peak {peak / 2**20:.0f} MiB"
    # nor does a run directory hold one
    biggest = max(p.stat().st_size for p in (tmp_path / "run").rglob("*") if p.is_file())
    assert biggest < one_dense / 4
