"""The Spark engine on a real-size log, in local mode: time per stage and peak memory, JVM included.

Generates the synthetic shop log of ``benchmarks/scale.py`` (planted segments; 10M interactions by
default, ``--sizes 10m,30m`` adds 30M), builds it with ``mgviz build --engine spark --master local[2]`` in
a fresh process – the log read by Spark (``file://`` URL), the run's default fusion weights (tuning is
local-only) – and samples the resident memory of the whole process tree (the Python driver, the JVM,
Spark's Python workers) every half second. Then the segments against the planted ones (ARI), opening the
run, and ``mgviz recommend --user`` in a fresh process, as the local benchmark does. Figures go to
``docs/spark_scale_results.json`` and the "Spark engine on a real-size log" section of docs/benchmarks.md,
beside the local engine's figures for the same log (``docs/scale_results.json``).

Usage: python benchmarks/spark_scale.py [--sizes 10m] [--work DIR] [--driver-memory 14g]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "spark_scale_results.json"
LOCAL = ROOT / "docs" / "scale_results.json"
SIZES = {"10m": (10_000_000, 200_000, 40_000), "30m": (30_000_000, 600_000, 120_000)}


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_sampled(cmd: list[str], env: dict, log_path: Path) -> dict:
    """Run ``cmd``; wall time and the peak RSS of its whole process tree (sampled every 0.5 s)."""
    t = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        ps = psutil.Process(proc.pid)
        peak = {"rss": 0}
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak["rss"] = max(peak["rss"], tree_rss(ps))
                except psutil.Error:
                    pass
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait()
        stop.set()
        sampler.join()
    if code != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} … failed ({code}); see {log_path}:\n{log_path.read_text()[-3000:]}")
    return {"wall_s": round(time.perf_counter() - t, 1), "peak_tree_rss_mb": round(peak["rss"] / 2**20)}


def run_size(name: str, work: Path, env: dict, driver_memory: str) -> dict:
    from synth_log import generate, write

    n_inter, n_users, n_items = SIZES[name]
    data = work / f"log-{name}"
    t = time.perf_counter()
    if not (data / "interactions.parquet").is_file():
        write(generate(n_inter, n_users, n_items, seed=0), data, formats=("parquet",))
    gen_s = round(time.perf_counter() - t, 1)
    run, cache = work / f"run-{name}-spark", work / f"cache-{name}-spark"
    mgviz = str(Path(sys.executable).with_name("mgviz"))
    build = run_sampled(
        [mgviz, "build", "--engine", "spark", "--master", "local[2]",
         "--spark-conf", f"spark.driver.memory={driver_memory}", "--spark-conf", "spark.driver.maxResultSize=8g",
         "--spark-conf", "spark.sql.shuffle.partitions=16",
         "--interactions", f"file://{data / 'interactions.parquet'}", "--items", str(data / "items.parquet"),
         "--users", str(data / "users.parquet"), "--out", str(run), "--cache-dir", str(cache)],
        env, work / f"build-{name}-spark.log",
    )  # fmt: skip
    manifest = json.loads((run / "manifest.json").read_text())
    from scale import open_and_check

    _model, open_s, ari, user = open_and_check(run, data)
    rec = run_sampled([mgviz, "recommend", "--run", str(run), "--user", user, "--n", "10", "--out",
                       str(work / "rec.csv")], env, work / "recommend.log")  # fmt: skip
    engine = manifest["engine"]
    return {
        "log": {
            "interactions": int(manifest["dataset"]["n_interactions"]),
            "users": int(manifest["dataset"]["n_users"]),
            "items": int(manifest["dataset"]["n_items"]),
            "generate_s": gen_s,
        },  # fmt: skip
        "build_s": build["wall_s"],
        "build_peak_tree_rss_mb": build["peak_tree_rss_mb"],
        "driver_memory": driver_memory,
        "stages_s": manifest["timings"],
        "where": engine["stages"],
        "session_s": engine.get("session_seconds"),
        "read_by_spark": engine.get("inputs_read_by_spark"),
        "encode_items": engine.get("encode_items"),
        "micro": manifest["level_models"]["micro"]["effective"],
        "weights": manifest["config"]["weights"],
        "ari_vs_planted": round(float(ari), 3),
        "open_run_s": open_s,
        "recommend_user_process_s": rec["wall_s"],
        "run": str(run),
    }


def render(results: dict) -> str:
    local = json.loads(LOCAL.read_text()).get("sizes", {}) if LOCAL.exists() else {}
    m = results["machine"]
    where = (
        f"{m['cores']} cores, {' '.join(m['memory'].split()[1:])}, load average at start {m['load_average_at_start']}"
    )
    lines = [
        f"Measured {results['date']} on {where}; `python benchmarks/spark_scale.py`. Spark 4.3.0 in "
        "local mode (`local[2]`: the driver and two executor threads in one JVM, on the same two cores), Java BLAS "
        "(no native BLAS set up). The log is read by Spark (`file://` URL). Peak memory is the whole process tree: "
        "the Python driver, the JVM and Spark's Python workers. The local engine's figures are "
        "`docs/scale_results.json` (its build counts a validation build for `--weights auto` as well; the Spark "
        "build keeps the default weights).",
        "",
        "| log | engine | build | peak memory | ARI vs planted | open the run | `recommend --user` |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results["sizes"].items():
        lo = local.get(name)
        if lo:
            lines.append(f"| {name} | local | {lo['build_s'] / 60:.1f} min | {lo['build_peak_rss_mb'] / 1024:.1f} GB | "
                         f"{lo['ari_vs_planted']:.2f} | {lo['open_run_s']:.1f} s | {lo['recommend_user_process_s']:.1f} s |")  # fmt: skip
        lines.append(f"| {name} | Spark `local[2]` | {r['build_s'] / 60:.1f} min | {r['build_peak_tree_rss_mb'] / 1024:.1f} GB "
                     f"| {r['ari_vs_planted']:.2f} | {r['open_run_s']:.1f} s | {r['recommend_user_process_s']:.1f} s |")  # fmt: skip
    stages = [s for s in next(iter(results["sizes"].values()))["stages_s"]]
    lines += ["", "Stage times (s) and where each ran:", "",
              "| log | engine | " + " | ".join(stages) + " |", "|---|---|" + "---|" * len(stages)]  # fmt: skip
    for name, r in results["sizes"].items():
        lo = local.get(name)
        if lo:
            lines.append(f"| {name} | local | " + " | ".join(f"{lo['stages_s'].get(s, 0):.1f}" for s in stages) + " |")
        lines.append(f"| {name} | Spark | " + " | ".join(
            f"{r['stages_s'].get(s, 0):.1f}{' (S)' if r['where'].get(s) == 'spark' else ''}" for s in stages) + " |")  # fmt: skip
    lines += ["", "(S): the step ran on Spark; the others on the driver, as the local engine runs them."]
    r = next(iter(results["sizes"].values()))
    st, where = r["stages_s"], r["where"]
    spark_s = sum(v for k, v in st.items() if where.get(k) == "spark")
    driver_s = sum(v for k, v in st.items() if where.get(k) != "spark")
    enc = r.get("encode_items") or {}
    lines += [
        "",
        f"**Reading it.** Here Spark is {r['build_s'] / max(local.get(name, {}).get('build_s', r['build_s']), 1):.1f}× "
        "slower than the local engine: on two shared cores it adds a JVM, serialisation between Python and the JVM "
        "and shuffles, and gains no parallelism the local engine lacks. The local build's *encode items* is near 0 "
        f"because its validation build encoded the texts first; Spark encoded all {enc.get('texts', 0):,} item "
        f"texts cold on the executors in {enc.get('seconds', 0):.0f} s. Peak memory is higher because the JVM "
        f"(driver memory {r['driver_memory']}) holds the log and ALS's blocks beside the Python driver, which still "
        "holds what the local engine holds. The segments agree with the planted ones a little less well than the "
        f"local engine's (ARI {r['ari_vs_planted']:.2f} against {local.get(name, {}).get('ari_vs_planted', 0):.2f}: "
        "Spark's k-means‖ and ALS-WR are not scikit-learn's and implicit's, and the run keeps the default weights).",
        "",
        f"**On a cluster of N executors.** The Spark steps here took {spark_s:.0f} s of the build, the driver steps "
        f"{driver_s:.0f} s. ALS ({st.get('ALS', 0):.0f} s) and the item encoding ({st.get('encode items', 0):.0f} s) "
        "are per-block and per-text work that spreads over executor cores: with N executors of c cores they should "
        "take roughly 2/(N·c) of the time here, plus shuffle (ALS) and one model load per Python worker (encoding); "
        "native BLAS on the executors roughly halves ALS again (the issue's measurement). K-means "
        f"({st.get('segments', 0):.0f} s, a few seeded k-means‖ starts over the user vectors) spreads likewise; "
        "weights and categories are aggregations, small already. The driver steps do not shrink "
        f"with N: about {driver_s:.0f} s here (users' text, cold start, time level, keywords, stability, UMAP) and "
        "the collection of the (user, item, weight) sums to the driver stay, so a cluster brings a 10M build down to "
        "a few minutes, not seconds, and the driver needs the local engine's memory for the same log "
        f"({local.get(name, {}).get('build_peak_rss_mb', 0) / 1024:.1f} GB here) plus the collected log. Not measured: "
        "no cluster exists here; 30M was not run (the 10M build took a third of an hour).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10m")
    parser.add_argument("--work", default=str(HERE / "data" / "spark-scale"))
    parser.add_argument("--driver-memory", default="14g")
    parser.add_argument("--doc-only", action="store_true", help="rewrite the docs section from the saved results")
    args = parser.parse_args()
    from docs_section import write_section
    from run_all import machine

    if args.doc_only:
        results = json.loads(OUT.read_text())
    else:
        work = Path(args.work)
        work.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
                   OPENBLAS_NUM_THREADS="1")  # fmt: skip
        results = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "sizes": {}}
        for name in args.sizes.split(","):
            print(f"{name} ...", file=sys.stderr, flush=True)
            results["sizes"][name] = run_size(name, work, env, args.driver_memory)
            print(json.dumps(results["sizes"][name]), file=sys.stderr, flush=True)
            OUT.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    write_section("spark-scale", "Spark engine on a real-size log (local mode)", render(results))


if __name__ == "__main__":
    main()
