"""Three analysts on one server: slider latency per session and a build under load (Chromium + Playwright).

Starts ``streamlit run app.py`` on a free port of 127.0.0.1 (the sample run, an empty
embedding cache) and drives it with async Playwright (one Debian Chromium, one browser
context = one Streamlit session per analyst):

0. **baselines** (a temporary fourth session, nobody else busy): the sample's held-out
   evaluation is opened; a warm-up upload + build loads the text encoder; a second upload +
   build of new data is timed ("build alone"); each build's background evaluation is waited for;
1. **alone** – S1 opens Recommendations and moves a fusion slider ``--moves`` times (S2, S3 idle);
2. **three sessions** – S1, S2 and S3 each move a slider ``--moves`` times at the same time;
3. **during a build** – S3 goes to the Data page, uploads a small dataset and builds it (timed:
   click → "Model built"); from the click on, S1 and S2 move their sliders ``--moves`` times;
   then S3 moves a slider on its new model (its evaluation is still running) and waits for that
   evaluation ("evaluation under load").

A move is one key press on a focused slider thumb (one 0.05 step, a weight vector no session
used before, so the shared metrics memo never answers it); it is timed as
**list updated** = key press → the recommendation table's text changed (polled every animation
frame) and **panel done** = key press → the page's script run finished (list, charts, metrics).
Every wait has a timeout; the whole run is bounded by ``--deadline``. Exceptions
(``[data-testid='stException']``), error boxes, page errors, console errors and server-log
tracebacks are collected per session.

Usage::

    .venv/bin/python benchmarks/load_sessions.py [--moves 10] [--think 0.25] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

from browser_latency import TABLE  # noqa: E402
from browserkit import CHROMIUM, CHROMIUM_ARGS, IDLE, free_port, marked_files, start_streamlit, stop  # noqa: E402
from playwright.async_api import TimeoutError as PlaywrightTimeout  # noqa: E402

EXCEPTION = "[data-testid='stException']"
ERROR_BOX = "[data-testid='stAlertContentError']"
METRIC = "[data-testid='stMetric']"
NAV = "[data-testid='stSidebarNav']"
WAIT_MS = 120_000
LOST_AFTER_MS = 30_000  #: a move whose list has not changed after this long counts as lost
VIEWPORT = {"width": 1500, "height": 1000}
LIST_CHANGED = "([sel, before]) => { const t = document.querySelector(sel); return t && t.innerText !== before; }"
#: (slider, key) per session and phase: every move is a weight vector no session visited before
PLANS = {
    ("S1", "alone"): ("meso", "ArrowRight"),  # meso 0.10 -> 0.60
    ("S1", "three sessions"): ("semantic", "ArrowRight"),  # semantic 0.10 -> 0.60 (meso at 0.60)
    ("S2", "three sessions"): ("macro", "ArrowRight"),  # macro 0.40 -> 0.90
    ("S3", "three sessions"): ("micro", "ArrowRight"),  # micro 0.40 -> 0.90
    ("S1", "during a build"): ("macro", "ArrowRight"),  # macro 0.40 -> 0.90 (meso, semantic at 0.60)
    ("S2", "during a build"): ("semantic", "ArrowRight"),  # semantic 0.10 -> 0.60 (macro at 0.90)
    ("S3", "own model"): ("micro", "ArrowRight"),  # on S3's freshly built model
}


# ----------------------------------------------------------------------------------------------- statistics
def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    p95 = statistics.quantiles(ordered, n=20, method="inclusive")[18] if len(ordered) > 1 else ordered[0]
    return {"n": len(values), "median_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1),
            "min_ms": round(ordered[0], 1), "max_ms": round(ordered[-1], 1)}  # fmt: skip


# ----------------------------------------------------------------------------------------------- a session
class Session:
    """One browser context (one Streamlit session) and what it saw."""

    def __init__(self, name: str, context, page, url: str, folder: Path):
        self.name, self.context, self.page, self.url, self.folder = name, context, page, url, folder
        self.moves: list[dict] = []
        self.metrics_seen_at: float | None = None  # when a move first found the metrics panel
        self.exceptions: list[str] = []
        self.error_boxes: list[str] = []
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        self.blocked: list[str] = []  # requests to anything but the server (aborted)
        self.not_found: list[str] = []
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)[:300]))
        page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text[:300]))
        page.on("response", lambda resp: resp.status >= 400 and self.not_found.append(f"{resp.status} {resp.url}"))

    @classmethod
    async def open(cls, browser, name: str, url: str, folder: Path) -> Session:
        context = await browser.new_context(viewport=VIEWPORT)
        page = await context.new_page()
        page.set_default_timeout(WAIT_MS)
        session = cls(name, context, page, url, folder)

        async def only_the_server(route) -> None:  # the browser talks to 127.0.0.1 only
            if route.request.url.startswith(f"{url}/") or route.request.url == url:
                await route.continue_()
            else:
                session.blocked.append(route.request.url[:200])
                await route.abort()

        await context.route("**/*", only_the_server)
        return session

    async def idle(self) -> None:
        await self.page.wait_for_selector(IDLE, timeout=WAIT_MS)

    async def check(self) -> None:
        """Record exception elements and error boxes now on the page."""
        for selector, found in ((EXCEPTION, self.exceptions), (ERROR_BOX, self.error_boxes)):
            boxes = self.page.locator(selector)
            for i in range(await boxes.count()):
                text = (await boxes.nth(i).inner_text(timeout=10_000))[:300]
                if text not in found:
                    found.append(text)

    async def goto_recommendations(self) -> None:
        await self.page.goto(f"{self.url}/recommendations", timeout=WAIT_MS)
        await self.page.locator(TABLE).first.wait_for(timeout=WAIT_MS)
        await self.idle()

    async def nav(self, label: str, heading: str) -> None:
        """Another page of the same session (sidebar navigation)."""
        await self.page.locator(NAV).get_by_text(label, exact=True).click()
        await self.page.get_by_role("heading", name=heading).first.wait_for(timeout=WAIT_MS)
        await self.idle()

    async def wait_for_evaluation(self, timeout_s: float) -> float | None:
        """Seconds until the metrics panel shows on Recommendations (None: not within ``timeout_s``)."""
        started = time.perf_counter()
        metrics = self.page.locator(METRIC)
        while time.perf_counter() - started < timeout_s:
            if await metrics.count() >= 5:
                await self.idle()
                return time.perf_counter() - started
            if await self.page.get_by_text("Held-out metrics are not available").count():
                return None
            await asyncio.sleep(1)
        return None

    async def move(self, slider: str, key: str, phase: str, build: dict) -> dict:
        """One key press on ``slider``; (list updated, panel done) in milliseconds."""
        page = self.page
        thumb = page.locator(f".st-key-w-weight-{slider} input[type=range]")
        before = await page.locator(TABLE).first.inner_text()
        await thumb.focus()
        t0 = time.perf_counter()
        await thumb.press(key)
        during = build.get("started") is not None and build["started"] <= t0 and build.get("done", 1e18) > t0
        record = {"phase": phase, "slider": slider, "at": time.strftime("%H:%M:%S"), "during_build": during}
        try:
            await page.wait_for_function(LIST_CHANGED, arg=[TABLE, before], polling="raf", timeout=LOST_AFTER_MS)
        except PlaywrightTimeout:  # the move never reached the list: record it, take a picture, go on
            shown = await page.locator(f".st-key-w-weight-{slider} [data-testid='stSliderThumbValue']").inner_text()
            shot = self.folder / f"lost-{self.name}-{len(self.moves)}.png"
            await page.screenshot(path=str(shot), full_page=True)
            record.update(lost=True, slider_shows=shown, screenshot=str(shot))
            self.moves.append(record)
            await self.idle()
            return record
        t_list = time.perf_counter()
        await self.idle()
        t_done = time.perf_counter()
        if self.metrics_seen_at is None and await page.locator(METRIC).count() >= 5:
            self.metrics_seen_at = t_done
        record.update(list_ms=round((t_list - t0) * 1000, 1), done_ms=round((t_done - t0) * 1000, 1))
        self.moves.append(record)
        return record

    async def moves_for(self, phase: str, n: int, think: float, build: dict, start: asyncio.Event | None = None):
        slider, key = PLANS[(self.name, phase)]
        if start is not None:
            await asyncio.wait_for(start.wait(), timeout=WAIT_MS / 1000)
        for _ in range(n):
            await self.move(slider, key, phase, build)
            await self.check()
            await asyncio.sleep(think)

    async def upload_and_build(self, files: dict[str, Path], build: dict, started: asyncio.Event | None = None):
        """Data page → upload the two files → build with small settings; fills ``build`` with timings."""
        page = self.page
        await self.nav("Data", "Data")
        await page.locator(".st-key-w-data-source").get_by_text("Upload files", exact=True).click()
        dropzones = page.locator("[data-testid='stFileUploaderDropzoneInput']")
        await dropzones.first.wait_for(state="attached", timeout=WAIT_MS)
        await dropzones.nth(0).set_input_files(str(files["interactions"]))
        await page.get_by_text(f"uploaded files ({files['interactions'].name})").first.wait_for(timeout=WAIT_MS)
        await self.idle()
        await dropzones.nth(1).set_input_files(str(files["items"]))
        names = f"uploaded files ({files['interactions'].name}, {files['items'].name})"
        await page.get_by_text(names).first.wait_for(timeout=WAIT_MS)
        await self.idle()
        await self.check()
        await page.locator("[data-testid='stExpander'] summary").filter(has_text="Levels").click()  # ALS settings
        for key, value in (("build-k", "3"), ("build-iterations", "5")):
            field = page.locator(f".st-key-{key} input")
            await field.fill(value)
            await field.press("Tab")
        if await page.locator(".st-key-build-umap input[type=checkbox]").is_checked():
            await page.locator(".st-key-build-umap label").click()
        await page.get_by_role("button", name="Build model").click()
        build["started"] = time.perf_counter()
        if started is not None:
            started.set()
        built, failed = page.get_by_text("Model built in"), page.get_by_text("The build failed")
        deadline = build["started"] + 900
        while not await built.count():
            if await failed.count() or time.perf_counter() > deadline:
                build["done"] = time.perf_counter()
                await self.check()
                raise RuntimeError(f"{self.name}: the build failed or timed out: {self.error_boxes}")
            await asyncio.sleep(0.1)
        build["done"] = time.perf_counter()
        build["seconds"] = round(build["done"] - build["started"], 1)
        status = await page.get_by_text(re.compile(r"Model built in \d+ s")).first.inner_text()
        build["app_seconds"] = int(re.search(r"(\d+) s", status).group(1))
        await self.idle()
        await self.check()

    def summary(self) -> dict:
        phases: dict[str, list[dict]] = {}
        for move in self.moves:
            phases.setdefault(move["phase"], []).append(move)
        return {
            "phases": {
                phase: {
                    "list_updated": stats([m["list_ms"] for m in ms if "list_ms" in m]),
                    "panel_done": stats([m["done_ms"] for m in ms if "done_ms" in m]),
                    "lost_moves": sum(bool(m.get("lost")) for m in ms),
                    "moves_during_build": sum(m["during_build"] for m in ms),
                }
                for phase, ms in phases.items()
            },
            "exceptions": self.exceptions,
            "error_boxes": self.error_boxes,
            "page_errors": self.page_errors,
            "console_errors": self.console_errors,
            "blocked_requests": sorted(set(self.blocked)),
            "http_errors": sorted(set(self.not_found)),
            "moves": self.moves,
        }


# ----------------------------------------------------------------------------------------------- the flow
async def baselines(browser, url: str, folder: Path, eval_timeout: float) -> dict:
    """A temporary session: the sample's evaluation, a warm-up build, a build alone (+ their evaluations)."""
    out: dict = {}
    for step, marker, seed in (("warm-up build", "WARMUP", 7), ("build alone", "SOLO", 8)):
        temp = await Session.open(browser, "B0", url, folder)
        try:
            await temp.goto_recommendations()
            if "sample evaluation ready_s" not in out:
                ready = await temp.wait_for_evaluation(eval_timeout)
                out["sample evaluation ready_s"] = None if ready is None else round(ready, 1)
            build: dict = {}
            await temp.upload_and_build(marked_files(marker, seed, folder), build)
            await temp.nav("Recommendations", "Recommendations")
            ready = await temp.wait_for_evaluation(eval_timeout)
            after = None if ready is None else round(time.perf_counter() - build["done"], 1)
            out[step] = {"seconds": build["seconds"], "app_seconds": build["app_seconds"],
                         "evaluation_after_build_s": after}  # fmt: skip
            await temp.check()
            out[step]["exceptions"], out[step]["error_boxes"] = temp.exceptions, temp.error_boxes
        finally:
            await temp.context.close()
    return out


async def scenario(args, url: str, folder: Path) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            result: dict = {"baselines": await baselines(browser, url, folder, args.eval_timeout)}
            sessions = {name: await Session.open(browser, name, url, folder) for name in ("S1", "S2", "S3")}
            s1, s2, s3 = sessions.values()
            await asyncio.gather(*(s.goto_recommendations() for s in sessions.values()))
            ready = await asyncio.gather(*(s.wait_for_evaluation(args.eval_timeout) for s in sessions.values()))
            result["metrics_panel_active"] = all(r is not None for r in ready)
            none: dict = {}

            await s1.moves_for("alone", args.moves, args.think, none)
            await asyncio.gather(*(s.moves_for("three sessions", args.moves, args.think, none) for s in (s1, s2, s3)))

            build: dict = {}
            clicked = asyncio.Event()

            async def builder() -> None:
                await s3.upload_and_build(marked_files("LOADED", 9, folder), build, clicked)
                s3.metrics_seen_at = None  # from now on: the new model's metrics
                await s3.nav("Recommendations", "Recommendations")
                await s3.moves_for("own model", args.moves, args.think, build)
                ready = await s3.wait_for_evaluation(args.eval_timeout)  # it may have finished during the moves
                after = s3.metrics_seen_at if s3.metrics_seen_at is not None else time.perf_counter()
                build["evaluation_after_build_s"] = None if ready is None else round(after - build["done"], 1)

            await asyncio.gather(
                builder(),
                s1.moves_for("during a build", args.moves, args.think, build, clicked),
                s2.moves_for("during a build", args.moves, args.think, build, clicked),
            )
            for s in sessions.values():
                await s.check()
            result["build under load"] = {"seconds": build["seconds"], "app_seconds": build["app_seconds"],
                                          "evaluation_after_build_s": build.get("evaluation_after_build_s")}  # fmt: skip
            result["sessions"] = {name: s.summary() for name, s in sessions.items()}
            for s in sessions.values():
                await s.context.close()
        finally:
            await browser.close()
    return result


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "")  # fmt: skip
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": platform.platform(),
            "python": platform.python_version(), "streamlit": importlib.metadata.version("streamlit"),
            "playwright": importlib.metadata.version("playwright"), "chromium": chromium}  # fmt: skip


def _cell(st: dict) -> str:
    return f"{st['median_ms']:.0f} / {st['p95_ms']:.0f}" if st["n"] else "–"


def markdown(result: dict) -> str:
    lines = ["| Session | Phase | Moves | List updated median / p95 (ms) | Panel done median / p95 (ms) | "
             "Lost moves | Moves during the build |", "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, s in result["sessions"].items():
        for phase, ph in s["phases"].items():
            lu, pd_ = ph["list_updated"], ph["panel_done"]
            lines.append(f"| {name} | {phase} | {lu['n'] + ph['lost_moves']} | {_cell(lu)} | {_cell(pd_)} | "
                         f"{ph['lost_moves']} | {ph['moves_during_build']} |")  # fmt: skip
    lines += ["", "| Build (90 users, 60 items, 1,260 interactions; K=3, 5 ALS iterations, no UMAP) | Click → "
              "\"Model built\" (s) | App's own timer (s) | Its evaluation ready after (s) |", "|---|---:|---:|---:|"]  # fmt: skip
    rows = [(k, v) for k, v in result["baselines"].items() if isinstance(v, dict)]
    rows.append(("build under load (S1, S2 moving sliders)", result["build under load"]))
    for name, b in rows:
        lines.append(f"| {name} | {b['seconds']:.1f} | {b['app_seconds']} | {b['evaluation_after_build_s']} |")
    lines += ["", "| Session | Exceptions | Error boxes | Page errors | Console errors | HTTP errors | Blocked requests |",
              "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, s in result["sessions"].items():
        lines.append(f"| {name} | {len(s['exceptions'])} | {len(s['error_boxes'])} | {len(s['page_errors'])} | "
                     f"{len(s['console_errors'])} | {len(s['http_errors'])} | {len(s['blocked_requests'])} |")  # fmt: skip
    lines.append(f"\nServer log tracebacks: {result['server_tracebacks']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "sample", help="run directory to open")
    parser.add_argument("--moves", type=int, default=10, help="slider moves per session and phase (default 10)")
    parser.add_argument("--think", type=float, default=0.25, help="pause between a session's moves, s")
    parser.add_argument("--eval-timeout", type=float, default=600, help="seconds to wait for an evaluation")
    parser.add_argument("--deadline", type=float, default=2400, help="seconds the whole benchmark may take")
    parser.add_argument("--json-out", type=Path, help="also write the JSON summary here")
    args = parser.parse_args(argv)
    if not (args.run / "manifest.json").exists():
        raise SystemExit(f"{args.run} is not a run (make sample-run builds the sample)")
    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian chromium is missing (make chromium)")
    if args.moves > 10:
        raise SystemExit("--moves is at most 10 (the slider plans stay inside 0..1)")
    folder = Path(tempfile.mkdtemp(prefix="mgviz-load-"))
    os.environ["MGVIZ_CACHE"] = str(folder / "cache")  # an empty embedding cache: uploads are encoded for real
    os.environ["STREAMLIT_SERVER_ADDRESS"] = "127.0.0.1"  # the server listens on the loopback only
    log_path = folder / "streamlit.log"
    port = free_port()
    started = time.perf_counter()
    with open(log_path, "w") as log:
        proc = start_streamlit(args.run, port, log)
        try:
            result = asyncio.run(asyncio.wait_for(scenario(args, f"http://127.0.0.1:{port}", folder), args.deadline))
        finally:
            stop(proc)
    log = log_path.read_text(errors="replace")
    result["server_tracebacks"] = log.count("Traceback")
    result["server_log"] = str(log_path)
    result["seconds_total"] = round(time.perf_counter() - started, 1)
    result["settings"] = {"moves": args.moves, "think_s": args.think, "run": str(args.run)}
    result["machine"] = machine()
    text = json.dumps(result, indent=1)
    print(text)
    print()
    print(markdown(result))
    if args.json_out:
        args.json_out.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
