"""What diversity costs: NDCG@10, intra-list diversity and coverage of MMR-re-ranked lists on MovieLens.

Usage: python benchmarks/bench_mmr.py [--data ml-100k] [--cache DIR] [--lambdas 0,0.1,0.2,0.3,0.5]

One held-out evaluation (temporal 80/20 per user, levels and ``auto`` weights tuned on a validation
split of the training part, as ``bench_build.py --eval`` does), then the fused lists with the auto
weights re-ranked by MMR (:mod:`mgviz.rerank`) at each λ, with category and with embedding
similarity. Writes ``docs/mmr_results.json`` and the "Diversity (MMR)" section of
``docs/benchmarks.md`` (between its ``mmr`` markers; ``run_all.py`` keeps it).
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
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

DOC = ROOT / "docs" / "benchmarks.md"
OUT = ROOT / "docs" / "mmr_results.json"
START, END = "<!-- mmr:start -->", "<!-- mmr:end -->"
TITLE = "## Diversity (MMR): what it costs in NDCG, what it gains in diversity and coverage"
METRICS = ("ndcg@10", "recall@10", "ild_category@10", "ild_embedding@10", "coverage@10", "novelty@10")


def measure(data: str, cache: str | None, lambdas: list[float]) -> dict:
    from bench_build import inputs

    from mgviz.encoder import Encoder
    from mgviz.evaluation.report import EvalContext
    from mgviz.io import load_dataset
    from mgviz.pipeline import BuildConfig

    load = round(os.getloadavg()[0], 2)
    dataset, _ = load_dataset(*inputs(data))
    config = BuildConfig(k=6, seed=0, umap=False)
    t = time.perf_counter()
    ctx = EvalContext.from_dataset(dataset, config, Encoder(cache_dir=cache), ks=(10, 20))
    context_s = round(time.perf_counter() - t, 1)
    weights = ctx.auto_weights()
    ctx.sample_scores  # noqa: B018 - the level scores are computed once, before anything is timed
    rows = []
    for similarity in ("categories", "embeddings"):
        for lam in lambdas:
            if lam == 0 and similarity == "embeddings":
                continue  # λ = 0 is the fused list whatever the similarity
            times = []
            for _ in range(3):
                t = time.perf_counter()
                lists = ctx.fused_lists(weights, diversity=lam, similarity=similarity)
                times.append(time.perf_counter() - t)
            rerank_ms = round(statistics.median(times) * 1000, 1)
            metrics = ctx.score_lists(lists)
            rows.append({"diversity": lam, "similarity": "–" if lam == 0 else similarity, "lists_ms": rerank_ms,
                         **{m: round(float(metrics[m]), 4) for m in METRICS}})  # fmt: skip
    return {"data": data, "weights": weights, "split": ctx.split_info, "eval_context_s": context_s,
            "n_items": int(ctx.test.shape[1]), "rows": rows, "load_average": load}  # fmt: skip


def render(result: dict) -> str:
    base = next((r for r in result["rows"] if r["diversity"] == 0), result["rows"][0])
    split = result["split"]
    lines = [
        f"`benchmarks/bench_mmr.py` on {result['data']}: {split['method']} split per user (test fraction "
        f"{split['test_frac']}), {split.get('evaluated_users', split.get('n_test_users'))} users evaluated over all "
        f"{result['n_items']} items; levels and weights chosen on a validation part of the training split (auto "
        f"weights {result['weights']}). The fused lists are re-ranked by MMR over each user's best 100 items: next = "
        "argmax (1 − λ) · relevance − λ · max cosine similarity to the items already listed (relevance = fused score "
        "rescaled to [0, 1] over the candidates). *ILD* = mean pairwise distance within a list (Jaccard of genres; "
        "cosine of text embeddings); *coverage* = share of the catalogue in some top-10 list. Δ against λ = 0.",
        "",
        "| λ | similarity | NDCG@10 | Δ NDCG@10 | recall@10 | ILD genres@10 | Δ ILD genres | ILD embeddings@10 | "
        "coverage@10 | Δ coverage | novelty@10 | lists (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['diversity']:g} | {r['similarity']} | {r['ndcg@10']:.4f} | {r['ndcg@10'] - base['ndcg@10']:+.4f} | "
            f"{r['recall@10']:.4f} | {r['ild_category@10']:.4f} | {r['ild_category@10'] - base['ild_category@10']:+.4f} | "
            f"{r['ild_embedding@10']:.4f} | {r['coverage@10']:.4f} | {r['coverage@10'] - base['coverage@10']:+.4f} | "
            f"{r['novelty@10']:.4f} | {r['lists_ms']} |"
        )
    lines += [
        "",
        "*lists (ms)*: fusing, ranking and re-ranking the top-20 lists of every evaluated user (median of 3; "
        f"load average {result.get('load_average', '?')} when it started on this 2-core machine; evaluation context "
        f"{result['eval_context_s']} s).",
    ]
    return "\n".join(lines)


def write_doc(result: dict) -> None:
    from docs_section import write_section

    write_section("mmr", TITLE.removeprefix("## "), render(result))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="ml-100k")
    ap.add_argument("--cache", default=None, help="embedding cache folder (default $MGVIZ_CACHE or ~/.cache/mgviz)")
    ap.add_argument("--lambdas", default="0,0.1,0.2,0.3,0.5")
    args = ap.parse_args()
    result = measure(args.data, args.cache, [float(v) for v in args.lambdas.split(",")])
    OUT.write_text(json.dumps(result, indent=1), encoding="utf-8")
    write_doc(result)
    print(render(result))


if __name__ == "__main__":
    main()
