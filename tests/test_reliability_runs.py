"""Nothing lost, nothing half-read: runs are written atomically, damaged runs are refused clearly, and the
same inputs and seed give byte-identical results in separate processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgviz.runs import ARRAYS, RunError, load_run, save_run

ROOT = Path(__file__).resolve().parents[1]
TINY = {"k": 2, "umap": False, "k_range": [2, 3], "iterations": 2, "factors": 4}

LOG = """user_id,item_id,rating,timestamp,review
ana,espresso,5,1600000000,strong and bitter
ana,latte,3,1600000100,
ben,latte,4,1600000200,milky and sweet
ben,tea,5,1600000300,green tea is calming
chloé,tea,4,1600000400,
chloé,espresso,2,1600000500,too bitter for me
dai,cocoa,5,1600000600,sweet chocolate
dai,latte,4,1600000700,
eve,cocoa,3,1600000800,
eve,tea,4,1600000900,herbal
"""
ITEMS = """item_id,title,genres
espresso,Espresso shot,coffee|hot
latte,Caffe latte,coffee|milk
tea,Green tea,tea|hot
cocoa,Hot cocoa,chocolate|milk
"""


def _model(encoder, seed: int = 0, log: str = LOG):
    from mgviz.io import load_dataset
    from mgviz.pipeline import BuildConfig, build

    dataset, _ = load_dataset(("log.csv", log.encode()), ("items.csv", ITEMS.encode()))
    return build(dataset, BuildConfig(**TINY, seed=seed), encoder)


@pytest.fixture(scope="module")
def models(encoder):
    """Two different models of the same shape (another seed and one rating changed)."""
    return _model(encoder, 0), _model(encoder, 1, LOG.replace("eve,tea,4", "eve,tea,1"))


@pytest.fixture(scope="module")
def good_run(models, tmp_path_factory) -> Path:
    return save_run(models[0], tmp_path_factory.mktemp("good") / "run")


def _fingerprint(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def _leftovers(run: Path) -> list[str]:
    return sorted(p.name for p in run.parent.iterdir() if p.name.startswith(f".{run.name}."))


# --------------------------------------------------------------------------- atomic saves
def _fail_after(n: int, exc: BaseException):
    """A stand-in writer that lets ``n`` calls through, raises ``exc`` once, then works again."""
    calls = {"n": 0}

    def wrap(real):
        def writer(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == n + 1:
                raise exc
            return real(*args, **kwargs)

        return writer

    return wrap


@pytest.mark.parametrize(
    ("target", "after", "exc"),
    [
        pytest.param("parquet", 0, OSError(28, "No space left on device"), id="first-table-disk-full"),
        pytest.param("parquet", 3, OSError(5, "Input/output error"), id="keywords-table"),
        pytest.param("npy", 4, OSError(28, "No space left on device"), id="arrays-midway"),
        pytest.param("npy", 4, KeyboardInterrupt(), id="ctrl-c-midway"),
        pytest.param("text", 1, OSError(28, "No space left on device"), id="manifest-last"),
        pytest.param("replace", 1, OSError(16, "Device or resource busy"), id="between-the-two-renames"),
        pytest.param("replace", 1, KeyboardInterrupt(), id="ctrl-c-between-the-renames"),
    ],
)
def test_interrupted_save_keeps_the_previous_run(models, tmp_path, monkeypatch, target, after, exc):
    """A save that fails anywhere – while writing, or while swapping folders – leaves the previous run
    exactly as it was, loadable, and no temporary folder behind."""
    import mgviz.runs as runs

    out = save_run(models[0], tmp_path / "run")
    before = _fingerprint(out)
    wrap = _fail_after(after, exc)
    if target == "parquet":
        monkeypatch.setattr(pd.DataFrame, "to_parquet", wrap(pd.DataFrame.to_parquet))
    elif target == "npy":
        monkeypatch.setattr(runs.np, "save", wrap(np.save))
    elif target == "text":
        monkeypatch.setattr(Path, "write_text", wrap(Path.write_text))
    else:
        monkeypatch.setattr(runs.os, "replace", wrap(os.replace))
    with pytest.raises(type(exc)):
        save_run(models[1], out)
    monkeypatch.undo()
    assert _fingerprint(out) == before, "the previous run changed"
    assert _leftovers(out) == [], "temporary folders left behind"
    reloaded = load_run(out)
    everyone = np.arange(len(models[0].user_ids))
    np.testing.assert_array_equal(reloaded.levels["micro"].score(everyone), models[0].levels["micro"].score(everyone))


def test_a_completed_save_replaces_the_run(models, tmp_path):
    out = save_run(models[0], tmp_path / "run")
    save_run(models[1], out)
    assert _leftovers(out) == []
    everyone = np.arange(len(models[1].user_ids))
    np.testing.assert_array_equal(
        load_run(out).levels["micro"].score(everyone), models[1].levels["micro"].score(everyone)
    )


# --------------------------------------------------------------------------- damaged runs
def _damaged(good_run: Path, tmp_path: Path, damage) -> Path:
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    damage(run)
    return run


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _edit_manifest(edit):
    def damage(run: Path) -> None:
        manifest = json.loads((run / "manifest.json").read_text())
        edit(manifest)
        (run / "manifest.json").write_text(json.dumps(manifest))

    return damage


def _save_npy(name: str, make):
    def damage(run: Path) -> None:
        old = np.load(run / name, allow_pickle=False)
        np.save(run / name, make(old), allow_pickle=True)

    return damage


def _object_array(_old):
    return np.array([{"pickled": "dict"}], dtype=object)


DAMAGES = {
    # missing artefacts
    "missing-interactions": (lambda r: (r / "interactions.parquet").unlink(), "interactions.parquet"),
    "missing-items": (lambda r: (r / "items.parquet").unlink(), "items.parquet"),
    "missing-keywords": (lambda r: (r / "keywords.parquet").unlink(), "keywords.parquet"),
    "missing-level-state": (lambda r: (r / "levels/semantic/profile.npy").unlink(), "profile.npy"),
    "missing-level": (lambda r: shutil.rmtree(r / "levels/meso"), "level meso"),
    "garbage-level-state": (lambda r: (r / "levels/macro/state.json").write_text("{oops"), "level macro"),
    "unknown-level-kind": (lambda r: (r / "levels/macro/state.json").write_text('{"kind": "os.system"}'), "kind"),
    "missing-seen": (lambda r: (r / "seen.indptr.npy").unlink(), "seen.indptr.npy"),
    "seen-wrong-columns": (_save_npy("seen.indices.npy", lambda a: a + 10_000), "seen"),
    "missing-vectors": (lambda r: (r / "user_vectors.npy").unlink(), "user_vectors.npy"),
    "missing-profiles": (lambda r: (r / "profiles.json").unlink(), "profiles.json"),
    "missing-manifest": (lambda r: (r / "manifest.json").unlink(), "manifest.json"),
    # truncated / corrupt files
    "truncated-npy": (lambda r: _truncate(r / "levels/micro/part0/user_side.npy"), "user_side.npy"),
    "npy-header-only": (lambda r: _truncate(r / "levels/macro/user_side.npy", 0.05), "user_side.npy"),
    "empty-npy": (lambda r: (r / "segments.npy").write_bytes(b""), "segments.npy"),
    "truncated-parquet": (lambda r: _truncate(r / "users.parquet"), "users.parquet"),
    "garbage-parquet": (
        lambda r: (r / "interactions.parquet").write_bytes(b"PAR1" + os.urandom(300) + b"PAR1"),
        "interactions.parquet",
    ),
    "pickled-npy": (_save_npy("levels/micro/part0/item_side.npy", _object_array), "item_side.npy"),
    "garbage-profiles": (lambda r: (r / "profiles.json").write_text("{not json"), "profiles.json"),
    "wrong-profiles": (lambda r: (r / "profiles.json").write_text('[{"segment": "x"}]'), "profiles.json"),
    # wrong shapes and contents
    "level-items-wrong-shape": (_save_npy("levels/macro/item_side.npy", lambda a: a[:, :-1]), "item_side.npy"),
    "level-users-wrong-rows": (_save_npy("levels/meso/user_side.npy", lambda a: a[:-1]), "user_side.npy"),
    "vectors-wrong-rows": (_save_npy("user_vectors.npy", lambda a: a[:-1]), "user_vectors.npy"),
    "item-factors-wrong-rows": (
        _save_npy("levels/micro/part0/item_side.npy", lambda a: np.vstack([a, a])),
        "item_side.npy",
    ),
    "segments-out-of-range": (_save_npy("segments.npy", lambda a: a + 7), "segments.npy"),
    "users-table-swapped": (lambda r: shutil.copy(r / "items.parquet", r / "users.parquet"), "users.parquet"),
    "interactions-unknown-ids": (
        lambda r: (
            pd.read_parquet(r / "interactions.parquet").assign(user_id="ghost").to_parquet(r / "interactions.parquet")
        ),
        "interactions.parquet",
    ),
    # garbage manifests
    "manifest-not-json": (lambda r: (r / "manifest.json").write_bytes(b"\x00\xff garbage"), "manifest.json"),
    "manifest-a-list": (lambda r: (r / "manifest.json").write_text("[1, 2]"), "manifest.json"),
    "manifest-other-format": (_edit_manifest(lambda m: m.update(format="other/9")), "manifest.json"),
    "run-of-an-older-mgviz": (_edit_manifest(lambda m: m.update(format="mgviz-run/1")), "rebuild this run"),
    "manifest-no-dataset": (_edit_manifest(lambda m: m.pop("dataset")), "manifest.json"),
    "manifest-no-levels": (_edit_manifest(lambda m: m.pop("levels")), "manifest.json"),
    "manifest-unknown-level": (_edit_manifest(lambda m: m.update(levels=["../../etc/passwd"])), "manifest.json"),
    "manifest-counts-wrong": (_edit_manifest(lambda m: m["dataset"].update(n_users=999)), "manifest.json"),
    "manifest-counts-text": (_edit_manifest(lambda m: m["dataset"].update(n_items="four")), "manifest.json"),
    "manifest-no-config": (_edit_manifest(lambda m: m.pop("config")), "manifest.json"),
    "manifest-config-a-string": (_edit_manifest(lambda m: m.update(config="k=2")), "manifest.json"),
    "stability-for-another-k": (_edit_manifest(lambda m: m["stability"].update(k=5)), "stability"),
    "stability-jaccard-short": (_edit_manifest(lambda m: m["stability"]["jaccard"].pop()), "stability"),
    "stability-a-string": (_edit_manifest(lambda m: m.update(stability="stable")), "stability"),
    "stability-per-k-garbage": (_edit_manifest(lambda m: m["stability"].update(per_k=[{"k": "two"}])), "stability"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGES))
def test_damaged_run_is_a_clear_run_error(good_run, tmp_path, kind):
    damage, file_name = DAMAGES[kind]
    run = _damaged(good_run, tmp_path, damage)
    with pytest.raises(RunError) as exc:
        load_run(run)
    message = str(exc.value)
    assert file_name in message, message
    assert str(run) in message and "Traceback" not in message


def test_loading_a_run_never_unpickles(good_run, tmp_path, monkeypatch):
    import pickle

    def boom(*_a, **_k):
        raise AssertionError("a run artefact was unpickled")

    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    load_run(good_run)
    run = _damaged(good_run, tmp_path, _save_npy("levels/meso/user_side.npy", _object_array))
    with pytest.raises(RunError, match="user_side.npy"):
        load_run(run)


def test_a_good_run_round_trips(good_run, models):
    model = load_run(good_run)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(model, name), getattr(models[0], name))
    assert model.recommend(n=2).equals(models[0].recommend(n=2))
    assert model.k_scores is not None and len(model.profiles) == 2
    assert model.stability == models[0].stability
    manifest = json.loads((good_run / "manifest.json").read_text())
    assert manifest["stability"]["k"] == 2 and len(manifest["stability"]["jaccard"]) == 2
    assert [r["k"] for r in manifest["stability"]["per_k"]] == model.k_scores["k"].tolist()


def test_a_run_made_before_stability_was_measured_still_loads(good_run, tmp_path, models):
    run = _damaged(good_run, tmp_path, _edit_manifest(lambda m: m.pop("stability")))
    model = load_run(run)
    assert model.stability is None
    assert model.recommend(n=2).equals(models[0].recommend(n=2))


# --------------------------------------------------------------------------- determinism across processes
_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from mgviz.cli import main
    from mgviz.encoder import Encoder
    from mgviz.export import profiles_frame, safe_csv_frame
    from mgviz.io import load_dataset
    from mgviz.pipeline import BuildConfig, build
    from mgviz.runs import save_run

    out = Path(sys.argv[1])
    dataset, _ = load_dataset(sys.argv[2], sys.argv[3])
    config = BuildConfig(k=3, seed=7, umap=False, k_range=[2, 3, 4], iterations=5, factors=8)
    model = build(dataset, config, Encoder(cache_dir=False))  # no cache: both processes really encode
    save_run(model, out / "run")
    assert main(["recommend", "--run", str(out / "run"), "--all-users", "--n", "5", "--out", str(out / "recs.csv")]) == 0
    assert main(["export", "--run", str(out / "run"), "--profiles", str(out / "profiles.csv")]) == 0
    """
)


@pytest.mark.slow
def test_same_inputs_and_seed_give_identical_artefacts_across_processes(tmp_path):
    """Extends tests/test_cli.py (same lists from two CLI processes): every artefact of the run – scores,
    vectors, segments, K-quality table, tables – and both CSV exports are identical across two processes
    with different hash seeds, on a log with unicode and formula-like ids. (UMAP stays off: its JIT
    compilation alone costs ~18 s per process.)"""
    log = LOG.replace("chloé", "=chloé+1").replace("dai", "大卫")
    (tmp_path / "log.csv").write_text(log, encoding="utf-8")
    (tmp_path / "items.csv").write_text(ITEMS, encoding="utf-8")
    outs = []
    for n, hash_seed in enumerate(["0", "12345"]):
        out = tmp_path / f"p{n}"
        out.mkdir()
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, HF_HUB_OFFLINE="1", OPENBLAS_NUM_THREADS="1")
        subprocess.run([sys.executable, "-c", _SCRIPT, str(out), str(tmp_path / "log.csv"), str(tmp_path / "items.csv")],
                       check=True, env=env, cwd=ROOT, timeout=600)  # fmt: skip
        outs.append(out)
    a, b = outs
    for name in ("recs.csv", "profiles.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert "'=chloé+1" in (a / "recs.csv").read_text(encoding="utf-8")
    arrays = sorted(str(p.relative_to(a / "run")) for p in (a / "run").rglob("*.npy"))
    assert "levels/micro/part0/user_side.npy" in arrays and "user_vectors.npy" in arrays
    for name in arrays:
        assert (a / "run" / name).read_bytes() == (b / "run" / name).read_bytes(), name
    for path in (a / "run").glob("*.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(b / "run" / path.name))
    ma, mb = (json.loads((x / "run" / "manifest.json").read_text()) for x in outs)
    ma.pop("timings"), mb.pop("timings")
    assert ma == mb
    assert (a / "run" / "profiles.json").read_bytes() == (b / "run" / "profiles.json").read_bytes()
