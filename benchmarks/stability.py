"""Segment stability on the sample data and on MovieLens-1M.

Each data set is built with ``BuildConfig(k=6, seed=0, umap=False)`` and the bundled encoder;
the build's "stability" step re-runs K-means with 5 other seeds and on 5 bootstrap resamples of
the users (:func:`mgviz.stability.segment_stability`) and for each K of the K chart
(:func:`mgviz.stability.k_stability`). Figures go to docs/stability_results.json and the
"Segment stability" section of docs/benchmarks.md.

Usage: python benchmarks/stability.py [--data sample,ml-1m]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "docs" / "stability_results.json"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- stability:start -->", "<!-- stability:end -->"
NAMES = {"sample": "sample data", "ml-1m": "MovieLens-1M"}


def inputs(name: str) -> tuple[str, str | None, str | None]:
    if name == "sample":
        return tuple(str(ROOT / "sample_data" / f"{role}.csv") for role in ("interactions", "items", "users"))
    sys.path.insert(0, str(HERE))
    from data import inputs as movielens

    return movielens(name)


def measure(name: str) -> dict:
    from mgviz.encoder import Encoder
    from mgviz.io import load_dataset
    from mgviz.pipeline import BuildConfig, build

    dataset, _ = load_dataset(*inputs(name))
    t = time.perf_counter()
    model = build(dataset, BuildConfig(k=6, seed=0, umap=False), Encoder())
    build_s = round(time.perf_counter() - t, 1)
    segments = [{"segment": p.segment, "label": p.label, "size": p.size, "jaccard": j}
                for p, j in zip(model.profiles, model.stability["jaccard"], strict=True)]  # fmt: skip
    return {"data": name, "users": len(model.user_ids), "items": len(model.item_ids), "build_s": build_s,
            "stability_s": model.timings.get("stability"), "stability": model.stability,
            "segments": segments}  # fmt: skip


def render(results: dict) -> str:
    from mgviz.stability import FUZZY, STABLE, stability_word

    lines = [
        "`python benchmarks/stability.py`: each data set built with `BuildConfig(k=6, seed=0, umap=False)`; the",
        "build's *stability* step re-runs K-means (the build's own call and starts) with 5 other seeds and on 5",
        "bootstrap resamples of the users and compares each re-run with the model's segments. ARI: adjusted Rand",
        "index (1 = the same segments, 0 = chance); bootstrap ARI and Jaccard on the users drawn. A segment's",
        "Jaccard is its best-match overlap in each re-run, averaged over the 10 re-runs; the cards call it",
        f"*stable* ≥ {STABLE}, *fuzzy* {FUZZY}–{STABLE}, *dissolves* < {FUZZY} (Hennig 2007, `fpc::clusterboot`).",
        "*per K*: mean ARI across 3 other seeds for each K of the K chart (5,000-user sample, 32-d PCA, as the",
        "silhouette beside it).",
        "",
        "| data | users | K | ARI across seeds | ARI bootstrap | Jaccard per segment (min – max) | stability step |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        s = r["stability"]
        jac = [j for j in s["jaccard"] if j is not None]
        lines.append(f"| {NAMES.get(r['data'], r['data'])} | {r['users']:,} | {s['k']} | **{s['ari_seeds']:.3f}** | "
                     f"**{s['ari_bootstrap']:.3f}** | {min(jac):.2f} – {max(jac):.2f} | {r['stability_s']} s |")  # fmt: skip
    for r in results["runs"]:
        lines += ["", f"{NAMES.get(r['data'], r['data'])}, per segment:", "",
                  "| segment | users | Jaccard | |", "|---|---|---|---|"]  # fmt: skip
        for seg in r["segments"]:
            j = seg["jaccard"]
            lines.append(f"| {seg['segment']}: {seg['label']} | {seg['size']:,} | "
                         f"{'–' if j is None else f'{j:.2f}'} | {stability_word(j)} |")  # fmt: skip
        per_k = r["stability"].get("per_k") or []
        if per_k:
            lines += ["", "ARI across seeds per K: " + ", ".join(f"K={p['k']} {p['ari_seeds']:.2f}" for p in per_k)]
    lines += ["", f"Measured {results['date']} on {os.cpu_count()} cores, load average at start "
              f"{results['load_average_at_start']}."]  # fmt: skip
    return "\n".join(lines)


def write_doc(results: dict) -> None:
    from docs_section import write_section

    write_section("stability", "Segment stability", render(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="sample,ml-1m")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    results = {"date": time.strftime("%Y-%m-%d"), "load_average_at_start": round(os.getloadavg()[0], 2), "runs": []}
    for name in args.data.split(","):
        results["runs"].append(measure(name))
        print(name, json.dumps(results["runs"][-1]["stability"]))
    OUT.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    write_doc(results)
    print(f"written {OUT} and {DOC}")


if __name__ == "__main__":
    main()
