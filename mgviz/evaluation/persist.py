"""Save an evaluation context next to a run, so the app opens with held-out metrics at once.

Layout of ``RUN/evaluation/``: ``model/`` (the levels fit on the training split, a run
directory of its own), ``train.*.npy`` / ``test.*.npy`` (CSR parts, no pickle),
``baselines/<name>/`` (fitted baseline levels), ``rows.npy`` (the evaluated users), ``surface.parquet`` (the validation surface),
``test_surface.parquet`` (the dashboard's NDCG@10 over the weight simplex, 0.1 grid) and
``evaluation.json`` (split description, ks, tuned weights).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from mgviz.evaluation.report import EvalContext
from mgviz.levels.base import Level
from mgviz.runs import RunError, _csr, load_run, save_csr, save_run

FOLDER = "evaluation"
#: (k, step, metric) of the test surface saved with an evaluation: the one the dashboard draws.
TEST_SURFACE = (10, 0.1, "ndcg")


def save_evaluation(ctx: EvalContext, run_dir) -> Path:
    """Write ``ctx`` into ``run_dir/evaluation`` (the model part atomically, the rest beside it)."""
    folder = Path(run_dir) / FOLDER
    save_run(ctx.model, folder / "model")
    save_csr(folder, "train", ctx.train)
    save_csr(folder, "test", ctx.test)
    np.save(folder / "rows.npy", ctx.rows.astype(np.int64), allow_pickle=False)
    for name, level in ctx.baselines_fitted.items():
        level.save(folder / "baselines" / name)
    tuned = {k: v for k, v in ctx.tuned.items() if k != "surface"}
    if "surface" in ctx.tuned:
        ctx.tuned["surface"].to_parquet(folder / "surface.parquet", index=False)
    k, step, metric = TEST_SURFACE
    ctx.surface(k=k, step=step, metric=metric).to_parquet(folder / "test_surface.parquet", index=False)
    info = {"split": ctx.split_info, "ks": list(ctx.ks), "tuned": tuned, "baselines": sorted(ctx.baselines_fitted),
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
        shape = (len(model.user_ids), len(model.item_ids))
        train, test = _csr(folder, "train", shape), _csr(folder, "test", shape)
        rows = np.load(folder / "rows.npy", allow_pickle=False)
        baselines = {n: Level.load(folder / "baselines" / n) for n in info["baselines"]}
    except RunError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise RunError(f"{folder}: saved evaluation is missing or damaged ({exc})") from None
    tuned = dict(info.get("tuned", {}))
    if (folder / "surface.parquet").is_file():
        tuned["surface"] = pd.read_parquet(folder / "surface.parquet")
    if len(rows) and (rows.min() < 0 or rows.max() >= shape[0]):
        raise RunError(f"{folder}: rows.npy names users outside 0..{shape[0] - 1}")
    ctx = EvalContext(model, train, test, info["split"], baselines, tuple(info["ks"]), tuned, rows=rows)
    spec = info.get("test_surface")
    if spec and (folder / "test_surface.parquet").is_file():  # older saves have none: computed on demand
        try:
            surface = pd.read_parquet(folder / "test_surface.parquet")
        except (OSError, ValueError) as exc:
            raise RunError(f"{folder}: saved test surface is damaged ({exc})") from None
        expected = [*model.levels, spec["metric"]]
        if list(surface.columns) != expected:
            raise RunError(f"{folder}: saved test surface has columns {list(surface.columns)}, expected {expected}")
        ctx.surfaces[(int(spec["k"]), float(spec["step"]), str(spec["metric"]))] = surface
    return ctx
