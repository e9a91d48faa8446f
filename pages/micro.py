"""Micro level: one user's history, interest keywords, ALS items, semantic matches and place on the map."""

from __future__ import annotations

import streamlit as st

from mgviz import explore, plots
from ui import cache, nav, widgets

N_ITEMS = 10


def main() -> None:
    model, model_key = widgets.require_model()
    st.title("Micro · users")
    st.caption("Pick a user to see what they did, which words describe them, and what each level would suggest.")
    user, row = widgets.user_picker(model, "micro")
    history = explore.user_history(model, user)
    header(model, model_key, row, history)
    st.plotly_chart(plots.history_timeline(history, f"History of user {user}"), key="micro.timeline")
    left, right = st.columns(2)
    with left:
        keywords = explore.user_keywords(model, user)
        fig = plots.weight_bars(keywords["keyword"].tolist(), keywords["weight"].tolist(), "Interest keywords")
        st.plotly_chart(fig, key="micro.kw")
    with right:
        item_bars(model, row, "micro", "Top ALS items (not yet seen)", "#54A24B", "micro.als")
    left, right = st.columns(2)
    with left:
        item_bars(model, row, "semantic", "Semantic matches (profile text ↔ item text)", "#B279A2", "micro.sem")
    with right:
        if model.umap_xy is not None:
            fig = plots.user_map(model.umap_xy, model.segments, model.segment_labels, model.user_ids,
                                 cache.top_categories(model_key, model), highlight=row, title=f"User {user} on the map",
                                 height=460, rows=model.map_view())  # fmt: skip
            st.plotly_chart(fig.update_layout(dragmode="zoom", showlegend=False), key="micro.map")
        else:
            st.info("This run has no 2-D map.")
    with st.expander(f"All {len(history)} interactions"):
        st.dataframe(history.drop(columns=["category"]), hide_index=True, width="stretch")


def header(model, model_key: cache.ModelKey, row: int, history) -> None:
    seg = int(model.segments[row])
    cats = cache.top_categories(model_key, model)[row] if len(model.categories) else []
    cols = st.columns([1, 2, 2, 1])
    cols[0].metric("Interactions", f"{len(history):,}")
    with cols[1]:
        st.caption("Segment")
        widgets.segment_header(seg, model.profiles[seg].display_name)
    with cols[2]:
        st.caption("Top categories")
        st.markdown(" · ".join(f"**{c}**" for c in cats) or "—")
    cols[3].metric("Segment membership", f"{float(model.membership[row, seg]):.0%}",
                   help="soft membership P(segment | user) used by the macro level")  # fmt: skip


def item_bars(model, row: int, level: str, title: str, color: str, key: str) -> None:
    top = explore.top_items(model, row, level, N_ITEMS)
    hover = [f"{t}<br>{c}" for t, c in zip(top["title"], top["categories"], strict=True)]
    fig = plots.weight_bars(top["title"].tolist(), top["score"].tolist(), title, color=color, hover=hover)
    st.plotly_chart(fig, key=key)


nav.ensure_app()
main()
