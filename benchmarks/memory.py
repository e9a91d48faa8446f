"""Peak memory of loading and building on large synthetic logs (a script, not part of the test suite).

    .venv/bin/python benchmarks/memory.py            # 1M build + 5M load/refusal (~10 min on 2 cores)
    .venv/bin/python benchmarks/memory.py --quick    # 100k interactions, to try the script

Generates interaction logs (user_id, item_id, rating, timestamp; no text, so
the encoder does almost nothing) in ``/tmp/mgviz-bench`` with Zipf-like item
popularity and log-normal user activity:

* 1M interactions, 20,000 users × 5,000 items: load, then build (default
  configuration: 64 ALS factors, ALS+EASE, K-quality range 2-12, UMAP);
* 5M interactions, 60,000 users × 20,000 items: load, then build, which the
  memory guard (:func:`mgviz.limits.check_model_size`) must refuse up front.

Each measurement runs in a fresh process and reports its peak resident set
size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), so the figures do not
mix; the peak after importing mgviz (and, for builds, the encoder) is the
baseline. Results are printed as JSON lines and as a Markdown table for
docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = Path("/tmp/mgviz-bench")

#: name -> (interactions, users, items)
SHAPES = {
    "100k": (100_000, 5_000, 2_000),
    "1m": (1_000_000, 20_000, 5_000),
    "5m": (5_000_000, 60_000, 20_000),
}


def peak_mb() -> float:
    """Peak RSS of this process so far, MiB.

    ``VmHWM`` from ``/proc/self/status`` (reset by exec); ``ru_maxrss`` is the fallback, but
    Linux carries it over from the process that forked this one, i.e. the parent's peak.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# --------------------------------------------------------------------------- data
def make_log(name: str, seed: int = 0) -> Path:
    """A synthetic CSV log with the shape ``SHAPES[name]``; written once and reused."""
    import numpy as np
    import pandas as pd

    n, n_users, n_items = SHAPES[name]
    path = OUT / f"log_{name}.csv"
    if path.is_file():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    activity = rng.lognormal(0.0, 1.0, n_users)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.9
    rest = n - n_users - n_items
    # every user and every item appears at least once, the rest follows activity / popularity
    users = np.concatenate([np.arange(n_users), rng.integers(0, n_users, n_items),
                            rng.choice(n_users, rest, p=activity / activity.sum())])  # fmt: skip
    items = np.concatenate([rng.integers(0, n_items, n_users), np.arange(n_items),
                            rng.choice(n_items, rest, p=popularity / popularity.sum())])  # fmt: skip
    order = rng.permutation(n)
    frame = pd.DataFrame(
        {
            "user_id": np.char.add("u", users[order].astype(str)),
            "item_id": np.char.add("i", rng.permutation(n_items)[items[order]].astype(str)),
            "rating": rng.integers(1, 6, n),
            "timestamp": 1_600_000_000 + rng.integers(0, 2 * 365 * 86400, n),
        }
    )
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- one measurement (child process)
def child(mode: str, path: str, umap: bool) -> dict:
    t0 = time.perf_counter()
    from mgviz.errors import InputError
    from mgviz.io import load_dataset

    out: dict = {"mode": mode, "file": Path(path).name, "file_mb": round(os.path.getsize(path) / 2**20, 1)}
    out["import_peak_mb"] = round(peak_mb())
    t = time.perf_counter()
    dataset, _ = load_dataset(path)
    out.update(
        n_interactions=len(dataset.interactions),
        n_users=len(dataset.users),
        n_items=len(dataset.items),
        load_s=round(time.perf_counter() - t, 1),
        load_peak_mb=round(peak_mb()),
        after_load_mb=round(current_mb()),
    )
    if mode == "build":
        from mgviz.encoder import Encoder
        from mgviz.pipeline import BuildConfig, build

        encoder = Encoder(cache_dir=False)
        stages: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if done >= total:
                stages[stage] = round(peak_mb())

        t = time.perf_counter()
        try:
            model = build(dataset, BuildConfig(umap=umap), encoder, progress=progress)
        except InputError as exc:
            out.update(refused=True, message=str(exc), refused_after_s=round(time.perf_counter() - t, 2))
        else:
            t_rec = time.perf_counter()
            recs = model.recommend(n=10)
            out.update(
                refused=False,
                build_s=round(t_rec - t, 1),
                recommend_s=round(time.perf_counter() - t_rec, 1),
                n_recommendations=len(recs),
                stage_peak_mb=stages,
                timings=model.timings,
            )
        from mgviz.limits import estimate_model_bytes

        out["estimate_mb"] = round(
            estimate_model_bytes(len(dataset.users), len(dataset.items), len(dataset.interactions)) / 2**20
        )
    out["peak_mb"] = round(peak_mb())
    out["total_s"] = round(time.perf_counter() - t0, 1)
    return out


def run_child(mode: str, path: Path, umap: bool) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OPENBLAS_NUM_THREADS="1")
    cmd = [sys.executable, __file__, "--child", mode, str(path)] + ([] if umap else ["--no-umap"])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE.parent)
    if proc.returncode != 0:
        return {"mode": mode, "file": path.name, "error": f"exit {proc.returncode}", "stderr": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def markdown(results: list[dict]) -> str:
    rows = [
        "| file | interactions | users × items | step | peak RSS | time | outcome |",
        "|---|---:|---|---|---:|---:|---|",
    ]
    for r in results:
        if "error" in r:
            rows.append(f"| {r['file']} | | | {r['mode']} | | | failed: {r['error']} |")
            continue
        shape = f"{r['n_users']:,} × {r['n_items']:,}"
        if r["mode"] == "load":
            step, secs, outcome = "load", r["load_s"], "loaded"
        elif r.get("refused"):
            step, secs, outcome = (
                "load + build",
                r["total_s"],
                f"refused after {r['refused_after_s']} s: {r['message']}",
            )
        else:
            step, secs = "load + build + top-10", r["total_s"]
            outcome = f"built ({r['n_recommendations']:,} recommendations)"
        rows.append(
            f"| {r['file']} ({r['file_mb']} MB) | {r['n_interactions']:,} | {shape} | {step} "
            f"| {r['peak_mb'] / 1024:.2f} GiB | {secs} s | {outcome} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--make", choices=sorted(SHAPES), help=argparse.SUPPRESS)
    parser.add_argument("--no-umap", action="store_true", help="skip UMAP in builds")
    parser.add_argument("--quick", action="store_true", help="100k interactions only")
    parser.add_argument("--sizes", default="1m,5m", help="comma-separated sizes to run (default 1m,5m)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.make:
        print(make_log(args.make))
        return 0
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], not args.no_umap)))
        return 0
    sizes = ["100k"] if args.quick else args.sizes.split(",")
    plan = [(size, mode) for size in sizes for mode in ("load", "build")]
    results = []
    for name, mode in plan:
        path = OUT / f"log_{name}.csv"
        if not path.is_file():
            subprocess.run([sys.executable, __file__, "--make", name], check=True)
        result = run_child(mode, path, not args.no_umap)
        print(json.dumps(result), flush=True)
        results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print()
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
