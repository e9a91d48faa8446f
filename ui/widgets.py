"""Small Streamlit building blocks shared by the pages."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import streamlit as st

from mgviz import explore
from mgviz.plots import segment_color
from mgviz.runs import RunError
from ui import cache, state

#: Seconds between the polls of a running background evaluation.
POLL_SECONDS = 2


def ensure_model() -> None:
    """Open the default run (the bundled sample, or the run ``MGVIZ_RUN`` names) when the session has no model yet."""
    if st.session_state.get(state.MODEL) is not None or st.session_state.get(state.MODEL_ERROR):
        return
    run_dir = cache.default_run_dir()
    key = cache.run_key(run_dir)
    try:
        model = cache.open_run(key)
    except RunError as exc:
        st.session_state[state.MODEL_ERROR] = str(exc)
        return
    state.set_model(model, key, cache.run_label(run_dir))


def require_model():
    """The current model and its :class:`ui.cache.ModelKey`, or a pointer to the Data page and a stop."""
    model = st.session_state.get(state.MODEL)
    if model is None:
        problem = st.session_state.get(state.MODEL_ERROR)
        text = "No model is open yet. Load data and build one on the **Data** page."
        if problem:
            run_dir = cache.default_run_dir()
            text += f" The {cache.run_label(run_dir)} could not be opened: {problem}. {missing_run_advice(run_dir)}"
        st.info(text)
        st.page_link("pages/data.py", label="Go to the Data page", icon=":material/database:")
        st.stop()
    return model, st.session_state[state.MODEL_KEY]


def missing_run_advice(run_dir) -> str:
    """How to get the default run when it is missing or damaged (one sentence)."""
    if cache.is_bundled_sample(run_dir):
        return "`make sample-run` builds the sample run."
    return (
        f"{cache.RUN_ENV} names it; build it with `mgviz build … --out {run_dir}`, or unset {cache.RUN_ENV} "
        "to open the bundled sample (`make sample-run` builds it)."
    )


def sidebar_summary() -> None:
    """What is open: source, size, K."""
    model = st.session_state.get(state.MODEL)
    with st.sidebar:
        if model is None:
            st.caption("No model open.")
            return
        ds = model.dataset
        st.caption(
            f"**Open:** {st.session_state[state.MODEL_SOURCE]}  \n"
            f"{len(ds.users):,} users · {len(ds.items):,} items · {len(ds.interactions):,} interactions  \n"
            f"K = {len(model.profiles)} segments · {len(model.categories)} categories  \n"
            f"{explore.micro_model_note(model)}  \n"
            f"text encoder {model.encoder_model}" + (" (auto)" if model.config.model == "auto" else "")
        )


def apply_finished_build() -> None:
    """Open the model of this session's build once it has finished (on whatever page the analyst is)."""
    job = st.session_state.get(state.BUILD_JOB)
    if job is None or not job.finished or job.applied:
        return
    job.applied = True
    if job.model is not None:
        state.set_model(job.model, job.key, f"{job.source}, built with K={job.config.k}")
        text = f"Model built in {job.seconds:.0f} s: {len(job.model.profiles)} segments. Every page now shows it."
        notes = getattr(job.model, "notes", [])
        if notes:  # what the build changed because of the data (K lowered, …), as the CLI warns
            text += " Note: " + "; ".join(notes) + "."
        st.session_state[state.BUILD_MESSAGE] = ("warning" if notes else "success", text)
        st.toast(text, icon=":material/check:")  # seen on whatever page the analyst is
    elif job.cancelled:
        st.session_state[state.BUILD_MESSAGE] = ("info", "The build was cancelled; the open model stays.")
    else:
        st.session_state[state.BUILD_MESSAGE] = ("error", f"The build failed – {job.error}. The open model stays.")
        st.toast("The build failed – details on the Data page.", icon=":material/error:")


def show_build_message() -> None:
    """The outcome of the build that just finished (shown once)."""
    message = st.session_state.pop(state.BUILD_MESSAGE, None)
    if message:
        kind, text = message
        icon = {"success": ":material/check:", "info": ":material/info:", "error": ":material/error:",
                "warning": ":material/warning:"}[kind]  # fmt: skip
        getattr(st, kind)(text, icon=icon)


def build_status() -> None:
    """A sidebar line while this session's build runs; it reruns the app when the build is done."""
    job = st.session_state.get(state.BUILD_JOB)
    if job is not None and not job.finished:
        with st.sidebar:
            _build_status_polling(job)


@st.fragment(run_every=POLL_SECONDS)
def _build_status_polling(job) -> None:
    if job.finished:
        st.rerun(scope="app")  # apply_finished_build switches every page to the new model
    st.caption(f"Build running: {job.stage} ({job.seconds:.0f} s).")


def start_evaluation() -> None:
    """Start (once per model) the background held-out evaluation and show its state in the sidebar.

    While it runs, the status line is a fragment that redraws itself every few seconds, so it
    says "ready" when the evaluation is done without rerunning the page.
    """
    model = st.session_state.get(state.MODEL)
    if model is None:
        return
    job = cache.eval_job(st.session_state[state.MODEL_KEY], model)
    with st.sidebar:
        (_evaluation_caption if job.finished else _evaluation_caption_polling)(job)


def _evaluation_caption_body(job) -> None:
    if job.ready:
        st.caption("Held-out evaluation: ready.")
    elif job.error:
        st.caption("Held-out evaluation: not available.")
    else:
        st.caption(f"Held-out evaluation: running ({job.stage}).")


_evaluation_caption = st.fragment(_evaluation_caption_body)
_evaluation_caption_polling = st.fragment(_evaluation_caption_body, run_every=POLL_SECONDS)


def md_escape(text: object) -> str:
    """``text`` with Markdown's special characters escaped (for ids and names in st.markdown)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", str(text))


def segment_of(model, row: int) -> str:
    return model.profiles[int(model.segments[row])].display_name


def user_picker(model, name: str, label: str = "User") -> tuple[str, int]:
    """Search box + select box for a user; the choice is shared between pages (``state.USER``).

    Returns the user id and its row in the model's arrays.
    """
    ids = np.asarray(model.user_ids).astype(str)
    current = st.session_state.get(state.USER)
    if current not in set(ids):
        current = state.default_user(model)
    query = st.text_input("Search users", key=f"{name}.search", placeholder="part of a user id, e.g. 004")
    options = [u for u in ids if query.strip().lower() in u.lower()] if query.strip() else list(ids)
    options = options[:2000]
    if not options:
        st.caption(f"No user id contains “{query}”.")
        options = [current]
    if current not in options:
        options = [current, *options]
    counts = _interaction_counts(st.session_state[state.MODEL_KEY], model)
    index = pd.Index(ids)

    def fmt(user: str) -> str:
        row = index.get_loc(user)
        return f"{user} · {counts.get(user, 0)} interactions · {segment_of(model, row)}"

    user = st.selectbox(label, options, index=options.index(current), key=f"{name}.user", format_func=fmt)
    st.session_state[state.USER] = user
    return user, int(index.get_loc(user))


@st.cache_data(max_entries=4, show_spinner=False)
def _interaction_counts(key, _model) -> dict:
    del key
    return _model.dataset.interactions["user_id"].value_counts().to_dict()


def segment_header(segment: int, label: str) -> None:
    """A coloured square and the segment's label (escaped)."""
    st.markdown(
        f'<span style="display:inline-block;width:14px;height:14px;border-radius:3px;margin-right:6px;'
        f'vertical-align:-1px;background:{segment_color(segment)}"></span>'
        f"<b>{segment}: {html.escape(label)}</b>",
        unsafe_allow_html=True,
    )


def chips(words: list[str]) -> str:
    """Markdown of words as inline code chips (safe for any text)."""
    return " ".join(f"`{w.replace('`', '')}`" for w in words) if words else "—"


def show_friends_status(dataset, report) -> None:
    """The loaded friends file: a warning per problem found in it (what was dropped, with counts and example
    lines), and how many edges the build gets for its social level. Nothing without a friends file."""
    name = dataset.sources.get("friends") if dataset.friends is not None else None
    if not name:
        return
    for problem in report.warnings:
        if problem.file == name:
            st.warning(md_escape(problem), icon=":material/warning:")
    kind = "follows (directed)" if dataset.friends_directed else "friendships (both ways)"
    st.info(f"Friends file {md_escape(name)}: {len(dataset.friends):,} {kind}; the build adds the social level.",
            icon=":material/group:")  # fmt: skip


def show_input_error(message: str, report: pd.DataFrame | None) -> None:
    """An error box with the one-line message and the full problem table."""
    st.error(f"**These files could not be used:** {message}", icon=":material/error:")
    if report is not None and len(report):
        st.dataframe(report, hide_index=True, width="stretch")
