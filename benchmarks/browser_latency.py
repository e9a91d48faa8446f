"""Slider move → list updated, measured in a real browser (Debian Chromium + Playwright).

Starts ``streamlit run app.py`` on a free port (the sample run unless ``--run``
says otherwise), opens the Recommendations page, waits until the background
held-out evaluation is done (so every move also recomputes the metrics panel,
as an analyst sees it; ``--no-wait-eval`` skips that), then moves the *micro*
weight slider one step (0.05) at a time with the keyboard, ``--moves`` times –
every move is a new weight vector, so nothing is served from the metrics memo –
and records

* **list updated** – key press until the recommendation table shows the new list;
* **panel done** – key press until the fragment's rerun has finished (list, charts, metrics).

Prints the median (and spread) of both; ``--json`` prints them as JSON too.

Usage::

    .venv/bin/python benchmarks/browser_latency.py [--moves 10] [--run runs/sample] [--no-wait-eval]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
TABLE = "[data-testid='stTable']"
THUMB = ".st-key-w-weight-micro input[type=range]"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(run_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "MGVIZ_RUN": str(run_dir), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless",
           "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    url = f"http://127.0.0.1:{port}/_stcore/health"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited early; see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"streamlit did not become healthy; see {log_path}")


def table_text(page) -> str:
    return page.locator(TABLE).first.inner_text()


def wait_for_evaluation(page, timeout_s: float) -> bool:
    """Wait until the metrics panel shows (the page reruns itself when the evaluation is done)."""
    deadline = time.time() + timeout_s
    metrics = page.locator("[data-testid='stMetric']")
    while time.time() < deadline:
        if metrics.count() >= 5:
            page.wait_for_selector(IDLE)
            return True
        if page.get_by_text("Held-out metrics are not available").count():
            return False
        time.sleep(2)
    return False


def one_move(page, key: str) -> tuple[float, float]:
    """Press ``key`` on the micro slider; return (list updated, panel done) in milliseconds."""
    before = table_text(page)
    thumb = page.locator(THUMB)
    thumb.focus()
    t0 = time.perf_counter()
    thumb.press(key)
    page.wait_for_function(
        "([sel, before]) => { const t = document.querySelector(sel); return t && t.innerText !== before; }",
        arg=[TABLE, before], polling="raf", timeout=120_000,
    )  # fmt: skip
    t_list = time.perf_counter()
    page.wait_for_selector(IDLE, timeout=120_000)
    t_done = time.perf_counter()
    return (t_list - t0) * 1000, (t_done - t0) * 1000


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(values), 1),
        "min_ms": round(ordered[0], 1),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "sample", help="run directory to open")
    parser.add_argument("--moves", type=int, default=10, help="slider moves to time (default 10)")
    parser.add_argument("--no-wait-eval", action="store_true", help="do not wait for the held-out metrics")
    parser.add_argument("--eval-timeout", type=float, default=1800, help="seconds to wait for the evaluation")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args(argv)
    if not (args.run / "manifest.json").exists():
        raise SystemExit(f"{args.run} is not a run (make sample-run builds the sample)")
    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian chromium is missing (make chromium)")
    from playwright.sync_api import sync_playwright

    log_path = Path(tempfile.mkdtemp(prefix="mgviz-bench-")) / "streamlit.log"
    port = free_port()
    proc = start_server(args.run, port, log_path)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{port}/recommendations")
            page.wait_for_selector(TABLE)
            page.wait_for_selector(IDLE)
            with_metrics = False if args.no_wait_eval else wait_for_evaluation(page, args.eval_timeout)
            one_move(page, "End")  # warm-up (micro 0.55 -> 1.0): first plot layouts, first metrics
            lists, dones = [], []
            for _ in range(args.moves):
                t_list, t_done = one_move(page, "ArrowLeft")  # 1.00, 0.95, 0.90, ... all new weights
                lists.append(t_list)
                dones.append(t_done)
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    result = {
        "run": str(args.run),
        "moves": args.moves,
        "metrics_panel_active": with_metrics,
        "list_updated": summary(lists),
        "panel_done": summary(dones),
    }
    print(f"slider move -> list updated: median {result['list_updated']['median_ms']:.0f} ms "
          f"(min {result['list_updated']['min_ms']:.0f}, p90 {result['list_updated']['p90_ms']:.0f}, "
          f"max {result['list_updated']['max_ms']:.0f}) over {args.moves} moves")  # fmt: skip
    print(f"slider move -> panel done:   median {result['panel_done']['median_ms']:.0f} ms "
          f"(min {result['panel_done']['min_ms']:.0f}, p90 {result['panel_done']['p90_ms']:.0f}, "
          f"max {result['panel_done']['max_ms']:.0f}); metrics panel active: {with_metrics}")  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
