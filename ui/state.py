"""Session-state keys of the dashboard, initialised in one place.

Values that must survive leaving a page live under the ``DATA_*`` / ``MODEL_*``
/ ``FUSION_*`` keys below. Streamlit drops a widget's own key when a run does
not draw it, so a widget that should remember its value across pages is given
a separate ``w.*`` key and synced with :func:`bind` / :func:`store`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from mgviz.pipeline import DEFAULT_WEIGHTS
from mgviz.schema import LEVELS

# ---- the model every page shows
MODEL = "mgviz.model"  #: InterestModel
MODEL_KEY = "mgviz.model_key"  #: ui.cache.ModelKey of the model (the key of every per-model cache)
MODEL_SOURCE = "mgviz.model_source"  #: human description ("sample run …", "built from upload …")
MODEL_ERROR = "mgviz.model_error"  #: message when the default run could not be opened
EVAL_JOB = "mgviz.eval_job"  #: (model key, EvalJob) of the held-out evaluation this session follows

# ---- data loaded on the Data page (may not be modelled yet)
DATA = "mgviz.data"  #: Dataset
DATA_TOKEN = "mgviz.data_token"
DATA_REPORT = "mgviz.data_report"  #: ValidationReport of the last successful load
DATA_ERROR = "mgviz.data_error"  #: (message, report frame) of the last failed load, or None
DATA_NAMES = "mgviz.data_names"  #: role -> file name of the loaded data
DATA_SOURCE = "mgviz.data_source"  #: "Sample data" or "Upload files" (the Data page's choice)
BUILD_JOB = "mgviz.build_job"  #: ui.buildjob.BuildJob of this session's latest build, or None
BUILD_MESSAGE = "mgviz.build_message"  #: (kind, text): outcome of the build that just finished, shown once

# ---- fusion (Recommendations / Export)
WEIGHTS = "mgviz.weights"  #: dict level -> weight
PINNED = "mgviz.pinned"  #: dict level -> weight, or None
DIVERSITY = "mgviz.diversity"  #: MMR λ of the lists (0 = the fused lists)
SIMILARITY = "mgviz.similarity"  #: what MMR's similarity is measured on: "categories" or "embeddings"
PINNED_RERANK = "mgviz.pinned_rerank"  #: {"diversity", "similarity"} pinned with PINNED, or None
LIST_N = "mgviz.n"  #: list length
USER = "mgviz.user"  #: selected user id (Micro and Recommendations)
SEGMENT = "mgviz.segment"  #: segment chosen on the Meso page
MACRO_K = "mgviz.macro_k"  #: K shown on the Macro page

DEFAULTS: dict[str, Any] = {
    MODEL: None,
    MODEL_KEY: None,
    MODEL_SOURCE: "",
    MODEL_ERROR: None,
    EVAL_JOB: None,
    DATA: None,
    DATA_TOKEN: None,
    DATA_REPORT: None,
    DATA_ERROR: None,
    DATA_NAMES: {},
    DATA_SOURCE: "Sample data",
    BUILD_JOB: None,
    WEIGHTS: None,
    PINNED: None,
    DIVERSITY: 0.0,
    SIMILARITY: "categories",
    PINNED_RERANK: None,
    LIST_N: 10,
    USER: None,
    SEGMENT: 0,
    MACRO_K: None,
}


def init() -> None:
    """Create every key with its default (existing values are kept)."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = dict(value) if isinstance(value, dict) else value


def set_model(model, key, source: str) -> None:
    """Make ``model`` the one every page shows (``key``: its ``ui.cache.ModelKey``); resets what depends on the
    previous model."""
    st.session_state[MODEL] = model
    st.session_state[MODEL_KEY] = key
    st.session_state[MODEL_SOURCE] = source
    st.session_state[MODEL_ERROR] = None
    st.session_state[WEIGHTS] = normalised_weights(model.config.weights)
    st.session_state[PINNED] = None
    st.session_state[PINNED_RERANK] = None
    st.session_state[MACRO_K] = None
    st.session_state[SEGMENT] = 0
    if st.session_state.get(USER) not in set(map(str, model.user_ids)):
        st.session_state[USER] = default_user(model)
    for level in LEVELS:  # the sliders pick the new weights up
        st.session_state.pop(widget_key(f"weight.{level}"), None)


def rerank_setting() -> dict:
    """The session's MMR re-ranking: ``{"diversity": λ, "similarity": ...}`` (keyword arguments of
    ``InterestModel.recommend`` and ``explore.user_list``)."""
    return {"diversity": float(st.session_state.get(DIVERSITY) or 0.0),
            "similarity": st.session_state.get(SIMILARITY) or "categories"}  # fmt: skip


def default_user(model) -> str | None:
    """The most active user: a sensible first pick with a rich history."""
    if len(model.user_ids) == 0:
        return None
    counts = model.dataset.interactions["user_id"].value_counts()
    return str(counts.index[0]) if len(counts) else str(model.user_ids[0])


def normalised_weights(weights: dict | None) -> dict[str, float]:
    """Every level present (a level the weights do not name gets 0), rounded to the slider step."""
    weights = dict(weights) if weights else dict(DEFAULT_WEIGHTS)
    return {level: round(float(weights.get(level, 0.0)), 2) for level in LEVELS}


def widget_key(name: str) -> str:
    """Key of a widget that mirrors a persistent value."""
    return f"w.{name}"


def bind(name: str, store_key: str) -> str:
    """Seed the widget ``name`` from the persistent ``store_key`` (when the widget has no value yet).

    Returns the widget key to pass to the widget; pair it with ``on_change=store, args=(name, store_key)``.
    """
    key = widget_key(name)
    if key not in st.session_state and st.session_state.get(store_key) is not None:
        st.session_state[key] = st.session_state[store_key]
    return key


def store(name: str, store_key: str) -> None:
    """Copy the widget ``name``'s value to the persistent ``store_key`` (an ``on_change`` callback)."""
    st.session_state[store_key] = st.session_state[widget_key(name)]
