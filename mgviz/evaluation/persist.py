"""Save an evaluation context next to a run, so the app opens with held-out metrics at once.

Layout of ``RUN/evaluation/``: ``model/`` (the levels fit on the training split, a run
directory of its own), ``train.npz`` / ``test.npz`` (scipy sparse, no pickle),
``baseline_<name>.npy``, ``surface.parquet`` (the validation surface),
``test_surface.parquet`` (the dashboard's NDCG@10 over the weight simplex, 0.1 grid) and
``evaluation.json`` (split description, ks, tuned weights).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.evaluation.report import EvalContext
from mgviz.runs import RunError, load_run, save_run

FOLDER = "evaluation"
#: (k, step, metric) of the test surface saved with an evaluation: the one the dashboard draws.
TEST_SURFACE = (10, 0.1, "ndcg")


def save_evaluation(ctx: EvalContext, run_dir) -> Path:
    """Write ``ctx`` into ``run_dir/evaluation`` (the model part atomically, the rest beside it)."""
    folder = Path(run_dir) / FOLDER
    save_run(ctx.model, folder / "model")
    sp.save_npz(folder / "train.npz", ctx.train.tocsr())
    sp.save_npz(folder / "test.npz", ctx.test.tocsr())
    for name, arr in ctx.baseline_scores.items():
        np.save(folder / f"baseline_{name}.npy", arr.astype(np.float32), allow_pickle=False)
    tuned = {k: v for k, v in ctx.tuned.items() if k != "surface"}
    if "surface" in ctx.tuned:
        ctx.tuned["surface"].to_parquet(folder / "surface.parquet", index=False)
    k, step, metric = TEST_SURFACE
    ctx.surface(k=k, step=step, metric=metric).to_parquet(folder / "test_surface.parquet", index=False)
    info = {"split": ctx.split_info, "ks": list(ctx.ks), "tuned": tuned, "baselines": sorted(ctx.baseline_scores),
            "test_surface": {"k": k, "step": step, "metric": metric}}  # fmt: skip
    (folder / "evaluation.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return folder


def has_evaluation(run_dir) -> bool:
    return (Path(run_dir) / FOLDER / "evaluation.json").is_file()


def load_evaluation(run_dir) -> EvalContext:
    """The context saved by :func:`save_evaluation`; ``RunError`` when missing or damaged."""
    folder = Path(run_dir) / FOLDER
    try:
        info = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
        model = load_run(folder / "model")
        train, test = sp.load_npz(folder / "train.npz").tocsr(), sp.load_npz(folder / "test.npz").tocsr()
        baselines = {n: np.load(folder / f"baseline_{n}.npy", allow_pickle=False) for n in info["baselines"]}
    except RunError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise RunError(f"{folder}: saved evaluation is missing or damaged ({exc})") from None
    tuned = dict(info.get("tuned", {}))
    if (folder / "surface.parquet").is_file():
        tuned["surface"] = pd.read_parquet(folder / "surface.parquet")
    shape = (len(model.user_ids), len(model.item_ids))
    if train.shape != shape or test.shape != shape:
        raise RunError(f"{folder}: train/test matrices have shape {train.shape}, expected {shape}")
    ctx = EvalContext(model, train, test, info["split"], baselines, tuple(info["ks"]), tuned)
    spec = info.get("test_surface")
    if spec and (folder / "test_surface.parquet").is_file():  # older saves have none: computed on demand
        try:
            surface = pd.read_parquet(folder / "test_surface.parquet")
        except (OSError, ValueError) as exc:
            raise RunError(f"{folder}: saved test surface is damaged ({exc})") from None
        expected = [*model.level_scores, spec["metric"]]
        if list(surface.columns) != expected:
            raise RunError(f"{folder}: saved test surface has columns {list(surface.columns)}, expected {expected}")
        ctx.surfaces[(int(spec["k"]), float(spec["step"]), str(spec["metric"]))] = surface
    return ctx
