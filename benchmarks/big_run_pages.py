"""Open every page of the app on a (big) run in a real browser and time it; then move a slider.

Starts ``streamlit run app.py`` showing ``--run`` (e.g. the 10M-interaction run that
``benchmarks/scale.py --keep`` leaves), opens each page in a fresh tab in Debian Chromium
(Playwright) and records the time from navigation until the app is idle with the page's
heading shown, and that no exception or error box appeared. The first page load also counts
the server loading the run. Then ``benchmarks/browser_latency.py`` moves the micro slider on
the same run (list latency; the held-out panel is not waited for).

Usage: python benchmarks/big_run_pages.py --run DIR [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from browserkit import CHROMIUM, CHROMIUM_ARGS, IDLE, free_port, start_streamlit, stop  # noqa: E402

PAGES = {"": "Data", "macro": "Macro", "meso": "Meso", "micro": "Micro", "recommendations": "Recommendations",
         "export": "Export"}  # fmt: skip


def open_pages(url: str) -> dict:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path, heading in PAGES.items():
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t = time.perf_counter()
            page.goto(f"{url}/{path}")
            page.get_by_role("heading", name=heading).first.wait_for(timeout=300_000)
            page.wait_for_selector(IDLE, timeout=300_000)
            seconds = time.perf_counter() - t
            problems = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count()
            out[path or "data"] = {"seconds": round(seconds, 1), "errors": problems}
            print(f"{path or 'data'}: {seconds:.1f} s, {problems} error boxes", file=sys.stderr, flush=True)
            page.close()
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    port = free_port()
    log = open(Path(tempfile.gettempdir()) / "mgviz-big-run-server.log", "w")  # noqa: SIM115
    t = time.perf_counter()
    proc = start_streamlit(Path(args.run), port, log, timeout_s=300)
    result = {"server_start_s": round(time.perf_counter() - t, 1)}
    try:
        result["pages"] = open_pages(f"http://127.0.0.1:{port}")
    finally:
        stop(proc)
    import browser_latency

    result["slider"] = browser_latency.main(["--run", args.run, "--moves", str(args.moves), "--no-wait-eval"])
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
