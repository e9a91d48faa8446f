"""What-if user: type a new user – demographics, a sentence in their own words, a few items – or take an
existing user and add items; their segment, category mix, keywords and list follow every change.

Each change folds the user into the levels from their own state (:mod:`mgviz.whatif`): nothing is
rebuilt, the open model is not changed, and no other user's list moves.
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from mgviz import plots, whatif
from ui import cache, nav, state, widgets

NEW, EXISTING = "New user", "Existing user"
UNKNOWN = "(not given)"


def main() -> None:
    model, model_key = widgets.require_model()
    st.title("What-if user")
    st.caption(
        "Describe a user who is not in the data – or take one who is and add items – and see what every level "
        "makes of them. Each change folds them into the levels at once: nothing is rebuilt and the open model "
        "does not change."
    )
    context = cache.whatif_context(model_key, model)
    start = st.segmented_control("Start from", [NEW, EXISTING], default=NEW, key="whatif.start", required=True)
    inputs, results = st.columns([1, 2], gap="large")
    with inputs:
        make = new_user_inputs(model, model_key, context) if start == NEW else existing_user_inputs(model, model_key)
    with results:
        try:
            user = make()
        except whatif.WhatIfError as exc:
            st.info(str(exc), icon=":material/info:")
            return
        show_user(model, user)


def new_user_inputs(model, model_key, context):
    """Demographic selects, a text area and an item picker; returns what makes the user from them."""
    demographics = {}
    for col, spec in whatif.demographic_choices(model).items():
        if spec["numeric"]:
            whole = all(float(v).is_integer() for v in (spec["min"], spec["max"], spec["median"]))
            value = st.number_input(col, min_value=spec["min"], max_value=spec["max"], value=None, step=1.0 if whole
                                    else None, key=f"whatif.demo.{col}", placeholder="not given")  # fmt: skip
            if value is not None and math.isfinite(value):
                demographics[col] = value
        else:
            value = st.selectbox(col, [UNKNOWN, *spec["values"]], key=f"whatif.demo.{col}")
            if value != UNKNOWN:
                demographics[col] = value
    text = st.text_area("In their own words", key="whatif.text", height=90,
                        placeholder="a sentence in any language, e.g. “I read space operas and bake bread”")  # fmt: skip
    items = item_picker(model_key, model, "Items they picked", "whatif.items")
    if not items and not cache.cold_start_ready(model_key, model):
        st.caption("This run has no cold-start predictor: a user without items gets the population's category mix.")
    return lambda: whatif.new_user(model, demographics, text, items, context=context)


def existing_user_inputs(model, model_key):
    user, row = widgets.user_picker(model, "whatif")
    seen = set(np.asarray(model.item_ids)[model.seen[row].indices].astype(str))
    items = item_picker(model_key, model, f"Items to add to user {user}'s history", "whatif.add", exclude=seen)
    context = cache.whatif_context(model_key, model)
    return lambda: whatif.extend_user(model, user, items, context=context)


def item_picker(model_key, model, label: str, key: str, exclude: set | None = None) -> list[str]:
    choices = cache.item_choices(model_key, model)
    options = [i for i in choices if not exclude or i not in exclude]
    picked = st.multiselect(label, options, key=key, format_func=lambda i: choices.get(i, i),
                            placeholder="type a title to search")  # fmt: skip
    if len(choices) == cache.MAX_ITEM_CHOICES and len(model.item_ids) > len(choices):
        st.caption(f"The {len(choices):,} most consumed of {len(model.item_ids):,} items.")
    return list(picked)


def show_user(model, user: whatif.WhatIf) -> None:
    for problem in user.warnings:
        st.warning(problem, icon=":material/warning:")
    seg = user.segment
    cols = st.columns([2, 1, 1])
    with cols[0]:
        st.caption("Nearest segment")
        widgets.segment_header(seg, model.profiles[seg].display_name)
    cols[1].metric("Segment membership", f"{float(user.membership[seg]):.0%}",
                   help="soft membership P(segment | user) the macro level scores with")  # fmt: skip
    cols[2].metric("Items", f"{user.seen.nnz:,}")
    source = {"history": "from their items", "cold-start predictor": "predicted from demographics and text "
              "(cold-start predictor)", "population prior": "the population's mix (nothing to go on yet)"}  # fmt: skip
    st.markdown("**Keywords** " + widgets.chips([w for w, _ in user.keywords]),
                help="from the text of their items and their own words")  # fmt: skip
    st.caption(f"Category mix {source[user.mix_source]}.")
    population = model.category_mix.mean(axis=0)
    name = "what-if user" if user.row is None else f"user {user.user_id} + {len(user.items)} item(s)"
    st.plotly_chart(plots.category_mix_bars(user.mix, population, model.categories, name, top=10), key="whatif.mix")
    user_list(model, user)


def user_list(model, user: whatif.WhatIf) -> None:
    weights = st.session_state.get(state.WEIGHTS) or state.normalised_weights(model.config.weights)
    n = int(st.session_state.get(state.LIST_N) or 10)
    rerank = state.rerank_setting()
    if sum(weights.values()) <= 0:
        st.warning("Give at least one level a weight above zero on the Recommendations page.")
        return
    recs = whatif.recommend(model, user, weights, n=n, **rerank)
    st.markdown(f"**Top {n}**" + (" – the micro and time levels are left out until the user has items"
                                  if user.cold else ""))  # fmt: skip
    if user.row is not None:
        before = model.recommend(weights, n=n, rows=[user.row], **rerank)["item_id"]
        fresh = int((~recs["item_id"].isin(set(before))).sum())
        st.caption(f"{fresh} of the {len(recs)} items are new against user {user.user_id}'s list without them.")
    table = recs[["rank", "title", "categories", "score", "reason"]].rename(columns={"reason": "why it is recommended"})
    with st.container(key="whatif-table"):
        st.table(table.assign(score=table["score"].map("{:.3f}".format)), hide_index=True)
    st.caption("Weights, N and diversity as set on the Recommendations page.")
    st.plotly_chart(plots.contribution_bars(recs, recs["title"].tolist(), title="What each level adds to each item"),
                    key="whatif.bars")  # fmt: skip


nav.ensure_app()
main()
