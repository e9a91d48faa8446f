"""The Spark engine from the command line: ``spark-submit`` of mgviz's entry point (the submit's master is
used), a log read by Spark from a Parquet folder, ``--evaluate`` on Spark (fixed weights), and a path Spark
cannot read. Each test starts its own local Spark session (a module of its own: the CLI stops its session
when the build ends, which must not stop ``tests/test_spark.py``'s shared one).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers_app import tiny_tables  # noqa: E402

from mgviz.cli import main  # noqa: E402

pytestmark = pytest.mark.slow
pytest.importorskip("pyspark", reason="the Spark engine's extra: pip install 'mgviz[spark]'")


@pytest.fixture()
def tiny(tmp_path):
    tables = tiny_tables()
    for role, frame in tables.items():
        frame.to_csv(tmp_path / f"{role}.csv", index=False)
    return tmp_path, tables


def test_spark_submit_runs_the_build_on_the_submits_master(tiny):
    folder, tables = tiny
    submit = shutil.which("spark-submit", path=str(Path(sys.executable).parent)) or shutil.which("spark-submit")
    assert submit, "pyspark installs bin/spark-submit"
    entry = subprocess.run([sys.executable, "-m", "mgviz.spark_submit", "--path"], capture_output=True, text=True,
                           check=True).stdout.strip()  # fmt: skip
    assert Path(entry).is_file()
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
           "SPARK_LOCAL_IP": "127.0.0.1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # fmt: skip
    out = folder / "run"
    proc = subprocess.run(
        [submit, "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--conf",
         "spark.sql.shuffle.partitions=4", entry, "build", "--interactions", str(folder / "interactions.csv"),
         "--items", str(folder / "items.csv"), "--users", str(folder / "users.csv"), "--k", "3", "--seed", "0",
         "--weights", "micro=0.4,meso=0.2,macro=0.2,semantic=0.2", "--no-umap", "--quiet", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    engine = manifest["engine"]
    assert engine["name"] == "spark" and engine["master"] == "local[2]"  # spark-submit's, not mgviz's local[*]
    assert engine["stages"]["ALS"] == "spark" and engine["stages"]["segments"] == "spark"
    assert engine["conf"] == {}  # the submit's --conf reached Spark, not mgviz's own settings
    assert manifest["dataset"]["n_users"] == tables["users"]["user_id"].nunique()


def test_spark_submit_entry_point_refuses_other_commands():
    proc = subprocess.run([sys.executable, "-m", "mgviz.spark_submit", "recommend", "--run", "x"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2 and "runs `build`" in proc.stderr and "Traceback" not in proc.stderr


def test_a_parquet_folder_is_read_by_spark_and_evaluate_runs_on_spark(tiny, capsys):
    from mgviz.evaluation.persist import has_evaluation, load_evaluation
    from mgviz.runs import load_run

    folder, tables = tiny
    log = folder / "log"  # a Parquet data set as Spark writes it: a folder of part files
    log.mkdir()
    inter = tables["interactions"]
    half = len(inter) // 2
    inter.iloc[:half].to_parquet(log / "part-00000.parquet", index=False)
    inter.iloc[half:].to_parquet(log / "part-00001.parquet", index=False)
    out = folder / "run"
    code = main(["build", "--engine", "spark", "--master", "local[2]", "--interactions", str(log),
                 "--items", str(folder / "items.csv"), "--users", str(folder / "users.csv"), "--k", "3",
                 "--weights", "micro=0.4,meso=0.2,macro=0.2,semantic=0.2", "--no-umap", "--evaluate",
                 "--cache-dir", str(folder / "cache"), "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert "--evaluate with --engine spark" in err
    manifest = json.loads((out / "manifest.json").read_text())
    (read,) = manifest["engine"]["inputs_read_by_spark"]
    assert read["path"] == str(log) and read["format"] == "parquet" and read["rows"] == len(inter)
    assert manifest["inputs"]["interactions"] == {"path": str(log), "sha256": None,
                                                  "note": "read by Spark; a folder or URL is not hashed"}  # fmt: skip
    model = load_run(out)
    assert len(model.dataset.interactions) == len(inter.drop_duplicates(["user_id", "item_id"]))
    # the item texts were encoded on the executors, with the very vectors this process's encoder gives
    assert manifest["engine"]["stages"]["encode items"] == "spark"
    assert manifest["engine"]["encode_items"]["texts"] == len(tables["items"])
    from mgviz.encoder import Encoder
    from mgviz.pipeline import item_docs

    local = Encoder(model.encoder_model, cache_dir=False).encode(item_docs(model.dataset.items,
                                                                            model.config.item_text_fields))  # fmt: skip
    np.testing.assert_allclose(model.item_embeddings, local, atol=1e-5)
    assert has_evaluation(out)
    ctx = load_evaluation(out)
    assert not ctx.tuned  # fixed weights: tuning builds on the local engine
    assert ctx.model.engine["name"] == "spark"  # the training model was built on Spark too
    assert 0 < ctx.metrics_for(model.config.weights)["ndcg@10"] <= 1


def test_a_path_spark_cannot_read_exits_2_in_plain_words(tiny, capsys):
    folder, _ = tiny
    missing = f"file://{folder}/no-such-log"
    code = main(["build", "--engine", "spark", "--master", "local[2]", "--interactions", missing, "--quiet",
                 "--out", str(folder / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: --interactions {missing}: Spark could not read it as PARQUET – no such file")
    assert "Traceback" not in err and "py4j" not in err.lower()
    assert not (folder / "run").exists()
