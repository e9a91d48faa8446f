"""Meso level: category mix per segment, of one segment or user against everyone, over time, and cold start."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mgviz import explore, plots
from ui import cache, nav, state, widgets

SHARE, LIFT = "Share of interest", "Lift vs. all users"


def main() -> None:
    model, model_key = widgets.require_model()
    st.title("Meso · categories")
    derived = " (derived by clustering item texts: the items had no categories)" if model.categories_derived else ""
    st.caption(
        f"How each segment's and user's interest splits over the {len(model.categories)} item categories{derived}."
    )
    heatmap_section(model)
    compare_section(model, model_key)
    time_section(model, model_key)
    drift_section(model, model_key)
    cold_start_section(model)


def heatmap_section(model) -> None:
    st.subheader("Segment × category")
    view = st.segmented_control("Show", [SHARE, LIFT], default=SHARE, key="meso.view", required=True)
    fig = plots.segment_category_heatmap(
        model.segment_category, model.segment_labels, model.categories, relative=view == LIFT,
        population=model.category_mix.mean(axis=0),
    )  # fmt: skip
    st.plotly_chart(fig, key="meso.heat")


def compare_section(model, model_key: cache.ModelKey) -> None:
    st.subheader("Category mix against the population")
    population = model.category_mix.mean(axis=0)
    kind = st.segmented_control("Compare", ["Segment", "User"], default="Segment", key="meso.kind", required=True)
    if kind == "User":
        user, row = widgets.user_picker(model, "meso")
        mix, name = model.category_mix[row], f"user {user}"
    else:
        options = list(range(len(model.profiles)))
        current = min(int(st.session_state.get(state.SEGMENT) or 0), len(options) - 1)
        seg = st.selectbox(
            "Segment", options, index=current, key="meso.segment",
            format_func=lambda s: f"{s}: {model.profiles[s].label} ({model.profiles[s].size:,} users)",
        )  # fmt: skip
        st.session_state[state.SEGMENT] = seg
        members = np.asarray(model.segments) == seg
        mix, name = model.category_mix[members].mean(axis=0), f"segment {seg}"
    st.plotly_chart(plots.category_mix_bars(mix, population, model.categories, name), key="meso.mix")


def time_section(model, model_key: cache.ModelKey) -> None:
    st.subheader("Category shares over time")
    frame = cache.category_time(model_key, model)
    if frame.empty:
        st.info("The interaction log has no timestamps, so there is no time view.")
        return
    st.plotly_chart(plots.category_shares_over_time(frame), key="meso.time")


def drift_section(model, model_key: cache.ModelKey) -> None:
    st.subheader("Interest drift")
    table = cache.drift_table(model_key, model)
    valid = table.dropna(subset=["drift"])
    if valid.empty:
        st.info("No user has at least 5 interactions in each half of their history, so there is no drift to show.")
        return
    order = "in time" if model.dataset.has_time else "in the log's row order (the log has no timestamps)"
    strong = valid[valid["strong"]]
    st.caption(
        f"Each user's category mix in the earlier half of their history against the later half ({order}); "
        "drift is the share of interest that moved, from 0 (the same mix) to 1 (nothing in common). "
        f"**{len(strong):,} of {len(valid):,} users ({len(strong) / len(valid):.0%}) moved more than half of "
        "their interest.** The time level scores from recent behaviour: for a drifting user its list should follow "
        "the later half, while the micro level's list follows the whole history."
    )
    left, right = st.columns([2, 3])
    with left:
        top = valid.head(200)
        options = top["row"].tolist()
        current = st.session_state.get("meso.drift_row")
        index = options.index(current) if current in options else 0

        def fmt(row: int) -> str:
            r = top.loc[top["row"] == row].iloc[0]
            return f"{r.user_id} · drift {r.drift:.2f} · {r.falling} → {r.rising}"

        row = st.selectbox("Most drifting users", options, index=index, format_func=fmt, key="meso.drift_row")
        by_segment = explore.drift_by_segment(table)
        st.dataframe(
            by_segment, hide_index=True, key="meso.drift_segments",
            column_config={
                "median drift": st.column_config.NumberColumn(format="%.2f"),
                "moved strongly": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0),
            },
        )  # fmt: skip
    with right:
        user = str(model.user_ids[row])
        st.plotly_chart(plots.drift_mix(explore.drift_view(model, row), user), key="meso.drift")


def cold_start_section(model) -> None:
    st.subheader("Cold start")
    quality = model.cold_start_quality
    if not quality:
        st.info(
            "No cold-start predictor in this run: it needs user features (demographics or profile text) "
            "and at least 30 users with history."
        )
        return
    left, right = st.columns([1, 2], vertical_alignment="center")
    with left:
        st.markdown(
            "For users **without history**, a random forest predicts the category mix from demographics and "
            f"profile text. Cross-validated on {quality.get('n_users', 0):,} users with history, against always "
            "guessing the population's mix:"
        )
        st.markdown(
            f"- mean absolute error of the mix: **{quality.get('mae', 0):.3f}** (prior {quality.get('mae_prior', 0):.3f})\n"
            f"- top category right: **{quality.get('top1_accuracy', 0):.0%}** (prior {quality.get('top1_prior', 0):.0%})"
        )
    with right:
        st.plotly_chart(plots.cold_start_quality(quality, title="Predictor vs. population prior"), key="meso.cold")


nav.ensure_app()
main()
