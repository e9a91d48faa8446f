"""The social level on the sample data: does a friends file help the fused lists on held-out data?

The English sample has a friends table (``sample_data/friends.csv``: ~6,000 undirected friendships,
~85 % inside a user's planted segment, friends drawn by the items of the user's later history they
also chose). One temporal 80/20 split, ``BuildConfig(k=6, seed=0)``, weights (and level settings)
chosen on a validation split carved from train – never on test. Three held-out NDCG@10 figures:

* **with the social level** – the friends file given, the tuned weights;
* **social weight 0** – the same run and weights with the social level switched off;
* **no edges file** – the same data without friends, tuned again (what mgviz did before).

Figures go to the "Social level" section of docs/benchmarks.md.

Usage: python benchmarks/social.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
SAMPLE = ROOT / "sample_data"


def contexts(sample: Path = SAMPLE, encoder=None, config=None):
    """(held-out context with the friends file, the same data's context without it)."""
    from mgviz.encoder import Encoder
    from mgviz.evaluation.report import EvalContext
    from mgviz.io import load_dataset
    from mgviz.io.friends import load_friends
    from mgviz.pipeline import BuildConfig

    config = config or BuildConfig(k=6, seed=0)
    encoder = encoder or Encoder(config.model)
    plain, _ = load_dataset(*(sample / f"{r}.csv" for r in ("interactions", "items", "users")))
    social, _ = load_friends(sample / "friends.csv", plain)
    with_friends = EvalContext.from_dataset(social, config, encoder, split_method="temporal", ks=(10,))
    without = EvalContext.from_dataset(plain, config, encoder, split_method="temporal", ks=(10,))
    return with_friends, without


def measure() -> dict:
    import numpy as np

    from mgviz import explore

    load = time.strftime("%Y-%m-%d"), round(os.getloadavg()[0], 2)
    t = time.perf_counter()
    with_friends, without = contexts()
    seconds = time.perf_counter() - t
    tuned = with_friends.auto_weights()
    off = {**tuned, "social": 0.0}
    ndcg = {
        "social": with_friends.metrics_for(tuned, k=10)["ndcg@10"],
        "social_off": with_friends.metrics_for(off, k=10)["ndcg@10"],
        "no_edges": without.metrics_for(without.auto_weights(), k=10)["ndcg@10"],
        "social_only": with_friends.metrics_for({"social": 1.0}, k=10)["ndcg@10"],
    }
    per_user = with_friends.model.levels["social"]
    covered = float(per_user.covers(np.arange(per_user.n_users)).mean())
    homophily = explore.homophily(with_friends.model)
    return {
        "date": load[0], "load": load[1], "seconds": round(seconds, 1), "ndcg": ndcg, "weights": tuned,
        "weights_no_edges": without.auto_weights(), "users": int(len(with_friends.rows)), "covered": covered,
        "edges": int(len(with_friends.model.dataset.friends)),
        # each friendship once (a segment's "edges" count the ones leaving it too, so they do not add up)
        "inside": float(homophily["inside"].sum() / max(len(with_friends.model.dataset.friends), 1)),
        "expected": float((homophily["expected"] ** 2).sum()),  # both ends in one segment, at random
    }  # fmt: skip


def render(r: dict) -> str:
    n = r["ndcg"]
    w = ", ".join(f"{lv} {v:.2f}" for lv, v in r["weights"].items())
    w0 = ", ".join(f"{lv} {v:.2f}" for lv, v in r["weights_no_edges"].items())
    gain = n["social"] - n["no_edges"]
    verdict = (
        f"The social level helps: +{gain:.4f} NDCG@10 over the run without an edges file ({gain / n['no_edges']:+.1%})."
        if gain > 0
        else f"The social level does **not** help here ({gain:+.4f} NDCG@10 against no edges file)."
    )
    return f"""`python benchmarks/social.py`: the English sample data with `sample_data/friends.csv`
({r["edges"]:,} undirected friendships; {r["inside"]:.0%} of edges inside one of the model's segments, which are the planted ones; {r["expected"]:.0%} expected
under random mixing), one temporal 80/20 split, `BuildConfig(k=6, seed=0)`, weights tuned on a validation
split carved from train. Held-out NDCG@10 of the fused lists for the {r["users"]:,} users with test items:

| run | NDCG@10 |
|---|---|
| with the social level (tuned weights) | **{n["social"]:.4f}** |
| the same run, social weight 0 | {n["social_off"]:.4f} |
| no edges file (tuned again) | {n["no_edges"]:.4f} |
| the social level alone | {n["social_only"]:.4f} |

{verdict} Weights chosen with friends: {w}; without: {w0}. {r["covered"]:.0%} of the users have friends.
The plant is in who befriends whom – friends are drawn by the items of a user's later history they also
chose, as if the user had copied them – so friends carry what a user takes up next beyond their segment;
`tests/test_levels_sample.py` checks that the social level helps on held-out data.
Both evaluations took {r["seconds"]} s; measured {r["date"]}, load average at start {r["load"]}."""


def main() -> None:
    from docs_section import write_section

    result = measure()
    print(result)
    write_section("social", "Social level", render(result))


if __name__ == "__main__":
    main()
