"""The Spark engine against the local one on MovieLens-100k, in the held-out protocol of ``mgviz evaluate``.

Usage: python benchmarks/spark_ml100k.py [--grid 0.001,0.003,0.01,0.03,0.1] [--alphas 10] [--master local[2]]
                                         [--skip-test] [--out benchmarks/out/spark_ml100k.json]

Protocol (:meth:`mgviz.evaluation.report.EvalContext.from_dataset` with ``tune=False``): a temporal 80/20 split
per user, every level fitted on the train part, the fused top-10 lists (default fusion weights, training items
excluded) scored on the test part on the driver – whichever engine built the train model.

* **validation** (tuning Spark ALS's ``regParam`` and ``alpha``): the same protocol run on the *train* part only
  (its own temporal 80/20 split), so the test part is never looked at while choosing;
* **test**: the local engine and the Spark engine with the chosen setting, on the full log's split.

Prints one JSON line per measurement and writes them all to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def measure(dataset, config, encoder, engine=None) -> dict:
    """Fused and ALS-part NDCG@10 of a train model built by ``engine`` (local when ``None``)."""
    from mgviz.evaluation.report import EvalContext

    t = time.perf_counter()
    ctx = EvalContext.from_dataset(dataset, config, encoder, tune=False, ks=(10,), engine=engine)
    seconds = time.perf_counter() - t
    fused = ctx.metrics_for(config.weights)
    als = ctx.model.levels["micro"].part("als")
    als_only = ctx.score_lists(ctx.lists(als.score(ctx.rows)), beyond=False)
    return {"fused_ndcg@10": round(float(fused["ndcg@10"]), 5), "als_ndcg@10": round(float(als_only["ndcg@10"]), 5),
            "micro_ndcg@10": round(float(ctx.metrics_for({"micro": 1.0})["ndcg@10"]), 5),
            "users": int(len(ctx.rows)), "build_s": round(seconds, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", default="0.001,0.003,0.01,0.03,0.1")
    parser.add_argument("--alphas", default="10")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--skip-test", action="store_true", help="only the validation grid")
    parser.add_argument("--skip-validation", action="store_true", help="only the test comparison (--grid: one value)")
    parser.add_argument("--out", default=str(HERE / "out" / "spark_ml100k.json"))
    args = parser.parse_args()

    from data import inputs

    from mgviz.encoder import Encoder
    from mgviz.engines.spark import SparkEngine, spark_session
    from mgviz.evaluation.splits import split
    from mgviz.io import load_dataset
    from mgviz.pipeline import BuildConfig

    dataset, _ = load_dataset(*inputs("ml-100k"))
    config = BuildConfig(seed=0)
    encoder = Encoder(config.model)
    train_df, _test_df = split(dataset.interactions, "temporal", 0.2, seed=config.seed)
    train = dataset.with_interactions(train_df)  # validation: the protocol inside the train part only
    t = time.perf_counter()
    spark = spark_session(args.master, {"spark.sql.shuffle.partitions": "4"})
    results = {"session_s": round(time.perf_counter() - t, 1), "master": args.master, "validation": [], "test": {}}
    grid = [float(v) for v in args.grid.split(",")]
    alphas = [float(v) for v in args.alphas.split(",")]

    def emit(record):
        print(json.dumps(record), flush=True)

    try:
        if not args.skip_validation:
            local = measure(train, config, encoder)
            results["validation"].append({"engine": "local", **local})
            emit(results["validation"][-1])
            for alpha in alphas:
                for reg in grid:
                    got = measure(train, BuildConfig(seed=0, alpha=alpha), encoder,
                                  SparkEngine(spark, als_regularization=reg))  # fmt: skip
                    results["validation"].append({"engine": "spark", "regParam": reg, "alpha": alpha, **got})
                    emit(results["validation"][-1])
            spark_rows = [r for r in results["validation"] if r["engine"] == "spark"]
            best = max(spark_rows, key=lambda r: (r["fused_ndcg@10"], r["als_ndcg@10"]))
            results["chosen"] = {"regParam": best["regParam"], "alpha": best["alpha"]}
        else:
            results["chosen"] = {"regParam": grid[0], "alpha": alphas[0]}
        emit({"chosen": results["chosen"]})
        if not args.skip_test:
            chosen = results["chosen"]
            results["test"]["local"] = measure(dataset, config, encoder)
            emit({"test": "local", **results["test"]["local"]})
            results["test"]["spark"] = measure(dataset, BuildConfig(seed=0, alpha=chosen["alpha"]), encoder,
                                               SparkEngine(spark, als_regularization=chosen["regParam"]))  # fmt: skip
            emit({"test": "spark", **results["test"]["spark"]})
            ratio = results["test"]["spark"]["fused_ndcg@10"] / results["test"]["local"]["fused_ndcg@10"]
            results["test"]["spark_over_local"] = round(ratio, 4)
            emit({"spark_over_local": results["test"]["spark_over_local"]})
    finally:
        spark.stop()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
