"""Slider move → list updated, measured in a real browser (Debian Chromium + Playwright).

Starts ``streamlit run app.py`` on a free port (the sample run unless ``--run``
says otherwise), opens the Recommendations page, waits until the background
held-out evaluation is done (so every move also recomputes the metrics panel,
as an analyst sees it; ``--no-wait-eval`` skips that), then moves the *micro*
weight slider one step (0.05) at a time with the keyboard, ``--moves`` times –
every move is a new weight vector, so nothing is served from the metrics memo –
and records

* **list updated** – key event until the first animation frame that shows the new list;
* **metrics updated** – key event until the first frame that shows the held-out metric numbers
  for the new weights (the caption under them names the weights; it is drawn after the numbers);
* **panel done** – key event until the app is idle again: every element of the fragment's
  rerun, the three charts after the numbers included, has been received and rendered.

The times are taken inside the page (the key event's own timestamp, ``requestAnimationFrame``
and a ``MutationObserver`` on the app's run state), so Playwright's round trips do not count.

Prints the median (and spread) of each; ``--json`` prints them as JSON too.

Usage::

    .venv/bin/python benchmarks/browser_latency.py [--moves 10] [--run runs/sample] [--no-wait-eval]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browserkit import CHROMIUM, CHROMIUM_ARGS, IDLE, free_port, start_streamlit, stop  # noqa: E402

TABLE = "[data-testid='stTable']"
METRICS_FOR = ".st-key-recs-metrics-for"
THUMB = ".st-key-w-weight-micro input[type=range]"


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


#: Installed before each key press: timestamps, in the page's own clock, of the key event, of the first
#: animation frame showing the new list / the new metrics caption, and of the app going idle again.
WATCH = """([table, metrics]) => {
  const text = (sel) => { const e = document.querySelector(sel); return e ? e.innerText : null; };
  const app = document.querySelector("[data-testid='stApp']");
  const w = { before: { list: text(table), metrics: text(metrics) }, t: {}, running: false };
  window.__mgvizMove = w;
  document.addEventListener("keydown", (e) => { w.t.key = e.timeStamp; }, { capture: true, once: true });
  const state = new MutationObserver(() => {
    const s = app.getAttribute("data-test-script-state");
    if (s === "running") w.running = true;
    else if (w.running && s === "notRunning" && w.t.done === undefined) { w.t.done = performance.now(); state.disconnect(); }
  });
  state.observe(app, { attributes: true, attributeFilter: ["data-test-script-state"] });
  const frame = () => {
    const now = performance.now();
    if (w.t.list === undefined && text(table) !== w.before.list) w.t.list = now;
    if (w.t.metrics === undefined && w.before.metrics !== null && text(metrics) !== w.before.metrics) w.t.metrics = now;
    if (w.t.list === undefined || (w.before.metrics !== null && w.t.metrics === undefined)) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}"""
MOVE_DONE = (
    "() => { const w = window.__mgvizMove; return w.t.key !== undefined && w.t.list !== undefined && "
    "(w.before.metrics === null || w.t.metrics !== undefined) && w.t.done !== undefined; }"
)


def one_move(page, key: str, with_metrics: bool) -> tuple[float, float | None, float]:
    """Press ``key`` on the micro slider; return (list, metrics, panel done) in ms after the key event."""
    thumb = page.locator(THUMB)
    thumb.focus()
    page.evaluate(WATCH, [TABLE, METRICS_FOR if with_metrics else "#no-metrics"])
    thumb.press(key)
    page.wait_for_function(MOVE_DONE, polling=50, timeout=120_000)
    t = page.evaluate("() => window.__mgvizMove.t")
    return t["list"] - t["key"], (t["metrics"] - t["key"]) if with_metrics else None, t["done"] - t["key"]


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(values), 1),
        "min_ms": round(ordered[0], 1),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def measure(url: str, args) -> tuple[list[float], list[float], list[float], bool]:
    """The timed moves in one Chromium page: (list, metrics, panel done) in ms, and whether metrics showed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(f"{url}/recommendations")
        page.wait_for_selector(TABLE)
        page.wait_for_selector(IDLE)
        with_metrics = False if args.no_wait_eval else wait_for_evaluation(page, args.eval_timeout)
        one_move(page, "End", with_metrics)  # warm-up (micro -> 1.0): first plot layouts, first metrics
        lists, metrics, dones = [], [], []
        for _ in range(args.moves):
            page.wait_for_timeout(args.pause * 1000)  # the analyst looks before the next move
            t_list, t_metrics, t_done = one_move(page, "ArrowLeft", with_metrics)  # 1.00, 0.95, ... all new
            lists.append(t_list)
            dones.append(t_done)
            if t_metrics is not None:
                metrics.append(t_metrics)
        browser.close()
    return lists, metrics, dones, with_metrics


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "sample", help="run directory to open")
    parser.add_argument("--moves", type=int, default=10, help="slider moves to time (default 10)")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.5,
        help="seconds between a move's panel being done and the next move (default 0.5)",
    )
    parser.add_argument("--no-wait-eval", action="store_true", help="do not wait for the held-out metrics")
    parser.add_argument("--eval-timeout", type=float, default=1800, help="seconds to wait for the evaluation")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args(argv)
    load_at_start = round(os.getloadavg()[0], 2)
    if not (args.run / "manifest.json").exists():
        raise SystemExit(f"{args.run} is not a run (make sample-run builds the sample)")
    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian chromium is missing (make chromium)")
    log_path = Path(tempfile.mkdtemp(prefix="mgviz-bench-")) / "streamlit.log"
    with open(log_path, "w") as log:
        port = free_port()
        proc = start_streamlit(args.run, port, log)
        try:
            lists, metrics, dones, with_metrics = measure(f"http://127.0.0.1:{port}", args)
        finally:
            stop(proc)
    result = {
        "run": str(args.run),
        "moves": args.moves,
        "pause_s": args.pause,
        "load_average_at_start": load_at_start,
        "metrics_panel_active": with_metrics,
        "list_updated": summary(lists),
        "metrics_updated": summary(metrics) if metrics else None,
        "panel_done": summary(dones),
    }
    print(f"slider move -> list updated: median {result['list_updated']['median_ms']:.0f} ms "
          f"(min {result['list_updated']['min_ms']:.0f}, p90 {result['list_updated']['p90_ms']:.0f}, "
          f"max {result['list_updated']['max_ms']:.0f}) over {args.moves} moves")  # fmt: skip
    if metrics:
        m = result["metrics_updated"]
        print(f"slider move -> metrics updated: median {m['median_ms']:.0f} ms (min {m['min_ms']:.0f}, "
              f"p90 {m['p90_ms']:.0f}, max {m['max_ms']:.0f})")  # fmt: skip
    print(f"slider move -> panel done:   median {result['panel_done']['median_ms']:.0f} ms "
          f"(min {result['panel_done']['min_ms']:.0f}, p90 {result['panel_done']['p90_ms']:.0f}, "
          f"max {result['panel_done']['max_ms']:.0f}); metrics panel active: {with_metrics}")  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
