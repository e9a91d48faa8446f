"""Macro level: user segments on the UMAP map, choosing K (quality and stability), selection summaries and
segment cards (each with its stability)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import streamlit as st

from mgviz import explore, labels, naming, plots
from mgviz.stability import FUZZY, STABLE, stability_word
from ui import cache, nav, state, widgets
from ui.namejob import NameJob

CARDS_PER_ROW = 3
NAME_JOB = "macro.name_job"  #: the session's latest ui.namejob.NameJob
NAMES_MEMORY = "macro.names"  #: NameStore of names for models built in the app (not yet saved)
BACKENDS = {"local": "Offline (SmolLM2-135M-Instruct)", "openai": "OpenAI-compatible endpoint"}
NAMING_HELP = (
    "A short name and a two-sentence description per segment, written by a language model from the segment's "
    "distinctive categories and keywords, top items and demographics. Every answer is checked: the name must "
    "mention a distinctive category or keyword and must not be an item title; otherwise the model is asked "
    "again, and after four refused answers the keyword label stays (the card says why). The small offline "
    "model writes plausible but sometimes fanciful descriptions, and no sensible Chinese; a larger model behind "
    "an OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama) writes better ones. Names are cached per run."
)
FRIENDS_KEY = "macro.friends"
HOMOPHILY_HELP = (
    "The share of the segment's members' friends who are in the segment too – against the share expected if "
    "friends were made at random (the segment's share of all friendship ends). Lift above 1: friends cluster in "
    "the segment."
)
STABILITY_HELP = (
    "K-means re-run with other seeds and on bootstrap resamples of the users, each run compared with these "
    "segments. ARI: adjusted Rand index (1 = the same segments, 0 = chance). A segment's Jaccard: its overlap with "
    f"its best match in each re-run, averaged – stable ≥ {STABLE}, fuzzy {FUZZY}–{STABLE}, dissolves < {FUZZY} "
    "(Hennig's reading of bootstrap Jaccard)."
)

LIFT_HELP = (
    "Each word of the label with its lift: its share in this segment over its share among all users (categories: "
    "of interest; keywords: of the words in what they read and wrote). A label names only what a segment "
    f"over-represents (lift > {labels.MIN_LIFT}), and no word is in more than {labels.MAX_SHARED} labels."
)


def main() -> None:
    model, model_key = widgets.require_model()
    st.title("Macro · user segments")
    st.caption(
        "Users grouped by K-means on their joined interest vectors (text, categories, ALS factors, demographics), "
        "drawn on a 2-D UMAP map. Draw a box or a lasso on the map to summarise a group."
    )
    k = k_section(model, model_key)
    seg = cache.segmentation(model_key, k, model)
    store = name_store(model_key)
    seg = dataclasses.replace(seg, profiles=naming.attach(seg.profiles, store))
    naming_section(model, model_key, seg, store)
    labels = [p.display_name for p in seg.profiles]
    map_section(model, model_key, seg, labels)
    cards_section(model, seg, cache.stability(model_key, k, model), cache.homophily(model_key, k, model))


# ------------------------------------------------------------------------------ names by a language model
def name_store(model_key: cache.ModelKey) -> naming.NameStore:
    """Where the segment names live: the run's names.json for a run opened from disk (re-segmented too),
    the session's memory for a model built in the app (saved with it by ``mgviz.runs.save_run``)."""
    if model_key.run_dir is not None:
        return naming.NameStore(Path(model_key.run_dir) / naming.NAMES_FILE)
    if NAMES_MEMORY not in st.session_state:
        st.session_state[NAMES_MEMORY] = naming.NameStore(None)
    return st.session_state[NAMES_MEMORY]


def naming_section(model, model_key: cache.ModelKey, seg, store: naming.NameStore) -> None:
    job = st.session_state.get(NAME_JOB)
    job_key = (model_key, seg.k)
    mine = job is not None and job.key == job_key
    named = sum(p.name is not None and p.name.ok for p in seg.profiles)
    with st.expander(f"Names written by a language model ({named} of {seg.k} segments named)",
                     expanded=mine and not job.applied):  # fmt: skip
        st.caption(NAMING_HELP)
        kind = st.radio("Model", list(BACKENDS), format_func=BACKENDS.get, horizontal=True, key="macro.llm.kind")
        url = llm_model = key_env = None
        timeout = 30.0
        if kind == "openai":
            a, b = st.columns(2)
            url = a.text_input("Base URL", placeholder="http://localhost:8000/v1", key="macro.llm.url")
            llm_model = b.text_input("Model", placeholder="e.g. llama-3.1-8b-instruct", key="macro.llm.model")
            key_env = a.text_input("Environment variable with the key", value="OPENAI_API_KEY", key="macro.llm.env",
                                   help="Read on the server that runs mgviz; leave empty to send no key.")  # fmt: skip
            timeout = b.number_input("Timeout per answer (s)", 1.0, 600.0, 30.0, key="macro.llm.timeout")
        force = st.checkbox("Write new names where there are some", key="macro.llm.force")
        running = mine and not job.finished
        if st.button("Name segments with a language model", icon=":material/edit_note:", disabled=running,
                     key="macro.llm.go"):  # fmt: skip
            try:
                backend = naming.make_backend(kind, llm_model, url, key_env, timeout)
            except naming.NamingError as exc:
                st.error(f"Naming could not start: {exc}. The keyword labels stay.")
                return
            job = NameJob(seg.profiles, backend, store, job_key, seed=model.config.seed, force=force).start()
            st.session_state[NAME_JOB] = job
            mine = True
        if mine:
            naming_progress(job, model_key)
        if store.save_error:
            st.warning(store.save_error)


@st.fragment(run_every=1)
def naming_progress(job: NameJob, model_key: cache.ModelKey) -> None:
    if not job.finished:
        st.progress(job.fraction(), text=f"Naming with {job.backend.label} ({job.seconds:.0f} s) – {job.what}")
        return
    if job.error:
        st.error(f"Naming stopped: {job.error}")
        return
    refused = [n for n in job.names or [] if not n.ok]
    st.success(f"{len(job.names) - len(refused)} of {len(job.names)} segments named by {job.backend.label} in "
               f"{job.seconds:.0f} s." + (f" {len(refused)} keep their keyword label (the reason is on the card)."
                                          if refused else ""))  # fmt: skip
    if not job.applied:
        job.applied = True
        model = st.session_state[state.MODEL]
        if st.session_state.get(state.MODEL_KEY) == model_key:  # the other pages' legends show the names too
            st.session_state[state.MODEL] = dataclasses.replace(model, profiles=naming.attach(model.profiles,
                                                                                              job.store))  # fmt: skip
        st.rerun()


def k_section(model, model_key: cache.ModelKey) -> int:
    model_k = len(model.profiles)
    ks = model.k_scores["k"].tolist() if model.k_scores is not None and len(model.k_scores) else []
    k_max = int(max([*ks, model_k, 2]))
    k_max = max(2, min(k_max, len(model.user_ids) - 1)) if len(model.user_ids) > 2 else 2
    if st.session_state.get(state.MACRO_K) is None:
        st.session_state[state.MACRO_K] = model_k
    left, middle, right = st.columns([1, 1.6, 1.6], vertical_alignment="top")
    with left:
        key = state.bind("macro.k", state.MACRO_K)
        k = st.slider(
            "K (number of segments)", 2, k_max, key=key, on_change=state.store, args=("macro.k", state.MACRO_K),
            help="Re-segments the stored user vectors with K-means (cached per K).",
        )  # fmt: skip
        st.caption(f"The open model was built with K = {model_k}.")
        if k != model_k:
            st.info(f"Showing K = {k}. Recommendations still use the model's K = {model_k}.")
            if st.button(f"Use K = {k} in the model", icon=":material/published_with_changes:"):
                apply_k(model, model_key, k)
        st.markdown(stability_line(cache.stability(model_key, k, model)), help=STABILITY_HELP)
    with middle:
        st.plotly_chart(plots.k_quality(model.k_scores, current_k=k), key="macro.kq")
    with right:
        st.plotly_chart(plots.k_stability(cache.stability_per_k(model_key, model), current_k=k), key="macro.kstab")
    return int(k)


def stability_line(record: dict) -> str:
    """ "Segments at K = 6: ARI across seeds 0.98, bootstrap 0.95" (and on how many users, when sampled)."""

    def fmt(v) -> str:
        return "—" if v is None else f"{v:.2f}"

    line = (f"**Stability** – segments at K = {record['k']}: ARI across seeds {fmt(record['ari_seeds'])}, "
            f"bootstrap {fmt(record['ari_bootstrap'])}")  # fmt: skip
    if record["users"] < record["of"]:
        line += f" (re-run on a sample of {record['users']:,} of {record['of']:,} users)"
    return line


def apply_k(model, model_key: cache.ModelKey, k: int) -> None:
    """Replace the open model's segments (and macro scores) with those for ``k``."""
    seg = cache.segmentation(model_key, k, model)
    stability = cache.stability(model_key, k, model)
    new = explore.with_segmentation(model, seg, cache.term_stats(model_key, model), stability)
    new = dataclasses.replace(new, profiles=naming.attach(new.profiles, name_store(model_key)))
    weights, pinned = st.session_state[state.WEIGHTS], st.session_state[state.PINNED]
    pinned_rerank = st.session_state.get(state.PINNED_RERANK)
    source = st.session_state[state.MODEL_SOURCE].split(" · re-segmented")[0]
    state.set_model(new, model_key.resegmented(k), f"{source} · re-segmented with K={k}")
    st.session_state[state.WEIGHTS], st.session_state[state.PINNED] = weights, pinned
    st.session_state[state.PINNED_RERANK] = pinned_rerank
    st.session_state[state.MACRO_K] = k
    st.rerun()


def map_section(model, model_key: cache.ModelKey, seg, labels: list[str]) -> None:
    st.subheader("User map")
    if model.umap_xy is None:
        st.info("This run was built without the 2-D map (UMAP); rebuild with the map on the Data page.")
        return
    rows = model.map_view()
    cats = cache.top_categories(model_key, model)
    friends = friends_controls(model)
    if friends is not None:
        row, table = friends
        fig = plots.friends_map(model.umap_xy, seg.segments, labels, model.user_ids, row, table["row"].tolist(), cats,
                                rows=rows)  # fmt: skip
    else:
        fig = plots.user_map(model.umap_xy, seg.segments, labels, model.user_ids, cats, rows=rows)
    if len(rows) < len(model.user_ids):
        st.caption(f"The map shows {len(rows):,} of {len(model.user_ids):,} users, sampled in proportion to each "
                   "segment; every user is segmented.")  # fmt: skip
    event = st.plotly_chart(fig, key="macro.map", on_select="rerun", selection_mode=("box", "lasso"))
    rows = selected_rows(event)
    selection_summary(model, rows, seg, labels)


def friends_controls(model):
    """The "Show a user's friends" toggle (runs with a friends file only) and, when on, the user picker and a
    line on their friends; returns (user row, :func:`mgviz.explore.friends_of` table) or ``None``."""
    if "social" not in model.levels:
        return None
    if not st.toggle("Show a user's friends", key=FRIENDS_KEY,
                     help="Star a user on the map and ring their friends (from the friends file)."):  # fmt: skip
        return None
    user, row = widgets.user_picker(model, "macro.friends")
    table = explore.friends_of(model, row)
    if table.empty:
        st.caption(f"User {user} has no friends in the friends file.")
    else:
        same = int((table["segment"] == model.segments[row]).sum())
        st.caption(f"User {user} has {len(table)} friend{'s' if len(table) != 1 else ''}, {same} in their own "
                   f"segment; they share {int(table['shared'].sum())} items with them in all.")  # fmt: skip
    return row, table


def selected_rows(event) -> list[int]:
    """User rows of the points in a plotly selection event (customdata[0] holds the row)."""
    try:
        points = event.selection.points
    except AttributeError:
        return []
    rows = []
    for p in points:
        custom = p.get("customdata")
        if custom:
            rows.append(int(custom[0]))
    return rows


def selection_summary(model, rows: list[int], seg, labels: list[str]) -> None:
    if not rows:
        st.caption("Tip: choose *Box select* or *Lasso select* in the chart's toolbar and draw around users.")
        return
    summary = explore.selection_summary(model, rows, seg.segments, labels)
    with st.container(border=True):
        st.markdown(f"**Selected users: {summary['count']:,}** ({summary['count'] / len(model.user_ids):.1%} of all)")
        left, right = st.columns(2)
        with left:
            st.plotly_chart(plots.share_bars(summary["categories"], "Top categories of the selection"), key="macro.sc")
            lifts = ", ".join(f"{c} {v:.1f}×" for c, v in summary["lift"].items())
            st.caption(f"Lift over all users: {lifts}")
        with right:
            st.plotly_chart(plots.share_bars(summary["segments"], "Segment shares", color="#F58518"), key="macro.ss")


def cards_section(model, seg, stability: dict, homophily=None) -> None:
    st.subheader(f"Segments (K = {seg.k})")
    profiles = seg.profiles
    jaccard = stability["jaccard"]
    social = homophily.set_index("segment") if homophily is not None and len(homophily) else None
    for start in range(0, len(profiles), CARDS_PER_ROW):
        cols = st.columns(CARDS_PER_ROW)
        for col, profile in zip(cols, profiles[start : start + CARDS_PER_ROW], strict=False):
            with col, st.container(border=True):
                friends = (
                    social.loc[profile.segment] if social is not None and profile.segment in social.index else None
                )
                segment_card(profile, jaccard[profile.segment] if profile.segment < len(jaccard) else None, friends)


def homophily_text(row) -> str:
    """ "**Friends:** 84% of its members' friends are members (16% expected at random, 5.3×; 1,020 friendships)"."""
    if not row["edges"]:
        return "**Friends:** no friendships"
    return (f"**Friends:** {row['share']:.0%} of its members' friends are members ({row['expected']:.0%} expected "
            f"at random, {row['lift']:.1f}×; {int(row['edges']):,} friendships)")  # fmt: skip


def segment_card(p, jaccard: float | None = None, homophily=None) -> None:
    widgets.segment_header(p.segment, p.display_name)
    if p.name is not None and p.name.ok:
        st.markdown(f"*{widgets.md_escape(p.name.description)}*")
        st.caption(f"✎ Name and description written by a language model ({p.name.model}); keyword label: "
                   f"{p.label}")  # fmt: skip
    elif p.name is not None:
        st.caption(f"No model-written name: {p.name.reason}.")
    st.caption(f"{p.size:,} users · {p.share:.1%} of all users")
    value = "no re-run drew its users" if jaccard is None else f"Jaccard {jaccard:.2f}"
    st.markdown(f"**Stability:** {stability_word(jaccard)} ({value})", help=STABILITY_HELP)
    if homophily is not None:
        st.markdown(homophily_text(homophily), help=HOMOPHILY_HELP)
    if p.label_terms:
        st.markdown(f"**Why this label:** {labels.label_terms_text(p.label_terms)}", help=LIFT_HELP)
    cats = " · ".join(f"{c} {w:.0%}" for c, w in p.top_categories[:4])
    st.markdown(f"**Categories:** {cats or '—'}")
    st.markdown(f"**Keywords:** {widgets.chips([k for k, _ in p.keywords[:8]])}")
    if p.top_items:
        items = "\n".join(f"- {title} ({n} members)" for _, title, n in p.top_items[:5])
        st.markdown(f"**Top items:**\n{items}")
    if p.demographics:
        st.markdown("**Demographics:** " + demographics_text(p.demographics))


def demographics_text(demographics: dict) -> str:
    parts = []
    for col, summary in demographics.items():
        if "mean" in summary:
            parts.append(f"{col} ≈ {summary['mean']:.0f}")
        else:
            top = ", ".join(f"{k} {v:.0%}" for k, v in list(summary.items())[:2])
            parts.append(f"{col}: {top}")
    return " · ".join(parts)


nav.ensure_app()
main()
