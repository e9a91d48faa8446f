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


STAGES = ("encode items", "encode users", "categories", "cold start", "ALS", "keywords", "segments", "K quality", "UMAP",
          "level scores")  # fmt: skip


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
    browser = OUT.parent / "browser_latency.json"
    if browser.exists():
        b = json.loads(browser.read_text())
        add("browser: slider move → list updated", round(b["list_updated"]["median_ms"]), 300, "ms")
        add("browser: slider move → list and metrics updated", round(b["panel_done"]["median_ms"]), 300, "ms")
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
    ev = next((r for r in results["runs"] if r["mode"] == "warm+eval"), None)
    if ev:
        lines += [
            "",
            "## Held-out evaluation on MovieLens-100k",
            "",
            f"Split: {ev['split']['method']} per user, test fraction {ev['split']['test_frac']}, seed "
            f"{ev['split']['seed']} – {ev['split']['n_train']} train / {ev['split']['n_test']} test interactions, "
            f"{ev['split']['n_test_users']} users evaluated; full ranking over all {ev['shape']['items']} items, "
            "training items excluded. Every level, segment, category mix and keyword is fit on the training part; "
            "`auto` weights are chosen on a validation split carved from the training part only.",
            "",
            f"* auto weights (grid over the simplex, step 0.1, validation NDCG@10): {ev['auto_weights']}",
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
            "run; the *micro* slider moved one step at a time (every move a new weight vector, nothing memoised).",
            "",
            "| measured | median ms | min | max |",
            "|---|---|---|---|",
        ]
        for key, label in (("list_updated", "key press → list updated"), ("panel_done", "key press → list, charts and "
                           "held-out metrics all updated")):  # fmt: skip
            r = b.get(key, {})
            lines.append(f"| {label} | **{r.get('median_ms', float('nan')):.0f}** | {r.get('min_ms', float('nan')):.0f} | "
                         f"{r.get('max_ms', float('nan')):.0f} |")  # fmt: skip
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    results = {"machine": machine(), "runs": []}
    for data in ("sample", "ml-100k"):
        cache = tempfile.mkdtemp(prefix="mgviz-bench-")
        try:
            results["runs"].append({"mode": "cold", **run(data, cache, "--no-umap")})
            results["runs"].append({"mode": "warm", **run(data, cache, "--no-umap")})
            results["runs"].append({"mode": "warm+map", **run(data, cache)})
            if data == "ml-100k":
                results["runs"].append({"mode": "warm+eval", **run(data, cache, "--no-umap", "--eval")})
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1))
    (OUT.parent / "benchmarks.md").write_text(render(results))
    for r in results["runs"]:
        print(r["data"], r["mode"], "build", r["build_s"], "s; refusion", r["refusion_all_users_ms"], "ms")
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
