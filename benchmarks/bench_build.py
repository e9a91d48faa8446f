"""Time every build stage, re-fusion and held-out evaluation on one data set, in this process.

Usage: python benchmarks/bench_build.py --data sample|ml-100k|ml-1m --cache DIR [--no-umap] [--eval]
Prints one JSON object. ``run_all.py`` calls it in fresh processes (cold: empty cache
folder; warm: the same folder again) and writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def inputs(name: str) -> tuple[str, str, str]:
    if name == "sample":
        root = HERE.parent / "sample_data"
        return str(root / "interactions.csv"), str(root / "items.csv"), str(root / "users.csv")
    from data import inputs as movielens_inputs

    return movielens_inputs(name)


def median_ms(fn, repeat: int = 20) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="sample")
    ap.add_argument("--cache", required=True)
    ap.add_argument("--no-umap", action="store_true")
    ap.add_argument("--eval", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    from mgviz.encoder import Encoder
    from mgviz.io import load_dataset
    from mgviz.pipeline import BuildConfig, build

    out: dict = {"data": args.data, "umap": not args.no_umap, "import_s": round(time.perf_counter() - t0, 2)}
    t = time.perf_counter()
    dataset, _ = load_dataset(*inputs(args.data))
    out["load_s"] = round(time.perf_counter() - t, 2)
    out["shape"] = {"users": len(dataset.users), "items": len(dataset.items), "interactions": len(dataset.interactions)}
    encoder = Encoder(cache_dir=args.cache)
    config = BuildConfig(k=6, seed=0, umap=not args.no_umap)
    t = time.perf_counter()
    model = build(dataset, config, encoder)
    out["build_s"] = round(time.perf_counter() - t, 2)
    out["stages_s"] = model.timings

    weights = [
        {"macro": 0.1, "meso": 0.2, "micro": 0.5, "semantic": 0.2},
        {"macro": 0.4, "meso": 0.1, "micro": 0.3, "semantic": 0.2},
    ]
    state = {"i": 0}

    def refuse():
        state["i"] += 1
        model.recommend(weights[state["i"] % 2], n=10)

    out["refusion_all_users_ms"] = median_ms(refuse)
    out["refusion_one_user_ms"] = median_ms(lambda: model.recommend(weights[0], n=10, rows=[0]))

    if args.eval:
        from mgviz.evaluation.report import EvalContext

        t = time.perf_counter()
        ctx = EvalContext.from_dataset(dataset, config, encoder, ks=(10, 20))
        out["eval_context_s"] = round(time.perf_counter() - t, 2)
        w = ctx.auto_weights()
        out["eval_one_weight_accuracy_ms"] = median_ms(
            lambda: ctx.score_lists(
                ctx.fused_lists(weights[state["i"] % 2] if state.update(i=state["i"] + 1) else w), beyond=False
            )
        )
        out["eval_one_weight_all_metrics_ms"] = median_ms(lambda: ctx.metrics_for(w), repeat=10)
        t = time.perf_counter()
        ctx.surface(step=0.1)
        out["weight_surface_286_points_s"] = round(time.perf_counter() - t, 2)
        table = {name: {m: round(v, 4) for m, v in res.items()} for name, res in ctx.baselines.items()}
        table["fused (auto)"] = {m: round(v, 4) for m, v in ctx.metrics_for(w).items() if "@" in m}
        table["fused (stacking)"] = {
            m: round(v, 4) for m, v in ctx.metrics_for(ctx.tuned["stacking_weights"]).items() if "@" in m
        }
        out["auto_weights"] = w
        lv = ctx.tuned.get("levels") or {}
        out["tuned_params"] = ctx.tuned.get("params", {})
        out["tuned_baselines"] = lv.get("baselines", {})
        out["level_tuning_s"] = lv.get("seconds")
        out["level_tuning_fits"] = lv.get("fits")
        out["stacking_weights"] = ctx.tuned["stacking_weights"]
        out["split"] = ctx.split_info
        out["results"] = table
    print(json.dumps(out))


if __name__ == "__main__":
    main()
