"""Meso level: category mix per segment, of one segment or user against everyone, over time, and cold start."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mgviz import explore, hierarchy, plots
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
    hierarchy_section(model, model_key)
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


#: The chart kinds of the interest hierarchy, as the page names them.
HIERARCHY_CHARTS = {"Sunburst": "sunburst", "Icicle": "icicle"}
#: Users listed behind a wedge at most (the count above the table says how many there are).
WEDGE_USERS = 500
NODE_KEY, CLICKED_KEY = "meso.hier_node", "meso.hier_clicked"


def hierarchy_section(model, model_key: cache.ModelKey) -> None:
    st.subheader("Interest hierarchy")
    st.caption(
        "Each segment's biggest categories and, inside each, the keywords its users' interest in the category is "
        "about. A wedge's size is **users' worth of interest**: a segment of 100 users that puts 40% of its interest "
        "in a category has a wedge of 40 there, split further over the keywords its users have that occur in the "
        "category's items. Colour is **lift** against all users (red: more than everyone, blue: less). "
        "Click a wedge – or pick it below – to see the users and items behind it."
    )
    frame = cache.interest_hierarchy(model_key, model)
    if len(frame) <= 1:
        st.info("This run has no segments to show.")
        return
    kind = st.segmented_control("Chart", list(HIERARCHY_CHARTS), default="Sunburst", key="meso.hier_kind",
                                required=True)  # fmt: skip
    fig = plots.interest_sunburst(frame, kind=HIERARCHY_CHARTS[kind])
    event = st.plotly_chart(fig, key="meso.sunburst", on_select="rerun", selection_mode="points")
    names = hierarchy.node_names(frame)
    ids = list(names)
    # a click picks the wedge once; the picker can move on from there (the click stays in the chart's state)
    clicked = hierarchy.selected_node(event, ids)
    if clicked is not None and clicked != st.session_state.get(CLICKED_KEY):
        st.session_state[NODE_KEY] = clicked
    st.session_state[CLICKED_KEY] = clicked
    if st.session_state.get(NODE_KEY) not in ids:
        st.session_state[NODE_KEY] = ids[1] if len(ids) > 1 else ids[0]  # the first segment
    node = st.selectbox("Wedge", ids, format_func=names.get, key=NODE_KEY)
    wedge_members(model, model_key, frame.set_index("id").loc[node], node)


def wedge_members(model, model_key: cache.ModelKey, row, node: str) -> None:
    users, items = cache.hierarchy_members(model_key, node, WEDGE_USERS, model)
    who = {
        "all": "users",
        "segment": "members of the segment",
        "category": f"members with {row['category']} among their top {hierarchy.HIGH_CATEGORIES} categories",
        "keyword": f"members with the keyword “{row['keyword']}”",
    }[row["level"]]
    of = {"all": "", "segment": "of all users", "category": "of the segment's interest",
          "keyword": "of the segment's interest in the category"}[row["level"]]  # fmt: skip
    size = f"{row['share']:.1%} {of}" if of else ""
    if np.isfinite(row["lift"]):
        size += f", {row['users']:,.1f} users' worth of interest, lift {row['lift']:.2f}×"
    shown = f" (the first {len(users):,} shown)" if len(users) < int(row["members"]) else ""
    st.markdown(
        " · ".join(
            part
            for part in (f"**{widgets.md_escape(row['label'])}**", size, f"**{int(row['members']):,} {who}**{shown}")
            if part
        )  # fmt: skip
    )
    left, right = st.columns(2)
    with left:
        st.dataframe(
            users, hide_index=True, key="meso.hier_users", column_order=["user_id", "weight", "top_categories",
                                                                         "keywords"],
            column_config={"weight": st.column_config.NumberColumn(format="%.3f",
                                                                   help=WEIGHT_HELP[row["level"]])},
        )  # fmt: skip
    with right:
        st.dataframe(
            items, hide_index=True, key="meso.hier_items",
            column_order=["item_id", "title", "users", "share", "lift", "categories"],
            column_config={
                "users": st.column_config.NumberColumn(help="how many of these users consumed it"),
                "share": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0),
                "lift": st.column_config.NumberColumn(format="%.2f×", help="their share over all users' share"),
            },
        )  # fmt: skip


WEIGHT_HELP = {
    "all": "every user counts once",
    "segment": "how firmly the user belongs to the segment (soft membership)",
    "category": "the user's share of interest in the category",
    "keyword": "what the user adds to the keyword's wedge",
}


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
            format_func=lambda s: f"{s}: {model.profiles[s].display_name} ({model.profiles[s].size:,} users)",
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
        st.plotly_chart(plots.drift_mix(cache.drift_view(model_key, row, model), user), key="meso.drift")


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
