"""How build time and memory grow with the log: synthetic shop logs of 1M / 3M / 10M interactions.

For each size: generate the log (benchmarks/synth_log.py, planted segments), run ``mgviz build``
with default settings and a cold embedding cache in a fresh process (wall time, peak RSS, stage
timings), check the segments against the planted ones (ARI), time ``mgviz recommend --user`` in
a fresh process, and time opening the run. Figures go to docs/scale_results.json and the
"Real-size logs" section of docs/benchmarks.md.

Usage: python benchmarks/scale.py [--sizes 1m,3m,10m] [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "docs" / "scale_results.json"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- scale:start -->", "<!-- scale:end -->"

#: interactions, users, items of each benchmark log
SIZES = {"1m": (1_000_000, 20_000, 4_000), "3m": (3_000_000, 60_000, 12_000), "10m": (10_000_000, 200_000, 40_000)}

_CHILD = """
import json, resource, sys, time
t = time.perf_counter()
from mgviz.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "wall_s": round(time.perf_counter() - t, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}), file=sys.stderr)
"""


def _child(args: list[str], env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "{}"
    try:
        out = json.loads(last)
    except json.JSONDecodeError:
        out = {"code": proc.returncode}
    if out.get("code") != 0:
        raise SystemExit(f"mgviz {' '.join(args[:1])} failed:\n{proc.stderr[-3000:]}")
    return out


def open_and_check(run: Path, data: Path):
    """``(model, seconds to open the run, ARI of its segments with the planted ones, a user id to ask for)``."""
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    from mgviz.runs import load_run

    t = time.perf_counter()
    model = load_run(run)
    open_s = round(time.perf_counter() - t, 2)
    truth = pd.read_parquet(data / "truth.parquet").set_index("user_id")["segment"]
    ari = adjusted_rand_score(truth.reindex(model.user_ids.astype(str)).to_numpy(), model.segments)
    return model, open_s, ari, str(model.user_ids[len(model.user_ids) // 2])


def run_size(name: str, work: Path, env: dict, serve_only: dict | None = None) -> dict:
    sys.path.insert(0, str(HERE))
    from synth_log import generate, write

    n_inter, n_users, n_items = SIZES[name]
    data = work / f"log-{name}"
    t = time.perf_counter()
    if not (data / "interactions.parquet").is_file():
        write(generate(n_inter, n_users, n_items, seed=0), data, formats=("parquet",))
    gen_s = round(time.perf_counter() - t, 1)
    run, cache = work / f"run-{name}", work / f"cache-{name}"
    if serve_only is not None:  # re-time opening and answering on the run built before
        build = {"wall_s": serve_only["build_s"], "peak_rss_mb": serve_only["build_peak_rss_mb"]}
    else:
        shutil.rmtree(cache, ignore_errors=True)  # cold embedding cache: the encoder really runs
        build = _child(["build", "--interactions", str(data / "interactions.parquet"), "--items",
                        str(data / "items.parquet"), "--users", str(data / "users.parquet"), "--out", str(run),
                        "--cache-dir", str(cache), "--quiet"], env)  # fmt: skip
    manifest = json.loads((run / "manifest.json").read_text())
    import numpy as np

    model, open_s, ari, user = open_and_check(run, data)
    t = time.perf_counter()
    rec = _child(["recommend", "--run", str(run), "--user", user, "--n", "10", "--out", str(work / "rec.csv")], env)
    rec_s = round(time.perf_counter() - t, 2)
    size_mb = sum(p.stat().st_size for p in run.rglob("*") if p.is_file()) / 2**20
    return {
        "log": {
            "interactions": int(manifest["dataset"]["n_interactions"]),
            "users": int(manifest["dataset"]["n_users"]),
            "items": int(manifest["dataset"]["n_items"]),
            "generate_s": gen_s,
        },  # fmt: skip
        "build_s": build["wall_s"],
        "build_peak_rss_mb": build["peak_rss_mb"],
        "stages_s": manifest["timings"],
        "micro": manifest["level_models"]["micro"]["effective"],
        "weights": manifest["config"]["weights"],
        "segments": len(model.profiles),
        "ari_vs_planted": round(float(ari), 3),
        "map_users": manifest["map"]["users"],
        "open_run_s": open_s,
        "recommend_user_process_s": rec_s,
        "recommend_user_peak_rss_mb": rec["peak_rss_mb"],
        "run_dir_mb": round(size_mb),
        "largest_array_cells": int(max(np.prod(a.shape) for a in _arrays(model))),
        "users_x_items": int(len(model.user_ids) * len(model.item_ids)),
    }


def _arrays(model):
    yield model.user_vectors
    yield model.item_embeddings
    for level in model.levels.values():
        for part in getattr(level, "parts", [level]):
            for key in (*part.user_arrays, *part.item_arrays):
                value = getattr(part, key)
                if value is not None and not hasattr(value, "tocsr"):
                    yield value


def render(results: dict) -> str:
    rows = [
        "| log | users × items | build (default settings, cold cache) | peak memory | ARI vs planted | "
        "`recommend --user` (process) | open the run | run folder | micro |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["sizes"].items():
        log = r["log"]
        rows.append(
            f"| {name} ({log['interactions']:,} interactions) | {log['users']:,} × {log['items']:,} | "
            f"{r['build_s'] / 60:.1f} min | {r['build_peak_rss_mb'] / 1024:.1f} GB | {r['ari_vs_planted']:.2f} | "
            f"{r['recommend_user_process_s']:.1f} s | {r['open_run_s']:.1f} s | {r['run_dir_mb']:,} MB | {r['micro']} |"
        )
    stages = sorted({s for r in results["sizes"].values() for s in r["stages_s"]},
                    key=lambda s: list(next(iter(results["sizes"].values()))["stages_s"]).index(s)
                    if s in next(iter(results["sizes"].values()))["stages_s"] else 99)  # fmt: skip
    rows += [
        "",
        "Stage times of the final build (s). With `--weights auto`, the default, a validation build runs "
        "first and encodes the texts (the cache is cold), so *encode items* is near 0 here; the build column "
        "above counts both builds, the weight search and saving the run.",
        "",
        "| log | " + " | ".join(stages) + " |",
        "|---|" + "---|" * len(stages),
    ]
    for name, r in results["sizes"].items():
        rows.append(f"| {name} | " + " | ".join(str(round(r["stages_s"].get(s, 0), 1)) for s in stages) + " |")
    m = results["machine"]
    rows += ["", f"Measured {results['date']} on {m['cores']} cores, {m['memory']}, load average at start "
             f"{m['load_average_at_start']}; `python benchmarks/scale.py`."]  # fmt: skip
    return "\n".join(rows)


def write_doc(results: dict) -> None:
    from docs_section import write_section

    write_section("scale", "Real-size logs: how build time and memory grow", render(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,3m,10m")
    parser.add_argument("--work", default=None, help="folder for logs and runs (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the logs and runs")
    parser.add_argument(
        "--serve-only",
        action="store_true",
        help="re-time opening the runs and recommend --user on runs already in --work (no rebuild)",
    )
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="mgviz-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    sys.path.insert(0, str(HERE))
    from run_all import machine

    results = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "sizes": {}}
    previous = json.loads(OUT.read_text()) if OUT.exists() else {"sizes": {}}
    if args.serve_only and not args.work:
        raise SystemExit("--serve-only needs --work (the folder with the runs)")
    for name in args.sizes.split(","):
        print(f"{name} ...", file=sys.stderr, flush=True)
        before = previous.get("sizes", {}).get(name) if args.serve_only else None
        results["sizes"][name] = run_size(name, work, env, before)
        if before:
            results["sizes"][name]["build_measured"] = before.get(
                "build_measured", before.get("date", previous.get("date"))
            )
        print(json.dumps(results["sizes"][name]), file=sys.stderr, flush=True)
    merged = {**previous, **results, "sizes": {**previous.get("sizes", {}), **results["sizes"]}}
    merged["sizes"] = {k: merged["sizes"][k] for k in SIZES if k in merged["sizes"]}
    OUT.write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    write_doc(merged)
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
