"""Run every benchmark in fresh processes and write docs/benchmarks_results.json.

cold = empty embedding cache (the text encoder runs); warm = the same cache again.
Each run is its own process, so import and JIT-compile costs are counted honestly.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "benchmarks_results.json"


def run(data: str, cache: str, *extra: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(HERE / "bench_build.py"), "--data", data, "--cache", cache, *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> dict:
    import os

    mem = Path("/proc/meminfo").read_text().split("\n")[0] if Path("/proc/meminfo").exists() else ""
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in ln
            ),
            "",
        )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


STAGES = ("encode items", "encode users", "categories", "cold start", "ALS", "keywords", "semantic", "segments",
          "K quality", "stability", "UMAP")  # fmt: skip


def targets(results: dict) -> list[str]:
    """The issues' targets against the measured figures (met / not met, computed)."""
    runs = {(r["data"], r["mode"]): r for r in results["runs"]}
    rows = []

    def add(label, value, limit, unit):
        if value is not None:
            rows.append(
                f"| {label} | {value} {unit} | ≤ {limit} {unit} | {'met' if value <= limit else '**not met**'} |"
            )

    add("MovieLens-100k build, warm cache", runs.get(("ml-100k", "warm"), {}).get("build_s"), 10, "s")
    add("MovieLens-100k build, cold cache", runs.get(("ml-100k", "cold"), {}).get("build_s"), 30, "s")
    add("re-fusion of all sample users", runs.get(("sample", "warm"), {}).get("refusion_all_users_ms"), 100, "ms")
    add("re-fusion of all MovieLens users", runs.get(("ml-100k", "warm"), {}).get("refusion_all_users_ms"), 100, "ms")
    ev = runs.get(("ml-100k", "warm+eval"), {})
    add("evaluating all MovieLens users, one weight setting", ev.get("eval_one_weight_accuracy_ms"), 200, "ms")
    # fused NDCG@10 of the design with users × items score arrays (mgviz-run/1, commit 7914d3d), same
    # protocol, re-measured on this machine with that code: ML-100k 0.204111, ML-1M 0.1431 (the issues
    # quoted ≈ 0.2042 / ≈ 0.145 from another machine)
    for data, before in (("ml-100k", 0.2041), ("ml-1m", 0.1431)):
        ev = runs.get((data, "warm+eval"), {})
        res = ev.get("results", {})
        fused = res.get("fused (auto)", {}).get("ndcg@10")
        if fused is None:
            continue
        ok = "met" if fused >= before else "**not met**"
        rows.append(f"| {data}: fused (auto) NDCG@10 not below the dense design's | {fused} | ≥ {before} | {ok} |")
        ease_ndcg = res.get("ease", {}).get("ndcg@10")
        if ease_ndcg:
            need = round(1.05 * ease_ndcg, 4)
            rows.append(f"| {data}: fused (auto) ≥ 1.05 × validation-tuned EASE | {fused} | ≥ {need} | "
                        f"{'met' if fused >= need else '**not met**'} |")  # fmt: skip
        single = {k: v.get("ndcg@10", 0) for k, v in res.items() if k.endswith(" only")}
        if single:
            top = max(single, key=single.get)
            rows.append(f"| {data}: fused (auto) ≥ every single level (best: {top}) | {fused} | ≥ {single[top]} | "
                        f"{'met' if fused >= single[top] else '**not met**'} |")  # fmt: skip
    # the evaluation context's time before levels were tuned (weights only), same machine: ML-1M 51.86 s
    ctx_s = runs.get(("ml-1m", "warm+eval"), {}).get("eval_context_s")
    if ctx_s is not None:
        add("ml-1m: train build + tuning (levels and weights) + baselines, ≤ 3 × weights-only auto (51.86 s)",
            ctx_s, round(3 * 51.86, 1), "s")  # fmt: skip
    browser = OUT.parent / "browser_latency.json"
    if browser.exists():
        b = json.loads(browser.read_text())
        both = b.get("metrics_updated") or {}
        add("browser: slider move → list updated (median)", round(b["list_updated"]["median_ms"]), 300, "ms")
        if both:
            add("browser: slider move → list and metrics updated (median)", round(both["median_ms"]), 300, "ms")
            add("browser: slider move → list and metrics updated (90th percentile)", round(both["p90_ms"]), 300, "ms")
    return ["", "## Targets", "", "| what | measured | target | |", "|---|---|---|---|", *rows]


def render(results: dict) -> str:
    """docs/benchmarks.md from the measured figures (nothing typed by hand)."""
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`benchmarks/run_all.py`); every figure below is measured, each run in a fresh",
        "process. *cold* = empty embedding cache (the encoder runs on every text); *warm* = same cache again;",
        "*+map* = with the 2-D UMAP user map (its numba code is compiled on first use in every process).",
        "",
        f"Machine: {m['cpu']} · {m['cores']} cores · {m['memory'].replace('MemTotal:', '').strip()} · "
        f"Python {m['python']} · {m['os']}",
        "",
        f"Load average (1 min) when the benchmarks started: {m.get('load_average_at_start', '?')} – on a 2-core machine",
        "anything above ~0.5 means other work shared the cores and the times below are upper bounds.",
        "",
        "## Build time per stage (seconds)",
        "",
        "| data | mode | users × items · interactions | load | build | " + " | ".join(STAGES) + " |",
        "|---|---|---|---|---|" + "---|" * len(STAGES),
    ]
    for r in results["runs"]:
        if r["mode"] == "warm+eval":
            continue
        sh = r["shape"]
        stages = " | ".join(str(r["stages_s"].get(s, "–")) for s in STAGES)
        lines.append(
            f"| {r['data']} | {r['mode']} | {sh['users']} × {sh['items']} · {sh['interactions']} | {r['load_s']} | "
            f"**{r['build_s']}** | {stages} |"
        )
    lines += [
        "",
        "## Re-fusion latency (milliseconds, median of 20)",
        "",
        "New weights → fused scores → seen items masked → top-10 for every user. No level is recomputed.",
        "",
        "| data | all users | one user (list + contributions) |",
        "|---|---|---|",
    ]
    for r in results["runs"]:
        if r["mode"] == "warm":
            lines.append(f"| {r['data']} | **{r['refusion_all_users_ms']}** | {r['refusion_one_user_ms']} |")
    names = {"ml-100k": "MovieLens-100k", "ml-1m": "MovieLens-1M", "sample": "the sample data"}
    for ev in (r for r in results["runs"] if r["mode"] == "warm+eval"):
        lines += [
            "",
            f"## Held-out evaluation on {names.get(ev['data'], ev['data'])}",
            "",
            f"Split: {ev['split']['method']} per user, test fraction {ev['split']['test_frac']}, seed "
            f"{ev['split']['seed']} – {ev['split']['n_train']} train / {ev['split']['n_test']} test interactions, "
            f"{ev['split']['n_test_users']} users evaluated; full ranking over all {ev['shape']['items']} items, "
            "training items excluded. Every level, segment, category mix and keyword is fit on the training part; "
            "`auto` weights are chosen on a validation split carved from the training part only.",
            "",
            f"* auto weights (grid over the simplex, step 0.1, validation NDCG@10): {ev['auto_weights']}",
            f"* level settings chosen on validation ({ev.get('level_tuning_fits', '?')} fits, "
            f"{ev.get('level_tuning_s', '?')} s): {ev.get('tuned_params', {})}; baselines: "
            f"{ev.get('tuned_baselines', {})}",
            f"* stacking weights (logistic regression over level scores): "
            f"{ {k: round(v, 3) for k, v in ev['stacking_weights'].items()} }",
            f"* evaluating all users for one weight setting: **{ev['eval_one_weight_accuracy_ms']} ms** (accuracy "
            f"metrics @10 and @20), {ev['eval_one_weight_all_metrics_ms']} ms with every beyond-accuracy metric",
            f"* NDCG surface over the simplex (286 weight settings): {ev['weight_surface_286_points_s']} s",
            f"* evaluation context (train build + validation build + baselines): {ev['eval_context_s']} s",
            "",
        ]
        cols = ["precision@10", "recall@10", "ndcg@10", "hit_rate@10", "map@10", "mrr@10", "ndcg@20", "recall@20",
                "coverage@10", "ild_category@10", "novelty@10", "gini@10", "personalisation@10",
                "interest_coverage@10"]  # fmt: skip
        lines.append("| method | " + " | ".join(cols) + " |")
        lines.append("|---|" + "---|" * len(cols))
        for name, res in ev["results"].items():
            vals = " | ".join(f"{res.get(c, float('nan')):.4f}" for c in cols)
            lines.append(f"| {name} | {vals} |")
    lines += targets(results)
    browser = OUT.parent / "browser_latency.json"
    if browser.exists():
        b = json.loads(browser.read_text())
        lines += [
            "",
            "## Slider move in a real browser (sample data)",
            "",
            "`benchmarks/browser_latency.py`: Debian Chromium + Playwright against `streamlit run app.py` on the sample",
            f"run; the *micro* slider moved one step at a time with the keyboard, {b.get('moves', '?')} moves "
            f"{b.get('pause_s', 0.5)} s apart (every move a new weight vector, so nothing comes from the metrics memo).",
            "Times run from the key event to the first animation frame showing the change, taken in the page.",
            "*Panel done*: the browser reports the fragment's rerun finished – every element received, the three",
            "charts drawn after the numbers (contributions, metrics vs. baselines, NDCG simplex) included.",
            f"Load average (1 min) when it started: {b.get('load_average_at_start', '?')}.",
            "",
            "| key event → | median ms | min | 90th pct | max |",
            "|---|---|---|---|---|",
        ]
        for key, label in (("list_updated", "list updated"), ("metrics_updated", "held-out metric numbers updated"),
                           ("panel_done", "panel done (charts included)")):  # fmt: skip
            r = b.get(key) or {}
            if r:
                lines.append(f"| {label} | **{r['median_ms']:.0f}** | {r['min_ms']:.0f} | {r['p90_ms']:.0f} | "
                             f"{r['max_ms']:.0f} |")  # fmt: skip
        lines += [
            "",
            "Where the time went before (list 339 ms, list + metrics + charts 973 ms, median) and what changed:",
            "",
            "- Streamlit runs `gc.collect(2)` after every script and fragment run; with the model, pandas and plotly",
            "  loaded (and torch once the encoder has run) that takes 200–350 ms and holds the interpreter, so the last messages of a",
            "  move waited for it. `.streamlit/config.toml` sets `runner.postScriptGC = false` (Python's own",
            "  generational collector still runs).",
            "- The fusion fragment computes the list and the metrics first, draws them, gives the browser 50 ms to",
            "  paint, and only then builds and sends the three Plotly charts. A chart that arrives in the same batch",
            "  as the numbers held their paint back for its own layout (~100–250 ms each on this machine).",
            "- `top_n` builds its tie-breaking sort keys in place and partitions without negating (32 → 20 ms for",
            "  all sample users); the held-out metrics of a new weight vector take ~50 ms on the server.",
        ]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["--eval-only"]:  # re-measure the held-out evaluations only, keep the other runs
        results = json.loads(OUT.read_text())
        runs = [r for r in results["runs"] if r["mode"] != "warm+eval"]
        cache = tempfile.mkdtemp(prefix="mgviz-bench-")
        try:
            for data in ("ml-100k", "ml-1m"):
                run(data, cache, "--no-umap")  # warms the embedding cache, as the full run does
                runs.append({"mode": "warm+eval", **run(data, cache, "--no-umap", "--eval")})
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        results["runs"] = runs
        write(results)
        return
    results = {"machine": machine(), "runs": []}
    for data in ("sample", "ml-100k", "ml-1m"):
        cache = tempfile.mkdtemp(prefix="mgviz-bench-")
        try:
            results["runs"].append({"mode": "cold", **run(data, cache, "--no-umap")})
            results["runs"].append({"mode": "warm", **run(data, cache, "--no-umap")})
            if data != "ml-1m":  # the map is measured on the smaller sets
                results["runs"].append({"mode": "warm+map", **run(data, cache)})
            if data in ("ml-100k", "ml-1m"):
                results["runs"].append({"mode": "warm+eval", **run(data, cache, "--no-umap", "--eval")})
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    write(results)


def write(results: dict) -> None:
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1))
    doc = OUT.parent / "benchmarks.md"
    old = doc.read_text(encoding="utf-8") if doc.exists() else ""
    kept = ""  # sections other scripts measure (scale, bench_mmr, stability, drift, encoders) stay as they were
    for name in ("scale", "mmr", "stability", "drift", "encoders"):
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start in old and end in old:
            head = old[: old.index(start)].rsplit("\n## ", 1)[-1].split("\n", 1)[0]
            kept += f"\n## {head}\n\n" + old[old.index(start) : old.index(end) + len(end)] + "\n"
    doc.write_text(render(results) + kept, encoding="utf-8")
    for r in results["runs"]:
        print(r["data"], r["mode"], "build", r["build_s"], "s; refusion", r["refusion_all_users_ms"], "ms")
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
