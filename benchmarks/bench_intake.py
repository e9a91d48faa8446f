"""Time ``mgviz.io.load_dataset`` on a log written by ``synth_log.py``, in this process.

Usage: python benchmarks/bench_intake.py DIR [--format parquet|csv] [--profile OUT.prof]

Prints one JSON object: load time, peak RSS of the process (import included) and the table sizes.
Run it once per format in a fresh process so the peak belongs to that load alone. It calls the
loader directly: a build would refuse a 10M log up front (``mgviz.limits``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    ap.add_argument("--profile", help="write cProfile stats here")
    args = ap.parse_args()
    root = Path(args.dir)
    files = [str(root / f"{name}.{args.format}") for name in ("interactions", "items", "users")]

    from mgviz.io import load_dataset

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    if args.profile:
        import cProfile

        with cProfile.Profile() as prof:
            dataset, report = load_dataset(*files)
        prof.dump_stats(args.profile)
    else:
        dataset, report = load_dataset(*files)
    out = {
        "format": args.format,
        "load_s": round(time.perf_counter() - t, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_after_import_mb": round(rss_before),
        "interactions": len(dataset.interactions),
        "users": len(dataset.users),
        "items": len(dataset.items),
        "warnings": len(report.warnings),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
