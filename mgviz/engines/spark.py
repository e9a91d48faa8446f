"""The Spark engine: the build steps that distribute honestly run on Spark primitives.

On Spark (``pyspark``, imported only when this engine is used – ``pip install 'mgviz[spark]'``):

* **weights** – each interaction's rating × recency weight and the per-(user, item) sums: DataFrame
  expressions and a ``groupBy``; the log's top rating and newest time are Spark aggregates too;
* **categories** – the users × categories interest mix P(c | u): the (user, item, weight) sums joined
  with each item's category shares and summed per (user, category); the smoothing towards the
  population's mix (a users × categories array, as the local engine has) is done on the driver;
* **ALS** – ``pyspark.ml.recommendation.ALS`` with ``implicitPrefs=True``, its factors collected into
  the same :class:`mgviz.levels.micro.ALSLevel` the local engine makes (scoring, top-k, fold-in, save and
  load are the level's); the level records that Spark's equation fitted it (confidence 1 + α·w, λ times
  the user's number of interactions) so that folding a user in solves the same equation;
* **segments** – ``pyspark.ml.clustering.KMeans`` over the user vectors (the best of a few seeded
  ``k-means||`` starts by training cost); the user vectors, the soft membership and the segment
  profiles are made on the driver.

On the driver, as in the local engine: the text encoder, keywords, EASE / item-kNN (EASE inverts an
items × items matrix), the time level, the semantic level, the cold-start forest, the K chart
(silhouette), stability and UMAP. The driver also holds the collected sparse users × items matrices
(what those steps and the saved run need). The manifest's ``engine`` says where each step ran.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.config import EngineConfig
from mgviz.engines import Engine, EngineUnavailable
from mgviz.levels.common import DAY

#: The version mgviz is tested with (``pip install 'mgviz[spark]'`` installs it).
PYSPARK_VERSION = "4.3.0"
DEFAULT_MASTER = "local[*]"
MISSING = (
    "the Spark engine needs PySpark, which is not installed: pip install 'mgviz[spark]' "
    f"(or pip install pyspark=={PYSPARK_VERSION}), and Java 17 or newer. The local engine "
    "(--engine local, the default) needs neither."
)
#: Spark ML's regParam: Spark multiplies it by each user's (item's) number of interactions, implicit does
#: not, so implicit's 0.05 is not the same penalty. Chosen on a validation split of the sample data
#: (docs/spark.md); set it with ``--spark-als-regularization``.
DEFAULT_ALS_REGULARIZATION = 0.01
DEFAULT_KMEANS_STARTS = 3
KMEANS_MAX_ITER = 100
#: Session settings mgviz starts with (``--spark-conf`` overrides them): Arrow for pandas conversions,
#: no console progress bars, UTC session time.
SESSION_DEFAULTS = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
}
#: ALS checkpoints its factors every this many iterations, so the lineage stays short: without it the
#: 15th iteration's tasks deserialise a lineage deep enough to overflow the executors' thread stacks
#: (``java.lang.StackOverflowError`` in ``ObjectInputStream``, seen on local[2] after a few builds).
ALS_CHECKPOINT_INTERVAL = 5
#: What each step the engine runs does on Spark and what is left to the driver (recorded in the manifest).
SPARK_STEPS = {
    "weights": "rating × recency weights and per-(user, item) sums as DataFrame aggregations; the sparse "
    "matrix collected to the driver",
    "encode items": "item texts deduplicated against mgviz's embedding cache on the driver; the new ones encoded "
    "on the executors (mapInPandas running the run's encoder, one model load per Python worker), cached on the driver",
    "categories": "users × categories sums as a DataFrame join and groupBy; smoothing and derived categories on the driver",
    "ALS": "pyspark.ml ALS (implicitPrefs) for the ALS part; EASE / item-kNN on the driver",
    "segments": "pyspark.ml KMeans over the user vectors; the vectors, membership and profiles on the driver",
}


def require_pyspark():
    """``pyspark``, or :class:`EngineUnavailable` saying how to install it."""
    try:
        import pyspark
    except ImportError:
        raise EngineUnavailable(MISSING) from None
    return pyspark


@contextlib.contextmanager
def _quiet():
    """PySpark warns on every pandas conversion that pandas >= 3 is not fully supported; mgviz's
    conversions (numbers and arrays of numbers) are covered by its tests, so that warning is noise."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
        yield


def spark_session(master: str | None = None, conf: dict | None = None, app_name: str = "mgviz"):
    """A Spark session on ``master`` (default ``local[*]``) with mgviz's defaults and ``conf``.

    Executors run this very Python (``PYSPARK_PYTHON`` defaults to ``sys.executable``; on a cluster the
    same path must exist on every node, or set ``PYSPARK_PYTHON`` yourself). On a ``local`` master the
    driver binds to 127.0.0.1 (``SPARK_LOCAL_IP``) and the web UI is off. An existing session is reused
    as Spark does (``getOrCreate``). Raises :class:`EngineUnavailable` when PySpark or Java is missing.
    """
    require_pyspark()
    # Under spark-submit the master (and the rest of the submit's settings) come from spark-submit: mgviz
    # sets one only when it was asked to (--master), so `spark-submit --master yarn …` is not overridden.
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ and master is None
    master = master or DEFAULT_MASTER
    if not submitted:  # spark-submit chose the Pythons already (PYSPARK_PYTHON / spark.pyspark.python)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    settings = dict(SESSION_DEFAULTS)
    if master.startswith("local") and not submitted:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        settings["spark.ui.enabled"] = "false"
    settings.update(conf or {})
    from pyspark.sql import SparkSession

    builder = SparkSession.builder if submitted else SparkSession.builder.master(master)
    builder = builder.appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    with _quiet():
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # noqa: BLE001 - py4j / pyspark raise several types when the JVM cannot start
            if "JAVA" in str(exc).upper():
                raise EngineUnavailable(
                    f"Spark could not start its JVM: it needs Java 17 or newer (check `java -version` and JAVA_HOME) "
                    f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
                ) from None
            raise
    spark.sparkContext.setLogLevel("ERROR")
    return spark


#: Texts per partition when the executors encode (at least one partition per core, up to the parallelism).
ENCODE_ROWS_PER_PARTITION = 2_000


@functools.lru_cache(maxsize=2)
def _executor_encoder(model: str, batch_size: int):
    """The encoder backend of ``model`` in an executor's Python worker, loaded once per worker. Models ship
    in packages (mgviz loads nothing from the network): the executors need the same packages."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from mgviz.encoder import backend_for

    backend = backend_for(model, "cpu", batch_size)
    backend.load()
    return backend


class SparkReadError(ValueError):
    """Spark could not read an input path (the message names it and says why)."""


#: A path Spark reads that is not a plain local file: a URL of a file system Spark knows.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def spark_path(path) -> bool:
    """Whether ``path`` is for Spark to read: a file-system URL (``hdfs://``, ``s3a://``, ``file://`` …) or a
    local folder (a Parquet data set as Spark writes it). Plain local files keep mgviz's own reader."""
    text = str(path)
    return bool(_SCHEME.match(text)) or Path(text).is_dir()


def spark_format(path) -> str:
    """``parquet``, ``csv`` or ``tsv`` from the path's extension (a folder or none: Parquet)."""
    name = str(path).rstrip("/").rsplit("/", 1)[-1].lower()
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    if name.endswith((".tsv", ".tsv.gz", ".inter", ".tab")):
        return "tsv"
    return "parquet"


def _spark_reason(exc: Exception) -> str:
    """What Spark's exception says, without the JVM's stack: its first line, error class dropped."""
    text = str(getattr(exc, "desc", None) or exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    line = re.sub(r"^\[[A-Z_.]+\]\s*", "", line)
    if "PATH_NOT_FOUND" in str(exc) or "Path does not exist" in line:
        return "no such file or folder"
    return line[:300]


class SparkEngine(Engine):
    """Runs the weights, category mix, ALS and K-means steps on Spark (see the module docstring).

    ``spark``: a session to use (tests share one); otherwise one is started on ``master`` with ``conf``
    when the first step needs it, and stopped when the build ends if ``stop_session``.
    ``als_regularization``: Spark ALS's regParam (:data:`DEFAULT_ALS_REGULARIZATION`); ``kmeans_starts``:
    seeded K-means starts, the lowest training cost kept (:data:`DEFAULT_KMEANS_STARTS`).
    """

    name = "spark"

    def __init__(self, spark=None, master: str | None = None, conf: dict | None = None,
                 als_regularization: float | None = None, kmeans_starts: int | None = None,
                 stop_session: bool = False):  # fmt: skip
        require_pyspark()  # fail before any work, with the message saying what to install
        EngineConfig("spark", master, dict(conf or {}), als_regularization, kmeans_starts)  # checks the values
        self._spark = spark
        self.master = master
        self.conf = dict(conf or {})
        self.als_regularization = (
            DEFAULT_ALS_REGULARIZATION if als_regularization is None else float(als_regularization)
        )
        self.kmeans_starts = DEFAULT_KMEANS_STARTS if kmeans_starts is None else int(kmeans_starts)
        self.stop_session = stop_session
        self.session_seconds = 0.0 if spark is not None else None
        self._info = self._session_info(spark) if spark is not None else None
        self.reads: list[dict] = []  # inputs read by Spark (read_table), recorded in the manifest
        self._on_driver: set[str] = set()  # own steps that ran on the driver after all (see _encode_items)
        self._encode_info: dict | None = None
        self._pairs = None  # the (u, i, w) sums of the build, cached on Spark between steps
        self._cached = []

    @classmethod
    def from_config(cls, config: EngineConfig) -> SparkEngine:
        return cls(master=config.master, conf=config.spark_conf, als_regularization=config.als_regularization,
                   kmeans_starts=config.kmeans_starts, stop_session=True)  # fmt: skip

    # ------------------------------------------------------------------ session
    @property
    def spark(self):
        if self._spark is None:
            t = time.perf_counter()
            self._spark = spark_session(self.master, self.conf)
            self.session_seconds = round(time.perf_counter() - t, 3)
            self._info = self._session_info(self._spark)
        return self._spark

    @staticmethod
    def _session_info(spark) -> dict:
        sc = spark.sparkContext
        return {"master": sc.master, "spark_version": spark.version, "default_parallelism": sc.defaultParallelism}

    def _frame(self, frame: pd.DataFrame):
        with _quiet():
            return self.spark.createDataFrame(frame)

    def _collect(self, sdf) -> pd.DataFrame:
        with _quiet():
            return sdf.toPandas()

    # ------------------------------------------------------------------ input
    def read_table(self, path: str, role: str = "interactions") -> pd.DataFrame:
        """A table read by Spark from any path it reads (a Parquet folder or file, CSV / TSV with a header;
        local, ``hdfs://``, ``s3a://``, ``gs://``, ``abfs://`` – what the cluster has), collected to the
        driver for mgviz's validation. The format is the path's extension (a folder without one: Parquet).
        Raises :class:`SparkReadError` with the path and what went wrong, in plain words."""
        fmt = spark_format(path)
        t = time.perf_counter()
        reader = self.spark.read
        try:
            with _quiet():
                if fmt == "parquet":
                    sdf = reader.parquet(path)
                else:
                    sdf = reader.options(header="true", sep="\t" if fmt == "tsv" else ",", inferSchema="false",
                                         mode="PERMISSIVE").csv(path)  # fmt: skip
                frame = sdf.toPandas()
        except Exception as exc:  # noqa: BLE001 - AnalysisException, Py4JJavaError, … : one plain message
            raise SparkReadError(f"{path}: Spark could not read it as {fmt.upper()} – {_spark_reason(exc)}") from None
        # RecBole atomic files name their columns "user_id:token": the types are not needed here
        frame.columns = [re.sub(r":(token|token_seq|float|float_seq)$", "", str(c)) for c in frame.columns]
        frame.attrs["mgviz.source"] = path
        self.reads.append({"role": role, "path": path, "format": fmt, "rows": len(frame),
                           "seconds": round(time.perf_counter() - t, 3)})  # fmt: skip
        return frame

    # ------------------------------------------------------------------ the engine interface
    def stages(self) -> dict:
        from mgviz import pipeline

        return {
            "weights": self._weights,
            "encode items": self._encode_items,
            "categories": lambda b: pipeline._categories(b, category_mix=self._category_mix),
            "ALS": lambda b: pipeline._micro(b, fit_als_level=self._als_level),
            "segments": lambda b: pipeline._segments(b, fit_segments=self.fit_segments),
        }

    def finish(self, build) -> None:
        for frame in self._cached:
            with contextlib.suppress(Exception):  # a stopped session has nothing left to free
                frame.unpersist()
        self._cached, self._pairs = [], None
        if self.stop_session and self._spark is not None:
            self._spark.stop()
            self._spark = None

    def describe(self, steps: list[str]) -> dict:
        own = self.stages()
        return {
            "name": self.name,
            **(self._info or {}),
            "conf": dict(self.conf),
            "session_seconds": self.session_seconds,
            "inputs_read_by_spark": list(self.reads),
            "stages": {step: "spark" if step in own and step not in self._on_driver else "driver" for step in steps},
            "spark_steps": {step: SPARK_STEPS[step] for step in steps if step in own and step not in self._on_driver},
            "encode_items": self._encode_info,
            "als": {
                "regParam": self.als_regularization,
                "confidence": "1 + alpha * weight",
                "regularization": "regParam × the user's (item's) number of interactions",
            },  # fmt: skip
            "kmeans": {"starts": self.kmeans_starts, "max_iter": KMEANS_MAX_ITER, "init": "k-means||"},
        }

    # ------------------------------------------------------------------ steps
    def _encode_items(self, b) -> None:
        """Item embeddings with the texts the cache lacks encoded on the executors (an encoder that is not
        mgviz's own – a test's stand-in – encodes on the driver, and the manifest says so)."""
        from mgviz import pipeline
        from mgviz.encoder import Encoder

        if isinstance(b.encoder, Encoder):
            self._encode_info = {"texts": 0, "note": "every item text was in the embedding cache"}
            pipeline._encode_items(b, compute=self.encode_texts)
        else:
            self._on_driver.add("encode items")
            pipeline._encode_items(b)

    def encode_texts(self, encoder, texts: list[str]) -> np.ndarray:
        """``encoder``'s vectors of ``texts``, computed on the executors: the texts are spread over
        partitions and each Python worker loads the model once (:func:`_executor_encoder`)."""
        t = time.perf_counter()
        n = len(texts)
        parts = max(1, min(self.spark.sparkContext.defaultParallelism, -(-n // ENCODE_ROWS_PER_PARTITION)))
        model, batch = encoder.model, encoder.batch_size

        def encode(frames):
            backend = _executor_encoder(model, batch)
            for pdf in frames:
                vecs = backend.encode(pdf["text"].tolist()).astype(np.float32)
                yield pd.DataFrame({"row": pdf["row"].to_numpy(), "vec": list(vecs)})

        texts_sdf = self._frame(pd.DataFrame({"row": np.arange(n, dtype=np.int64), "text": list(texts)}))
        out = self._collect(texts_sdf.repartition(parts).mapInPandas(encode, "row long, vec array<float>"))
        order = np.argsort(out["row"].to_numpy(), kind="stable")
        vecs = np.vstack([np.asarray(v, dtype=np.float32) for v in out["vec"].to_numpy()[order]])
        self._encode_info = {"model": model, "texts": n, "partitions": parts,
                             "seconds": round(time.perf_counter() - t, 3)}  # fmt: skip
        return vecs

    def _weights(self, b) -> None:
        """Interaction weights as :func:`mgviz.levels.common.interaction_weights` defines them, summed per
        (user, item) on Spark; the sums are collected into the driver's sparse matrices."""
        from pyspark.sql import functions as F

        ds, cfg = b.dataset, b.config
        u, i = ds.codes()
        cols = {"u": np.asarray(u, np.int32), "i": np.asarray(i, np.int32)}
        if ds.has_rating:
            cols["rating"] = ds.interactions["rating"].to_numpy(np.float64)
        if ds.has_time:
            cols["ts"] = ds.interactions["timestamp"].to_numpy(np.float64)
        log = self._frame(pd.DataFrame(cols))
        ref = self._weight_reference(log, ds)
        weight = F.lit(1.0)
        if ds.has_rating and ref["max_rating"] > 0:
            weight = weight * F.greatest(F.col("rating") / F.lit(ref["max_rating"]), F.lit(0.05))
        if ds.has_time and cfg.half_life_days:
            age_days = F.greatest(F.lit(ref["t_max"]) - F.col("ts"), F.lit(0.0)) / F.lit(DAY)
            weight = weight * F.pow(F.lit(0.5), age_days / F.lit(float(cfg.half_life_days)))
        # each weight as float32 before summing, as the local engine does
        pairs = (log.select("u", "i", weight.cast("float").alias("w")).groupBy("u", "i")
                 .agg(F.sum("w").cast("float").alias("w")).cache())  # fmt: skip
        self._cached.append(pairs)
        self._pairs = pairs
        got = self._collect(pairs)
        shape = (len(ds.users), len(ds.items))
        weighted = sp.csr_matrix((got["w"].to_numpy(np.float32), (got["u"].to_numpy(), got["i"].to_numpy())),
                                 shape=shape, dtype=np.float32)  # fmt: skip
        weighted.sum_duplicates()
        weighted.sort_indices()
        b.out["weighted"] = weighted
        b.out["seen"] = (weighted > 0).astype(np.float32).tocsr()
        b.out["popularity"] = np.asarray(weighted.sum(axis=0)).ravel()
        b.out["weight_ref"] = ref

    def _weight_reference(self, log, ds) -> dict:
        """:func:`mgviz.levels.common.weight_reference` as Spark aggregates (NaN left out, as nanmax does)."""
        from pyspark.sql import functions as F

        ref = {"max_rating": 1.0, "t_max": 0.0}
        aggs = []
        if ds.has_rating:
            aggs.append(F.max(F.when(~F.isnan("rating"), F.col("rating"))).alias("max_rating"))
        if ds.has_time:
            aggs.append(F.max(F.when(~F.isnan("ts"), F.col("ts"))).alias("t_max"))
        if aggs and len(ds.interactions):
            row = log.agg(*aggs).collect()[0].asDict()
            if row.get("max_rating") is not None:
                ref["max_rating"] = float(row["max_rating"])
            if row.get("t_max") is not None:
                ref["t_max"] = float(row["t_max"])
        return ref

    def _category_mix(self, b) -> np.ndarray:
        """P(c | u) as :func:`mgviz.levels.meso.category_mix`: the raw users × categories sums on Spark."""
        from pyspark.sql import functions as F

        from mgviz.levels import meso

        cats = sp.coo_matrix(b.item_cats)
        shares = self._frame(pd.DataFrame({"i": cats.row.astype(np.int32), "c": cats.col.astype(np.int32),
                                           "share": cats.data.astype(np.float64)}))  # fmt: skip
        sums = (self._pairs.join(F.broadcast(shares), "i").groupBy("u", "c")
                .agg(F.sum(F.col("w").cast("double") * F.col("share")).alias("s")))  # fmt: skip
        got = self._collect(sums)
        raw = np.zeros((len(b.dataset.users), cats.shape[1]), np.float64)
        raw[got["u"].to_numpy(), got["c"].to_numpy()] = got["s"].to_numpy(np.float64)
        prior, scale = meso.mix_prior(raw)
        return meso.smooth_mix(raw, prior, scale)

    def _als_level(self, weighted: sp.csr_matrix, config):
        """Spark ML implicit ALS on the build's (u, i, w) sums → an :class:`ALSLevel` (rows without
        interactions get zero factors, as folding in an empty history gives)."""
        from pyspark.ml.recommendation import ALS

        from mgviz.levels.micro import ALSLevel

        als = ALS(rank=config.factors, maxIter=config.iterations, regParam=self.als_regularization,
                  alpha=config.alpha, implicitPrefs=True, nonnegative=False, seed=config.seed,
                  checkpointInterval=ALS_CHECKPOINT_INTERVAL, userCol="u", itemCol="i", ratingCol="w")  # fmt: skip
        with _quiet(), self._checkpoints():
            model = als.fit(self._pairs)
        n_users, n_items = weighted.shape
        params = {"alpha": config.alpha, "regularization": self.als_regularization, "factors": config.factors,
                  "confidence": "one_plus_alpha", "regularization_scale": "per_interaction", "fitted_by": "spark"}  # fmt: skip
        return ALSLevel("als", n_items, params, user_side=self._factors(model.userFactors, n_users, config.factors),
                        item_side=self._factors(model.itemFactors, n_items, config.factors))  # fmt: skip

    @contextlib.contextmanager
    def _checkpoints(self):
        """A checkpoint folder for ALS (it checkpoints only when the context has one): the session's own
        (``spark.checkpoint.dir`` or ``setCheckpointDir``) when set – on a cluster, a shared path –, else,
        on a local master, a temporary folder kept for the session and removed when the process exits."""
        sc = self.spark.sparkContext
        if sc.getCheckpointDir() is None and str(sc.master).startswith("local"):
            folder = tempfile.mkdtemp(prefix="mgviz-spark-checkpoints-")
            atexit.register(shutil.rmtree, folder, True)
            sc.setCheckpointDir(folder)
        yield

    def _factors(self, frame, n: int, rank: int) -> np.ndarray:
        got = self._collect(frame)
        out = np.zeros((n, rank), np.float32)
        if len(got):
            out[got["id"].to_numpy()] = np.stack(got["features"].to_numpy()).astype(np.float32)
        return out

    def fit_segments(self, vectors: np.ndarray, k: int, seed: int = 0, n_init=None, notes: list | None = None):
        """K-means with ``k`` segments on Spark; returns (segment per user, centroids, training cost) like
        :func:`mgviz.levels.macro.fit_segments`. The best of ``kmeans_starts`` seeded starts; when Spark
        finds fewer than ``k`` non-empty segments (fewer distinct users), K is lowered and ``notes`` says so."""
        from pyspark.ml.clustering import KMeans
        from pyspark.ml.functions import array_to_vector

        n = len(vectors)
        if k < 1 or k > n:
            raise ValueError(f"k={k} segments needs 1 <= k <= number of users ({n})")
        frame = self._frame(pd.DataFrame({"row": np.arange(n, dtype=np.int64),
                                          "x": list(np.asarray(vectors, np.float64))}))  # fmt: skip
        points = frame.select("row", array_to_vector("x").alias("features")).cache()
        try:
            best = None
            for start in range(n_init or self.kmeans_starts):
                with _quiet():
                    model = KMeans(k=k, seed=seed + start, maxIter=KMEANS_MAX_ITER, initMode="k-means||").fit(points)
                cost = float(model.summary.trainingCost)
                if best is None or cost < best[0]:
                    best = (cost, model)
            cost, model = best
            got = self._collect(model.transform(points).select("row", "prediction"))
        finally:
            points.unpersist()
        labels = np.empty(n, np.int32)
        labels[got["row"].to_numpy()] = got["prediction"].to_numpy(np.int32)
        centroids = np.asarray(model.clusterCenters(), np.float32)
        used = np.unique(labels)
        if len(used) < k:
            if notes is not None:
                notes.append(f"K-means found only {len(used)} non-empty segments (the users have few distinct "
                             f"interest profiles), so K = {len(used)} instead of {k}")  # fmt: skip
            labels = np.searchsorted(used, labels).astype(np.int32)
            centroids = centroids[used]
        return labels, centroids, cost
