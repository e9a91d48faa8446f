"""What the real-browser tests and the browser benchmarks share: Chromium, a Streamlit server, marked data.

Used by ``tests/test_browser.py``, ``tests/test_isolation_browser.py``,
``benchmarks/browser_latency.py`` and ``benchmarks/load_sessions.py``. Debian's
``chromium`` is driven by Playwright (never Playwright's own browser download).
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


def start_streamlit(run_dir: Path, port: int, log, timeout_s: float = 120, env: dict | None = None) -> subprocess.Popen:
    """``streamlit run app.py`` on ``port`` showing ``run_dir``; returns once it answers its health check.

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
        time.sleep(0.5)
    return proc


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
