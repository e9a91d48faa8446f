"""Export: recommendation lists, user profiles, the HTML segment report and the run's settings.

Every CSV goes through :func:`mgviz.export.safe_csv_frame`, so no cell can run as a
spreadsheet formula. Files are produced when their button is clicked.
"""

from __future__ import annotations

import json

import streamlit as st

from mgviz import explore
from ui import cache, nav, state, widgets


def main() -> None:
    model, model_key = widgets.require_model()
    st.title("Export")
    weights = st.session_state.get(state.WEIGHTS) or state.normalised_weights(model.config.weights)
    n = int(st.session_state.get(state.LIST_N) or 10)
    rerank = state.rerank_setting()
    slug = model_slug(model)
    lists_section(model, weights, n, slug, rerank)
    profiles_section(model, model_key, slug)
    report_section(model, model_key, slug)
    settings_section(model, weights, n, slug, rerank)


def model_slug(model) -> str:
    name = next(iter(model.dataset.sources.values()), "mgviz")
    stem = "".join(ch if ch.isalnum() else "-" for ch in str(name).rsplit(".", 1)[0]).strip("-")
    return f"{stem or 'mgviz'}-k{len(model.profiles)}"


def lists_section(model, weights: dict, n: int, slug: str, rerank: dict) -> None:
    st.subheader("Recommendation lists")
    diverse = (f", re-ranked for diversity (MMR λ {rerank['diversity']:.2f}, {rerank['similarity']} similarity)"
               if rerank["diversity"] > 0 else "")  # fmt: skip
    st.caption(
        f"Top {n} for every user ({len(model.user_ids):,} users) with the weights set on the Recommendations page: "
        + ", ".join(f"{lv} {w:.2f}" for lv, w in weights.items())
        + diverse
        + ". Each level's column is its contribution to the score."
    )
    if sum(weights.values()) <= 0:
        st.warning("All weights are zero – set them on the Recommendations page.")
        return
    preview = explore.user_list(model, 0, weights, min(n, 5), **rerank).drop(columns=["reason"])
    st.dataframe(preview, hide_index=True, width="stretch")
    cols = st.container(horizontal=True)
    cols.download_button(
        "Lists as CSV", data=lambda: explore.csv_bytes(explore.all_lists(model, weights, n, **rerank)),
        file_name=f"{slug}-lists.csv", mime="text/csv", icon=":material/download:", key="export.lists.csv",
    )  # fmt: skip
    cols.download_button(
        "Lists as Parquet", data=lambda: explore.parquet_bytes(explore.all_lists(model, weights, n, **rerank)),
        file_name=f"{slug}-lists.parquet", mime="application/octet-stream", icon=":material/download:",
        key="export.lists.parquet",
    )  # fmt: skip


def profiles_section(model, model_key: cache.ModelKey, slug: str) -> None:
    st.subheader("User profiles")
    frame = cache.profiles(model_key, model)
    st.caption("One row per user: segment, segment label, strongest categories and interest keywords.")
    st.dataframe(frame.head(5), hide_index=True, width="stretch")
    cols = st.container(horizontal=True)
    cols.download_button(
        "Profiles as CSV", data=lambda: explore.csv_bytes(frame), file_name=f"{slug}-profiles.csv", mime="text/csv",
        icon=":material/download:", key="export.profiles.csv",
    )  # fmt: skip
    cols.download_button(
        "Profiles as JSON", data=lambda: explore.profiles_json(model, frame), file_name=f"{slug}-profiles.json",
        mime="application/json", icon=":material/download:", key="export.profiles.json",
    )  # fmt: skip


def report_section(model, model_key: cache.ModelKey, slug: str) -> None:
    st.subheader("Segment report (HTML)")
    st.caption(
        "One self-contained HTML file – charts included, works offline: segment sizes, the segment × category "
        "heatmaps, the user map and a card per segment."
    )
    st.download_button(
        "HTML segment report", data=lambda: cache.report_html(model_key, model), file_name=f"{slug}-segments.html",
        mime="text/html", icon=":material/description:", key="export.report",
    )  # fmt: skip


def settings_section(model, weights: dict, n: int, slug: str, rerank: dict) -> None:
    st.subheader("Run settings")
    settings = explore.run_settings(model, weights, n, st.session_state.get(state.MODEL_SOURCE, ""), **rerank)
    with st.expander("Show settings"):
        st.json(settings, expanded=1)
    st.download_button(
        "Settings as JSON", data=json.dumps(settings, indent=1, ensure_ascii=False, default=str),
        file_name=f"{slug}-settings.json", mime="application/json", icon=":material/download:",
        key="export.settings",
    )  # fmt: skip


nav.ensure_app()
main()
