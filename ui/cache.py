"""Cached loaders and derived results, each bounded by ``max_entries``.

Heavy things are cached per model *key* (a :class:`ModelKey`: where the model came
from, the settings it was built with, the K it was re-segmented to), never per
weights: a slider move only fuses and ranks. Arguments starting with ``_`` are not
hashed by Streamlit; the key before them identifies them. Keys are compared and
hashed field by field and never parsed back from a string.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from mgviz import explore, hierarchy, whatif
from mgviz.encoder import Encoder
from mgviz.evaluation.persist import has_evaluation, load_evaluation
from mgviz.export import profiles_frame
from mgviz.io import load_dataset, read_table
from mgviz.io.friends import load_friends
from mgviz.levels.meso import category_mix_over_time
from mgviz.report_html import segment_report_html
from mgviz.runs import load_run
from ui import state
from ui.evaljob import EvalJob

ROOT = Path(__file__).resolve().parent.parent
#: The run the app opens on; ``MGVIZ_RUN`` points elsewhere (tests, other data).
DEFAULT_RUN = ROOT / "runs" / "sample"
SAMPLE_DATA = ROOT / "sample_data"


#: Environment variable naming the run the app opens on.
RUN_ENV = "MGVIZ_RUN"


def default_run_dir() -> Path:
    return Path(os.environ.get(RUN_ENV, DEFAULT_RUN))


def is_bundled_sample(run_dir: Path) -> bool:
    """Whether ``run_dir`` is the bundled sample run (``make sample-run``), not one ``MGVIZ_RUN`` names."""
    return Path(run_dir).resolve() == DEFAULT_RUN.resolve()


def run_label(run_dir: Path) -> str:
    """What the sidebar calls a run opened from disk: "sample run (sample)" or "run mine (MGVIZ_RUN)"."""
    return (
        f"sample run ({Path(run_dir).name})" if is_bundled_sample(run_dir) else f"run {Path(run_dir).name} ({RUN_ENV})"
    )


@dataclasses.dataclass(frozen=True)
class ModelKey:
    """What identifies the model a page shows: the key of every per-model cache.

    A model opened from a run folder is named by the folder and its manifest's modification
    time (a rebuilt run gets a new key); a model built in the app by its data and a digest of
    its settings; a model re-segmented on the Macro page by the key it came from and its new K.

    Parameters
    ----------
    run_dir : str, optional
        Resolved folder of a run opened from disk.
    mtime_ns : int
        Modification time of that run's ``manifest.json`` (0 when it has none).
    data : str or ModelKey, optional
        The data a model was built from in the app: the digest of an upload, or the key of
        the open model whose data was rebuilt.
    settings : str, optional
        Digest of the build settings (``BuildConfig.to_dict()``).
    k : int, optional
        K the model was re-segmented to (``None``: the segments it was built with).
    """

    run_dir: str | None = None
    mtime_ns: int = 0
    data: str | ModelKey | None = None
    settings: str | None = None
    k: int | None = None

    @classmethod
    def for_run(cls, run_dir: Path) -> ModelKey:
        manifest = Path(run_dir) / "manifest.json"
        stamp = manifest.stat().st_mtime_ns if manifest.exists() else 0
        return cls(run_dir=str(Path(run_dir).resolve()), mtime_ns=stamp)

    @classmethod
    def for_build(cls, data: str | ModelKey, settings: dict) -> ModelKey:
        return cls(data=data, settings=explore.digest(settings))

    def resegmented(self, k: int) -> ModelKey:
        """The key of this model with its segments replaced by those for ``k``."""
        return dataclasses.replace(self, k=int(k))

    @property
    def stored_run(self) -> Path | None:
        """The run folder holding exactly this model (``None`` for a build or a re-segmentation)."""
        return Path(self.run_dir) if self.run_dir is not None and self.k is None else None


def run_key(run_dir: Path) -> ModelKey:
    """Key of the model stored in ``run_dir``."""
    return ModelKey.for_run(run_dir)


@st.cache_resource(max_entries=4, show_spinner="Opening the run…")
def open_run(key: ModelKey):
    """The model stored in ``key.run_dir`` (the key changes when the run is rebuilt)."""
    return load_run(key.stored_run)


@st.cache_resource(max_entries=2, show_spinner="Loading the text encoder…")
def encoder_for(name: str) -> Encoder:
    """A text encoder per model name or path (the model itself loads on first use)."""
    return Encoder(name)


@st.cache_data(max_entries=16, show_spinner=False)
def read_upload(file_id: str, name: str, _data: bytes) -> pd.DataFrame:
    """An uploaded file's table (for column mapping); raises ``InputError`` when unreadable.

    Keyed by the upload's id, so a large file is not hashed on every rerun.
    """
    return read_table(_data, name=name)


@st.cache_resource(max_entries=4, show_spinner="Checking the files…")
def load_upload(upload_key: str, _files: dict, mapping: dict, max_bytes: int, friends_directed: bool = False):
    """``load_dataset`` on uploaded files (role -> (name, bytes)) with the chosen columns, then – when a
    ``"friends"`` file is given – ``load_friends`` into the same report, as ``mgviz build --friends FILE
    [--friends-directed]`` does: the dataset carries the edges, so a build from it has the social level.

    ``upload_key`` is a digest of the uploads' ids and names, of the mapping and of ``friends_directed``.
    """
    del upload_key
    kwargs = {key: value for key, value in mapping.items() if value}
    dataset, report = load_dataset(
        _files["interactions"], _files.get("items"), _files.get("users"), max_bytes=max_bytes, **kwargs
    )
    if _files.get("friends") is not None:
        dataset, report = load_friends(
            _files["friends"], dataset, directed=friends_directed, report=report, max_bytes=max_bytes
        )
    return dataset, report


@st.cache_data(max_entries=8, show_spinner=False)
def data_summary(key: ModelKey | str, _dataset) -> dict:
    """Counts and distributions of the data of ``key`` (a model's key, or an upload's digest)."""
    del key
    return explore.data_summary(_dataset)


@st.cache_resource(max_entries=4, show_spinner="Counting words for segment profiles…")
def term_stats(key: ModelKey, _model) -> explore.TermStats:
    del key
    return explore.term_stats(_model)


@st.cache_resource(max_entries=24, show_spinner="Re-segmenting users…")
def segmentation(key: ModelKey, k: int, _model) -> explore.Segmentation:
    """Segments for ``k`` (the model's own for its K, otherwise K-means on the stored vectors)."""
    if k == len(_model.profiles):
        return explore.current_segmentation(_model)
    return explore.resegment(_model, k, term_stats(key, _model))


@st.cache_data(max_entries=24, show_spinner="Re-running K-means to see how stable the segments are…")
def stability(key: ModelKey, k: int, _model) -> dict:
    """Segment stability for ``k`` (the build's record for the model's own segments, otherwise measured)."""
    return explore.segmentation_stability(_model, segmentation(key, k, _model))


@st.cache_data(max_entries=24, show_spinner=False)
def homophily(key: ModelKey, k: int, _model) -> pd.DataFrame:
    """How much the segments for ``k`` follow the friendship graph (empty without a friends file)."""
    return explore.homophily(_model, segmentation(key, k, _model).segments)


@st.cache_data(max_entries=4, show_spinner="Re-running K-means for each K…")
def stability_per_k(key: ModelKey, _model) -> pd.DataFrame:
    """Mean ARI across seeds for each K of the K chart."""
    del key
    return explore.stability_per_k(_model)


@st.cache_data(max_entries=4, show_spinner=False)
def category_time(key: ModelKey, _model) -> pd.DataFrame:
    """Category shares per month (per quarter beyond 3 years, per year beyond 10)."""
    del key
    ts = _model.dataset.interactions["timestamp"]
    years = (ts.max() - ts.min()) / (365.25 * 86400) if len(ts) else 0
    freq = "MS" if years <= 3 else "QS" if years <= 10 else "YS"
    return category_mix_over_time(_model.dataset, _model.item_categories, _model.categories, freq=freq)


@st.cache_data(max_entries=4, show_spinner="Comparing each user's earlier and later interest…")
def drift_table(key: ModelKey, _model) -> pd.DataFrame:
    """Every user's interest drift (earlier vs. later half of the history), most drifting first."""
    del key
    return explore.drift_table(_model)


@st.cache_data(max_entries=32, show_spinner=False)
def drift_view(key: ModelKey, row: int, _model) -> pd.DataFrame:
    """One user's drift view (history halves and two levels' lists): the page reruns on every widget."""
    del key
    return explore.drift_view(_model, row)


@st.cache_resource(max_entries=4, show_spinner=False)
def whatif_context(key: ModelKey, _model) -> whatif.WhatIfContext:
    """What the What-if page needs besides the model – the run's encoder, the cold-start predictor (fitted
    on first use), the keyword weights – once per model."""
    del key
    return whatif.WhatIfContext(_model, encoder_for(_model.encoder_model))


@st.cache_resource(max_entries=4, show_spinner="Fitting the cold-start predictor…")
def cold_start_ready(key: ModelKey, _model) -> bool:
    """Fit the cold-start predictor of ``key``'s what-if context now (behind a spinner); whether there is one."""
    return whatif_context(key, _model).predictor is not None


@st.cache_data(max_entries=4, show_spinner=False)
def item_choices(key: ModelKey, _model) -> dict[str, str]:
    """Item id -> "title · categories (id)" for a picker, most consumed first (the first
    :data:`MAX_ITEM_CHOICES` of a big catalogue)."""
    del key
    items = _model.dataset.items
    popularity = np.asarray(_model.seen.sum(axis=0)).ravel()
    order = np.argsort(-popularity, kind="stable")[:MAX_ITEM_CHOICES]
    ids, titles = items["item_id"].to_numpy(), items["title"].fillna("").to_numpy()
    cats = items["categories"].to_numpy()
    return {str(ids[i]): f"{titles[i] or ids[i]} · {', '.join(cats[i]) or 'no category'} ({ids[i]})" for i in order}


#: Items a picker offers at most (a select box with more gets slow in the browser).
MAX_ITEM_CHOICES = 5000


@st.cache_data(max_entries=4, show_spinner=False)
def top_categories(key: ModelKey, _model) -> list[list[str]]:
    del key
    return _model.top_categories(3)


@st.cache_data(max_entries=4, show_spinner=False)
def report_html(key: ModelKey, _model) -> str:
    del key
    return segment_report_html(_model)


@st.cache_data(max_entries=4, show_spinner=False)
def profiles(key: ModelKey, _model) -> pd.DataFrame:
    del key
    return profiles_frame(_model)


def eval_job(key: ModelKey, model) -> EvalJob:
    """This session's background evaluation of ``model`` (see :func:`shared_eval_job`).

    The session keeps the job it got in its own state: the shared cache holds only two jobs, so
    with three sessions on three models every rerun would otherwise evict another session's job
    and start its evaluation again from scratch (a new thread each time, the old one still running).
    """
    held = st.session_state.get(state.EVAL_JOB)
    if held is not None and held[0] == key:
        return held[1]
    job = shared_eval_job(key, model)
    st.session_state[state.EVAL_JOB] = (key, job)
    return job


@st.cache_resource(max_entries=2, show_spinner=False)
def shared_eval_job(key: ModelKey, _model) -> EvalJob:
    """The background held-out evaluation of the model's data and settings (started once per key).

    A run built with ``mgviz build --evaluate`` (as ``make run`` builds the sample) carries its
    evaluation: it is loaded instead of refitting, so the metrics panel is ready at once – but only
    while the model is that run as stored; a re-segmented copy is evaluated with its own K.
    """
    saved = saved_evaluation_dir(key)
    factory = None
    if saved is not None:

        def factory(*_args, **_kwargs):
            return load_evaluation(saved)

    return EvalJob(_model.dataset, _model.config, encoder_for(_model.config.model), factory=factory).start()


def saved_evaluation_dir(key: ModelKey) -> Path | None:
    """The run folder holding exactly the model of ``key``, when it also holds a saved evaluation."""
    folder = key.stored_run
    return folder if folder is not None and has_evaluation(folder) else None


@st.cache_resource(max_entries=4, show_spinner=False)
def keyword_categories(key: ModelKey, _model) -> hierarchy.KeywordCategories:
    """The users' keyword shares and the words' category shares behind the interest hierarchy."""
    del key
    return hierarchy.keyword_categories(_model)


@st.cache_data(max_entries=4, show_spinner="Building the interest hierarchy…")
def interest_hierarchy(key: ModelKey, _model) -> pd.DataFrame:
    """Segment → category → keyword nodes of the model (:func:`mgviz.hierarchy.interest_hierarchy`)."""
    return hierarchy.interest_hierarchy(_model, state=keyword_categories(key, _model))


@st.cache_data(max_entries=32, show_spinner=False)
def hierarchy_members(key: ModelKey, node_id: str, n_users: int, _model) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The users (at most ``n_users``) and items behind one node of the interest hierarchy."""
    return hierarchy.hierarchy_members(_model, node_id, n_users=n_users, state=keyword_categories(key, _model))
