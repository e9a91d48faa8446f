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
    }


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
    for r in results["runs"]:
        print(r["data"], r["mode"], "build", r["build_s"], "s; refusion", r["refusion_all_users_ms"], "ms")
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
