"""Run directories: a JSON manifest plus Parquet / ``.npy`` artefacts. No pickle anywhere.

A run is written into a temporary sibling folder and renamed into place, so an
interrupted build leaves the previous run intact; loading checks the manifest
and every artefact and says clearly what is missing or corrupt.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.levels.macro import SegmentProfile
from mgviz.pipeline import BuildConfig, InterestModel
from mgviz.schema import INTERACTION_COLS, ITEM_COLS, LEVELS, USER_COLS, Dataset

FORMAT = "mgviz-run/1"
ARRAYS = (
    "category_mix", "segment_category", "item_embeddings", "user_text_embeddings", "user_vectors",
    "membership", "als_user_factors", "als_item_factors",
)  # fmt: skip
#: Which count the first axis of each array follows ("users", "items" or "segments").
ARRAY_ROWS = {
    "category_mix": "users", "segment_category": "segments", "item_embeddings": "items",
    "user_text_embeddings": "users", "user_vectors": "users", "membership": "users",
    "als_user_factors": "users", "als_item_factors": "items",
}  # fmt: skip
LIBRARIES = (
    "mgviz", "numpy", "scipy", "pandas", "pyarrow", "scikit-learn", "umap-learn", "sentence-transformers",
    "transformers", "torch", "implicit", "jieba", "streamlit", "plotly",
)  # fmt: skip


class RunError(Exception):
    """A run directory that is missing, incomplete or corrupt."""


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_run(model: InterestModel, out_dir, inputs: dict[str, str] | None = None) -> Path:
    """Write ``model`` to ``out_dir`` atomically. ``inputs`` maps role -> input file path (hashed)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        _write(model, tmp, inputs or {})
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
            try:
                os.replace(tmp, out_dir)
            except BaseException:
                os.replace(old, out_dir)  # put the previous run back
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _write(model: InterestModel, folder: Path, inputs: dict[str, str]) -> None:
    ds = model.dataset
    ds.interactions.to_parquet(folder / "interactions.parquet", index=False)
    ds.items.to_parquet(folder / "items.parquet", index=False)
    ds.users.to_parquet(folder / "users.parquet", index=False)
    for name in ARRAYS:
        np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(model, name)), allow_pickle=False)
    np.save(folder / "item_categories.npy", model.item_categories.toarray().astype(np.float32), allow_pickle=False)
    np.save(folder / "segments.npy", model.segments.astype(np.int32), allow_pickle=False)
    if model.umap_xy is not None:
        np.save(folder / "umap_xy.npy", model.umap_xy, allow_pickle=False)
    for level, arr in model.level_scores.items():
        np.save(folder / f"scores_{level}.npy", arr.astype(np.float32), allow_pickle=False)
    model.keywords.to_parquet(folder / "keywords.parquet", index=False)
    if model.k_scores is not None:
        model.k_scores.to_parquet(folder / "k_scores.parquet", index=False)
    (folder / "profiles.json").write_text(
        json.dumps([p.to_dict() for p in model.profiles], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    manifest = {
        "format": FORMAT,
        "config": model.config.to_dict(),
        "seed": model.config.seed,
        "model": model.config.model,
        "versions": library_versions(),
        "inputs": {
            role: {"file": Path(p).name, "sha256": file_sha256(p)}
            for role, p in inputs.items()
            if p and Path(p).is_file()
        },
        "dataset": {
            "n_users": len(ds.users),
            "n_items": len(ds.items),
            "n_interactions": len(ds.interactions),
            "demographic_cols": ds.demographic_cols,
            "has_rating": ds.has_rating,
            "has_time": ds.has_time,
            "sources": ds.sources,
        },
        "categories": model.categories,
        "categories_derived": model.categories_derived,
        "cold_start_quality": model.cold_start_quality,
        "timings": model.timings,
        "levels": [lv for lv in LEVELS if lv in model.level_scores],
    }
    # the manifest is written last: its presence marks a complete run
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")


def read_manifest(run_dir) -> dict:
    run_dir = Path(run_dir)
    path = run_dir / "manifest.json"
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run directory")
    if not path.is_file():
        raise RunError(f"{run_dir}: not a complete mgviz run (manifest.json missing – was the build interrupted?)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path}: manifest is corrupt ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunError(f"{path}: not an {FORMAT} manifest")
    info, levels = manifest.get("dataset"), manifest.get("levels")
    problem = None
    if not isinstance(manifest.get("config"), dict):
        problem = "'config' is missing or not an object"
    elif not isinstance(info, dict) or not all(isinstance(info.get(k), int) for k in ("n_users", "n_items")):
        problem = "'dataset' is missing or lacks whole numbers 'n_users' / 'n_items'"
    elif not isinstance(levels, list) or not set(levels) <= set(LEVELS):
        problem = f"'levels' should list some of {', '.join(LEVELS)} (is {levels!r})"
    elif not isinstance(manifest.get("categories"), list):
        problem = "'categories' is missing or not a list"
    if problem:
        raise RunError(f"{path}: manifest is incomplete: {problem}")
    return manifest


def _npy(run_dir: Path, name: str, shape0: int | None = None) -> np.ndarray:
    path = run_dir / f"{name}.npy"
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise RunError(f"{run_dir}: artefact {path.name} is missing") from None
    except (ValueError, OSError, EOFError) as exc:
        raise RunError(f"{run_dir}: artefact {path.name} is corrupt ({exc})") from None
    if shape0 is not None and arr.shape[0] != shape0:
        raise RunError(f"{run_dir}: artefact {path.name} has {arr.shape[0]} rows, expected {shape0}")
    return arr


def _parquet(run_dir: Path, name: str, columns=()) -> pd.DataFrame:
    path = run_dir / f"{name}.parquet"
    try:
        frame = pd.read_parquet(path)
    except FileNotFoundError:
        raise RunError(f"{run_dir}: artefact {path.name} is missing") from None
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise RunError(f"{run_dir}: artefact {path.name} is corrupt ({type(exc).__name__}: {exc})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RunError(f"{run_dir}: artefact {path.name} lacks column(s) {', '.join(missing)}")
    return frame


def _profiles(run_dir: Path) -> list[SegmentProfile]:
    path = run_dir / "profiles.json"
    try:
        return [SegmentProfile.from_dict(d) for d in json.loads(path.read_text(encoding="utf-8"))]
    except FileNotFoundError:
        raise RunError(f"{run_dir}: artefact {path.name} is missing") from None
    except (ValueError, TypeError, KeyError, AttributeError, OSError) as exc:  # JSON errors are ValueErrors
        raise RunError(f"{run_dir}: artefact {path.name} is corrupt ({type(exc).__name__}: {exc})") from None


def load_run(run_dir) -> InterestModel:
    """Load a run written by :func:`save_run`; raises :class:`RunError` with a clear message."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    info = manifest["dataset"]
    items = _parquet(run_dir, "items", ITEM_COLS)
    items["categories"] = items["categories"].map(lambda c: [str(x) for x in c] if c is not None else [])
    dataset = Dataset(
        interactions=_parquet(run_dir, "interactions", INTERACTION_COLS),
        items=items,
        users=_parquet(run_dir, "users", USER_COLS),
        demographic_cols=list(info.get("demographic_cols", [])),
        has_rating=bool(info.get("has_rating")),
        has_time=bool(info.get("has_time")),
        sources=dict(info.get("sources", {})),
    )
    n_users, n_items = len(dataset.users), len(dataset.items)
    if (n_users, n_items) != (info["n_users"], info["n_items"]):
        raise RunError(
            f"{run_dir}: users.parquet / items.parquet hold {n_users} users / {n_items} items, "
            f"manifest.json says {info['n_users']} / {info['n_items']}"
        )
    u, i = dataset.codes()
    if (u < 0).any() or (i < 0).any():
        raise RunError(
            f"{run_dir}: artefact interactions.parquet names {int((u < 0).sum())} user(s) / {int((i < 0).sum())} "
            "item(s) that are not in users.parquet / items.parquet"
        )
    profiles = _profiles(run_dir)
    rows = {"users": n_users, "items": n_items, "segments": len(profiles)}
    arrays = {name: _npy(run_dir, name, rows[ARRAY_ROWS[name]]) for name in ARRAYS}
    segments = _npy(run_dir, "segments", n_users)
    if len(segments) and (segments.min() < 0 or segments.max() >= len(profiles)):
        raise RunError(f"{run_dir}: artefact segments.npy names segments outside 0..{len(profiles) - 1}")
    level_scores = {lv: _npy(run_dir, f"scores_{lv}", n_users) for lv in manifest["levels"]}
    for lv, arr in level_scores.items():
        if arr.shape != (n_users, n_items):
            raise RunError(f"{run_dir}: scores_{lv}.npy has shape {arr.shape}, expected {(n_users, n_items)}")
    umap_path = run_dir / "umap_xy.npy"
    k_path = run_dir / "k_scores.parquet"
    return InterestModel(
        dataset=dataset,
        config=BuildConfig.from_dict(manifest["config"]),
        categories=list(manifest["categories"]),
        categories_derived=bool(manifest["categories_derived"]),
        item_categories=sp.csr_matrix(_npy(run_dir, "item_categories", n_items)),
        segments=segments,
        profiles=profiles,
        keywords=_parquet(run_dir, "keywords"),
        level_scores=level_scores,
        seen=(dataset.matrix() > 0).astype(np.float32).tocsr(),
        umap_xy=_npy(run_dir, "umap_xy", n_users) if umap_path.exists() else None,
        k_scores=_parquet(run_dir, "k_scores") if k_path.exists() else None,
        cold_start_quality=manifest.get("cold_start_quality"),
        timings=manifest.get("timings", {}),
        **arrays,
    )
