"""Cached loaders and derived results, each bounded by ``max_entries``.

Heavy things are cached per model *token* (a string naming the data and the
settings it was built with), never per weights: a slider move only fuses and
ranks. Arguments starting with ``_`` are not hashed by Streamlit; the token
before them identifies them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from mgviz import explore
from mgviz.encoder import Encoder
from mgviz.evaluation.persist import has_evaluation, load_evaluation
from mgviz.export import profiles_frame
from mgviz.io import load_dataset, read_table
from mgviz.levels.meso import category_mix_over_time
from mgviz.report_html import segment_report_html
from mgviz.runs import load_run
from ui import state
from ui.evaljob import EvalJob

ROOT = Path(__file__).resolve().parent.parent
#: The run the app opens on; ``MGVIZ_RUN`` points elsewhere (tests, other data).
DEFAULT_RUN = ROOT / "runs" / "sample"
SAMPLE_DATA = ROOT / "sample_data"


def default_run_dir() -> Path:
    return Path(os.environ.get("MGVIZ_RUN", DEFAULT_RUN))


def run_token(run_dir: Path) -> str:
    """Token of a run directory: its path and the time its manifest was written."""
    manifest = Path(run_dir) / "manifest.json"
    stamp = manifest.stat().st_mtime_ns if manifest.exists() else 0
    return f"run:{Path(run_dir).resolve()}:{stamp}"


@st.cache_resource(max_entries=4, show_spinner="Opening the run…")
def open_run(run_dir: str, token: str):
    """The model stored in ``run_dir`` (``token`` changes when the run is rebuilt)."""
    del token
    return load_run(run_dir)


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
def load_upload(token: str, _files: dict, mapping: dict, max_bytes: int):
    """``load_dataset`` on uploaded files (role -> (name, bytes)) with the chosen columns."""
    del token
    kwargs = {key: value for key, value in mapping.items() if value}
    return load_dataset(_files["interactions"], _files.get("items"), _files.get("users"), max_bytes=max_bytes, **kwargs)


@st.cache_data(max_entries=8, show_spinner=False)
def data_summary(token: str, _dataset) -> dict:
    del token
    return explore.data_summary(_dataset)


@st.cache_resource(max_entries=4, show_spinner="Counting words for segment profiles…")
def term_stats(token: str, _model) -> explore.TermStats:
    del token
    return explore.term_stats(_model)


@st.cache_resource(max_entries=24, show_spinner="Re-segmenting users…")
def segmentation(token: str, k: int, _model) -> explore.Segmentation:
    """Segments for ``k`` (the model's own for its K, otherwise K-means on the stored vectors)."""
    if k == len(_model.profiles):
        return explore.current_segmentation(_model)
    return explore.resegment(_model, k, term_stats(token, _model))


@st.cache_data(max_entries=4, show_spinner=False)
def category_time(token: str, _model) -> pd.DataFrame:
    """Category shares per month (per quarter beyond 3 years, per year beyond 10)."""
    del token
    ts = _model.dataset.interactions["timestamp"]
    years = (ts.max() - ts.min()) / (365.25 * 86400) if len(ts) else 0
    freq = "MS" if years <= 3 else "QS" if years <= 10 else "YS"
    return category_mix_over_time(_model.dataset, _model.item_categories, _model.categories, freq=freq)


@st.cache_data(max_entries=4, show_spinner=False)
def top_categories(token: str, _model) -> list[list[str]]:
    del token
    return _model.top_categories(3)


@st.cache_data(max_entries=4, show_spinner=False)
def report_html(token: str, _model) -> str:
    del token
    return segment_report_html(_model)


@st.cache_data(max_entries=4, show_spinner=False)
def profiles(token: str, _model) -> pd.DataFrame:
    del token
    return profiles_frame(_model)


def eval_job(token: str, model) -> EvalJob:
    """This session's background evaluation of ``model`` (see :func:`shared_eval_job`).

    The session keeps the job it got in its own state: the shared cache holds only two jobs, so
    with three sessions on three models every rerun would otherwise evict another session's job
    and start its evaluation again from scratch (a new thread each time, the old one still running).
    """
    held = st.session_state.get(state.EVAL_JOB)
    if held is not None and held[0] == token:
        return held[1]
    job = shared_eval_job(token, model)
    st.session_state[state.EVAL_JOB] = (token, job)
    return job


@st.cache_resource(max_entries=2, show_spinner=False)
def shared_eval_job(token: str, _model) -> EvalJob:
    """The background held-out evaluation of the model's data and settings (started once per token).

    A run built with ``mgviz build --evaluate`` (as ``make run`` builds the sample) carries its
    evaluation: it is loaded instead of refitting, so the metrics panel is ready at once.
    """
    saved = _saved_evaluation_dir(token)
    factory = None
    if saved is not None:

        def factory(*_args, **_kwargs):
            return load_evaluation(saved)

    return EvalJob(_model.dataset, _model.config, encoder_for(_model.config.model), factory=factory).start()


def _saved_evaluation_dir(token: str) -> Path | None:
    """The run folder behind a ``run:`` token, when it holds a saved evaluation."""
    if not token.startswith("run:"):
        return None
    folder = Path(token[len("run:") :].rsplit(":", 1)[0])
    return folder if has_evaluation(folder) else None
