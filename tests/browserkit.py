"""What the real-browser tests and the browser benchmarks share: Chromium, a Streamlit server, marked data.

Used by ``tests/test_browser.py``, ``tests/test_isolation_browser.py``,
``benchmarks/browser_latency.py`` and ``benchmarks/load_sessions.py``. Debian's
``chromium`` is driven by Playwright (never Playwright's own browser download).

Tests wait on the app's own signals, never on a fixed sleep: the server's health check, the
script state Streamlit keeps on its root element (:func:`idle`, :func:`wait_for_runs`), an
element or test id appearing, the layout settling (:func:`settle`). Every wait is bounded only
by :data:`HANG_S`, so a loaded machine makes a test slower, not red.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from helpers_app import csv_bytes, tiny_tables

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip
#: The app has finished its current run (Streamlit's own attribute on the app root).
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
#: Placeholder of an element whose code is still loading.
SKELETON = "[data-testid='stSkeleton']"
#: Hang guard of every wait, in seconds. The waits end on the app's own signals – its script state, a
#: test id, an element appearing – so on a loaded machine they simply take longer; this bound only
#: stops a test that would otherwise hang. ``MGVIZ_BROWSER_HANG_S`` overrides it.
HANG_S = float(os.environ.get("MGVIZ_BROWSER_HANG_S") or 900)
HANG_MS = int(HANG_S * 1000)
#: Counts the app's finished script and fragment runs (``window.__mgvizRuns``) from the script-state
#: attribute Streamlit keeps on its root element; installed in every page with ``add_init_script``.
RUN_COUNTER_JS = """
(() => {
  window.__mgvizRuns = 0;
  const watch = () => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app) { setTimeout(watch, 20); return; }
    let last = app.getAttribute("data-test-script-state");
    new MutationObserver(() => {
      const now = app.getAttribute("data-test-script-state");
      if (last === "running" && now !== "running") window.__mgvizRuns += 1;
      last = now;
    }).observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
  };
  watch();
})();
"""
#: True once the page's layout (main column height, number of drawn charts, stale elements) has not
#: changed for 10 animation frames in a row; ``window.__mgvizSettle`` holds the count between polls.
SETTLED_JS = """
() => {
  const main = document.querySelector("[data-testid='stMain']") || document.body;
  const sig = [main.scrollHeight, document.querySelectorAll(".js-plotly-plot .main-svg").length,
               document.querySelectorAll("[data-stale='true']").length].join();
  const w = window.__mgvizSettle || (window.__mgvizSettle = {sig: null, frames: 0});
  w.frames = sig === w.sig ? w.frames + 1 : 0;
  w.sig = sig;
  return w.frames >= 10;
}
"""
#: Offline model, one BLAS thread: what ``make`` exports too.
SERVER_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
              "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip


class ServerError(RuntimeError):
    """The Streamlit server exited or did not become healthy (the message names its log)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.read().strip() == b"ok"
    except OSError:
        return False


def start_streamlit(
    run_dir: Path, port: int, log, timeout_s: float = HANG_S, env: dict | None = None
) -> subprocess.Popen:
    """``streamlit run app.py`` on ``port`` showing ``run_dir``; returns once it answers its health check
    (``timeout_s`` only guards against a server that never does; an exiting server fails at once).

    ``log`` is an open file for the server's output. Uses the project's ``.streamlit/config.toml``
    (the working directory is the project root), as ``make run`` does. ``env`` adds variables.
    """
    env = {**os.environ, "MGVIZ_RUN": str(run_dir), **SERVER_ENV, **(env or {})}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless",
           "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout_s
    while not healthy(url):
        if proc.poll() is not None:
            raise ServerError(f"streamlit exited early; see {log.name}")
        if time.time() > deadline:
            stop(proc)
            raise ServerError(f"streamlit did not become healthy in {timeout_s:.0f} s; see {log.name}")
        time.sleep(0.2)
    return proc


# ----------------------------------------------------------------------------------------------- waiting on the app
def prepare_context(context) -> None:
    """Every page of ``context`` counts the app's runs and waits at most :data:`HANG_S` for anything."""
    context.add_init_script(RUN_COUNTER_JS)
    context.set_default_timeout(HANG_MS)


def describe(page) -> str:
    """The app's script state and the start of its text, for a failure message."""
    try:
        state = page.evaluate(
            "() => document.querySelector(\"[data-testid='stApp']\")?.getAttribute('data-test-script-state')"
        )
        text = page.locator("[data-testid='stApp']").inner_text(timeout=10_000)
    except Exception as exc:  # the page itself is gone: say so
        return f"(page not readable: {exc})"
    return f"script state {state!r}; the app shows: {' '.join(text.split())[:1500]!r}"


def idle(page) -> None:
    """Wait until the app has finished its current run and drawn it: no element is still a placeholder
    (``stSkeleton``: its code is loaded on first use, which a fresh browser context fetches first)."""
    page.wait_for_selector(IDLE, timeout=HANG_MS)
    page.wait_for_function(f"() => !document.querySelector({SKELETON!r})", timeout=HANG_MS)


def runs_finished(page) -> int:
    """How many script and fragment runs the app has finished since the page was loaded."""
    return int(page.evaluate("() => window.__mgvizRuns || 0"))


def wait_for_runs(page, since: int, more: int = 1) -> None:
    """Wait until the app has finished ``more`` runs after the count ``since`` (:func:`runs_finished`)."""
    page.wait_for_function(f"() => (window.__mgvizRuns || 0) >= {since + more}", timeout=HANG_MS)
    idle(page)


def settle(page) -> None:
    """Wait until the app is idle and its layout has stopped changing (charts drawn and sized)."""
    idle(page)
    page.evaluate("() => { window.__mgvizSettle = null; }")
    page.wait_for_function(SETTLED_JS, polling="raf", timeout=HANG_MS)


def wait_until(predicate, what: str, page=None, timeout: float = HANG_S, interval: float = 0.2):
    """Poll ``predicate`` until it returns something true; the failure names ``what`` and what the app shows."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout:.0f} s waiting for {what}" + (f"; {describe(page)}" if page else "")
    )


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def marked_files(marker: str, seed: int, folder: Path) -> dict[str, Path]:
    """A small interaction log (90 users, 60 items, 1,260 rows) and item table with ``marker`` in
    every id, title and file name – so a page that shows another session's data is caught."""
    tables = tiny_tables(seed)
    inter, items = tables["interactions"].copy(), tables["items"].copy()
    inter["user_id"] = f"{marker}-" + inter["user_id"]
    inter["item_id"] = f"{marker}-" + inter["item_id"]
    items["item_id"] = f"{marker}-" + items["item_id"]
    items["title"] = f"{marker} " + items["title"]
    paths = {"interactions": folder / f"{marker}_log.csv", "items": folder / f"{marker}_items.csv"}
    paths["interactions"].write_bytes(csv_bytes(inter))
    paths["items"].write_bytes(csv_bytes(items))
    return paths
