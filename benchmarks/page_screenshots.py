"""Screenshots of app pages on any run, for the README (e.g. the Macro page on MovieLens-1M).

Starts ``streamlit run app.py`` on ``--run``, opens each ``--page`` in Debian Chromium (Playwright), waits
until the app is idle and its charts are laid out, fails when an exception or error box shows, and saves a
full-length screenshot (and, with ``--cards``, one of the Macro page's segment cards alone).

Usage: python benchmarks/page_screenshots.py --run DIR --page macro [--page meso …] --out docs/screenshots
       --prefix ml1m [--cards]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browserkit import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    idle,
    prepare_context,
    settle,
    start_streamlit,
    stop,
)

WIDTH, HEIGHT = 1500, 1000
HEADINGS = {"macro": "Macro · user segments", "meso": "Meso · categories", "micro": "Micro · users",
            "recommendations": "Recommendations", "data": "Data"}  # fmt: skip
MIN_CHARTS = {"macro": 3, "meso": 4, "micro": 3, "recommendations": 1, "data": 1}
PROBLEMS = "[data-testid='stException'], [data-testid='stAlertContentError']"


def shoot(url: str, pages: list[str], out: Path, prefix: str, cards: bool) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in pages:
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            prepare_context(context)
            page = context.new_page()
            page.goto(f"{url}/{'' if name == 'data' else name}", timeout=600_000)
            page.get_by_role("heading", name=HEADINGS[name]).first.wait_for(timeout=600_000)
            idle(page)
            page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {MIN_CHARTS[name]}", timeout=600_000
            )
            settle(page)
            if page.locator(PROBLEMS).count():
                raise SystemExit(f"{name}: the page shows an error: {page.locator(PROBLEMS).first.inner_text()}")
            height = page.evaluate(
                "() => Math.max(...['[data-testid=stMain]', '[data-testid=stAppViewContainer]', "
                "'[data-testid=stMainBlockContainer]'].map(s => document.querySelector(s)?.scrollHeight || 0))"
            )
            page.set_viewport_size({"width": WIDTH, "height": int(min(max(height + 40, HEIGHT), 8000))})
            settle(page)
            path = out / f"{name}-{prefix}.png"
            page.screenshot(path=str(path), full_page=True)
            saved.append(path)
            if cards and name == "macro":
                first = page.get_by_text("Why this label:").first
                first.wait_for()
                box = page.locator("[data-testid=stMainBlockContainer]").bounding_box()
                top = first.bounding_box()["y"] - 160
                path = out / f"{name}-{prefix}-cards.png"
                page.screenshot(path=str(path), clip={"x": box["x"], "y": max(top, 0), "width": box["width"],
                                                      "height": min(1100, box["y"] + box["height"] - top)})  # fmt: skip
                saved.append(path)
            context.close()
        browser.close()
    return saved


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--page", action="append", choices=sorted(HEADINGS), required=True)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--prefix", required=True, help="the run's short name, in the file names")
    parser.add_argument("--cards", action="store_true", help="also a screenshot of the Macro page's cards")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = open(Path(tempfile.gettempdir()) / "mgviz-screenshots-server.log", "w")  # noqa: SIM115
    port = free_port()
    proc = start_streamlit(Path(args.run), port, log, timeout_s=600)
    try:
        for path in shoot(f"http://127.0.0.1:{port}", args.page, out, args.prefix, args.cards):
            print(path)
    finally:
        stop(proc)
        log.close()


if __name__ == "__main__":
    main()
