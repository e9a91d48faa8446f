"""Recommendations: tune the fusion weights and see one user's list, the held-out metrics and the NDCG surface.

The weight sliders live in an ``st.fragment``: moving one reruns only the fusion
panel, which fuses the stored level scores for one user, ranks them, and looks
up (memoised) held-out metrics – no level is ever recomputed. The panel draws the
list and the metric numbers first and the charts after them, so what the analyst
reads first arrives first. While the held-out evaluation runs, the same panel
reruns itself every few seconds and shows the metrics in place when it is done.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from mgviz import plots
from mgviz.evaluation.report import describe_params
from mgviz.explore import split_text, user_list
from mgviz.schema import LEVELS
from ui import cache, nav, state, widgets
from ui.evaljob import PANEL_METRICS, panel_row

STEP = 0.05
BROWSER_PAINT_SECONDS = 0.05
N_KEY = state.widget_key("n")
DIVERSITY_KEY = state.widget_key("diversity")
SIMILARITY_KEY = state.widget_key("similarity")
SIMILARITY_LABELS = {"categories": "Categories", "embeddings": "Text embeddings"}


def model_levels(model) -> list[str]:
    """The run's levels in the usual order (a run built before the time level has four)."""
    return [lv for lv in LEVELS if lv in model.levels]


def slider_key(level: str) -> str:
    return state.widget_key(f"weight.{level}")


def main() -> None:
    model, model_key = widgets.require_model()
    st.title("Recommendations")
    st.caption(
        "Each level scores every item for the user; the list ranks items by the weighted sum. "
        "Move the weights – only the fusion reruns."
    )
    user, row = widgets.user_picker(model, "recs")
    job = cache.eval_job(model_key, model)
    (fusion_panel if job.finished else fusion_panel_polling)(model, row, job)
    tuning_panel(model, job)  # outside the fragment: a slider move does not redraw it


def stored_weights(model) -> dict[str, float]:
    """The weights the sliders show: the session's (they outlive the sliders' own keys, which vanish
    while another page is shown), else the run's."""
    return st.session_state.get(state.WEIGHTS) or state.normalised_weights(model.config.weights)


def _snap(value: float) -> float:
    return float(np.clip(round(round(float(value) / STEP) * STEP, 2), 0.0, 1.0))


# ----------------------------------------------------------------------------------------------- fusion fragment
def fusion_body(model, row: int, job) -> None:
    """Sliders, the list, the metric numbers, then the charts – in that order.

    Streamlit sends elements as they are produced, so the list and the metric numbers reach the
    browser before the three charts are even built (docs/benchmarks.md: slider latency).
    """
    evaluation_status(job)
    controls, results = st.columns([1, 3], gap="large")
    with controls:
        weights, n, rerank = weight_controls(model, job)
    if sum(weights.values()) <= 0:
        with results:
            st.warning("Give at least one level a weight above zero.")
        return
    with results:
        recs = user_list(model, row, weights, n, **rerank)
        # Both computed before either is drawn: while the script computes, the server's message loop
        # waits for the interpreter, so a table sent before the metrics were computed arrived no sooner.
        rows = metric_rows(job, weights, rerank)
        diverse = f", re-ranked for diversity: MMR {lambda_text(rerank)}" if rerank["diversity"] > 0 else ""
        st.markdown(f"**Top {n} for user {widgets.md_escape(model.user_ids[row])}**{diverse}")
        table = recs[["rank", "title", "categories", "score", "reason"]].rename(
            columns={"reason": "why it is recommended"}
        )
        with st.container(key="recs-table"):
            st.table(table.assign(score=table["score"].map("{:.3f}".format)), hide_index=True)
        metric_numbers(job, weights, rows, rerank)
    # Let the browser draw the list and the numbers before the chart messages arrive: a Plotly chart
    # received in the same batch holds their paint back by the time it takes to lay out (~100 ms here).
    time.sleep(BROWSER_PAINT_SECONDS)
    bars, comparison = st.columns(2, gap="large")
    with bars:
        st.plotly_chart(plots.contribution_bars(recs, recs["title"].tolist(), title="What each level adds to each item"),
                        key="recs.bars")  # fmt: skip
    with comparison:
        if rows:
            st.plotly_chart(plots.metric_comparison(rows, PANEL_METRICS, title="Current weights vs. pinned and baselines"),
                            key="recs.metrics")  # fmt: skip
    surface_panel(job, weights)


#: The panel as a fragment: a slider move reruns only this function.
fusion_panel = st.fragment(fusion_body)
#: The same panel while the held-out evaluation runs: it also reruns itself every 2 s, so the metrics
#: appear in place when the evaluation is done – no app rerun that could swallow a slider move.
fusion_panel_polling = st.fragment(fusion_body, run_every=widgets.POLL_SECONDS)


def evaluation_status(job) -> None:
    """Progress of the background evaluation, or why it failed, in a slot that is always there.

    The slot keeps every later element of the panel at the same place in the page when the
    progress bar goes away; otherwise the browser would show the panel twice for the length of
    that rerun and remount the sliders under the analyst's hand.
    """
    with st.container(key="recs-eval-status"):
        if not job.finished:
            st.progress(
                job.fraction,
                text=f"Held-out evaluation running in the background ({job.stage}) – metrics appear when it is done.",
            )
        elif job.error:
            st.warning(f"Held-out metrics are not available: {job.error}", icon=":material/warning:")


def weight_controls(model, job) -> tuple[dict[str, float], int, dict]:
    """The level sliders, N, the diversity controls and the buttons; returns the weights, N and the
    MMR setting (``{"diversity", "similarity"}``)."""
    st.markdown("**Fusion weights**")
    stored = stored_weights(model)
    # Each slider's value= is the stored weight, not the slider's minimum: the browser falls back to it
    # whenever it re-creates a slider. On a loaded machine a new session's first fragment reruns did, and
    # every weight jumped to 0 and N to 5 (docs/reliability.md). A value set through session state
    # (Reset, Auto-tune) still takes precedence.
    for level in model_levels(model):
        st.slider(plots.LEVEL_NAMES[level], 0.0, 1.0, value=_snap(stored.get(level, 0.0)), step=STEP,
                  key=slider_key(level))  # fmt: skip
    list_n = int(st.session_state.get(state.LIST_N) or 10)
    n = st.slider("List length N", 5, 50, value=list_n, step=1, key=N_KEY)
    rerank = diversity_controls()
    weights = {level: float(st.session_state[slider_key(level)]) for level in model_levels(model)}
    st.session_state[state.WEIGHTS] = weights
    st.session_state[state.LIST_N] = int(n)
    total = sum(weights.values())
    if total > 0:
        st.caption("Normalised: " + " · ".join(f"{lv} {w / total:.0%}" for lv, w in weights.items()))
    st.button("Pin these weights", icon=":material/push_pin:", on_click=pin, args=(weights, rerank), width="stretch",
              help="Keep them (and the diversity λ) as the reference the metrics compare against.")  # fmt: skip
    untuned = job.ready and not job.tuned
    st.button("Auto-tune", icon=":material/auto_fix_high:", on_click=auto_tune, args=(job,), width="stretch",
              disabled=not job.tuned,
              help="This run's evaluation used fixed weights (a Spark-built run): nothing was tuned. Tune with "
              "`mgviz evaluate` on the local engine." if untuned else
              "Weights chosen on a validation split carved from the training data.")  # fmt: skip
    st.button("Reset to the run's weights", icon=":material/undo:", on_click=set_weights,
              args=(state.normalised_weights(model.config.weights),), width="stretch")  # fmt: skip
    pinned = st.session_state.get(state.PINNED)
    if pinned:
        st.caption("Pinned: " + " · ".join(f"{lv} {w:.2f}" for lv, w in pinned.items())
                   + f" · {rerank_text(pinned_rerank())}")  # fmt: skip
    return weights, int(n), rerank


def diversity_controls() -> dict:
    """The MMR λ slider and what similarity means; the session keeps both (Export uses them too)."""
    stored = state.rerank_setting()
    st.slider("Diversity (MMR λ)", 0.0, 1.0, value=_snap(stored["diversity"]), step=STEP, key=DIVERSITY_KEY,
              help="0 = the fused list. Higher re-ranks each user's best 100 items: the next item is the one "
              "with the best (1 − λ) · relevance − λ · similarity to the items already listed.")  # fmt: skip
    st.segmented_control("Similarity by", list(SIMILARITY_LABELS), format_func=SIMILARITY_LABELS.get,
                         default=stored["similarity"], key=SIMILARITY_KEY, required=True,
                         help="Cosine of the items' category vectors or of their text embeddings.")  # fmt: skip
    rerank = {"diversity": float(st.session_state[DIVERSITY_KEY]),
              "similarity": st.session_state[SIMILARITY_KEY] or stored["similarity"]}  # fmt: skip
    st.session_state[state.DIVERSITY], st.session_state[state.SIMILARITY] = rerank["diversity"], rerank["similarity"]
    return rerank


def rerank_text(rerank: dict | None) -> str:
    """ "diversity λ 0.30 (categories)", or "no diversity re-ranking" at λ = 0."""
    if not rerank or rerank["diversity"] <= 0:
        return "no diversity re-ranking"
    return f"diversity {lambda_text(rerank)}"


def pinned_rerank() -> dict:
    return st.session_state.get(state.PINNED_RERANK) or {"diversity": 0.0, "similarity": "categories"}


def pin(weights: dict[str, float], rerank: dict | None = None) -> None:
    st.session_state[state.PINNED] = dict(weights)
    st.session_state[state.PINNED_RERANK] = dict(rerank or {"diversity": 0.0, "similarity": "categories"})


def set_weights(weights: dict[str, float]) -> None:
    for level in LEVELS:
        st.session_state[slider_key(level)] = _snap(weights.get(level, 0.0))
    st.session_state[state.WEIGHTS] = {lv: st.session_state[slider_key(lv)] for lv in LEVELS}


def auto_tune(job) -> None:
    if job.tuned:
        set_weights(job.auto_weights())


# ----------------------------------------------------------------------------------------------- metrics
def metric_rows(job, weights: dict[str, float], rerank: dict | None = None) -> dict[str, dict[str, float]] | None:
    """Held-out metrics of the current weights and diversity, the pinned ones and the baselines (``None``
    while the evaluation is not ready); memoised per setting in the job."""
    if not job.ready:
        return None
    rows = {"current": panel_row(job.metrics(weights, **(rerank or {})))}
    pinned_weights = st.session_state.get(state.PINNED)
    if pinned_weights:
        rows["pinned"] = panel_row(job.metrics(pinned_weights, **pinned_rerank()))
    rows.update({name: panel_row(m) for name, m in job.baselines.items()})
    return rows


def metric_numbers(job, weights: dict[str, float], rows: dict | None, rerank: dict | None = None) -> None:
    """The metric numbers of the current setting, with their difference to the pinned one."""
    st.markdown("**Held-out metrics**")
    if rows is None:
        st.caption("The metrics appear here once the background evaluation has finished.")
        return
    current, pinned = rows["current"], rows.get("pinned")
    cols = st.columns(len(PANEL_METRICS))
    for col, (key, label) in zip(cols, PANEL_METRICS, strict=True):
        value = current.get(key)
        delta = None
        if pinned and value is not None and pinned.get(key) is not None:
            delta = f"{value - pinned[key]:+.4f} vs. pinned"
        col.metric(label, "—" if value is None else f"{value:.4f}", delta=delta, delta_color="normal")
    with st.container(key="recs-diversity-tradeoff"):  # always there: the elements after it keep their place
        if pinned and lambda_text(rerank) != lambda_text(pinned_rerank()):
            st.caption(diversity_tradeoff(current, pinned, rerank, pinned_rerank()))
    total = sum(weights.values())
    with st.container(key="recs-metrics-for"):  # drawn after the numbers: the browser benchmark waits for it
        st.caption(
            "For weights "
            + " · ".join(f"{lv} {w / total:.2f}" for lv, w in weights.items())
            + f", {rerank_text(rerank)} – "
            + split_text(getattr(job.ctx, "split_info", None) or {})
            + "."
        )


def lambda_text(rerank: dict | None) -> str:
    """ "λ 0.30 (categories)", or "λ 0" (the fused lists)."""
    if not rerank or rerank["diversity"] <= 0:
        return "λ 0"
    return f"λ {rerank['diversity']:.2f} ({SIMILARITY_LABELS[rerank['similarity']].lower()})"


def diversity_tradeoff(current: dict, pinned: dict, rerank: dict | None, pinned_setting: dict) -> str:
    """What the current λ costs in NDCG and gains in diversity and coverage against the pinned one."""
    parts = [f"{label} {current[key] - pinned[key]:+.4f}" for key, label in
             (("ndcg", "NDCG@10"), ("diversity", "diversity"), ("coverage", "coverage"))
             if current.get(key) is not None and pinned.get(key) is not None]  # fmt: skip
    return f"Diversity {lambda_text(rerank)} vs. pinned {lambda_text(pinned_setting)}: " + " · ".join(parts)


def tuning_panel(model, job) -> None:
    """What ``auto`` chose for the levels, and the validation curve behind each choice."""
    record = (getattr(job.ctx, "tuned", None) or {}).get("levels") if job.ready else None
    source = "the held-out evaluation (tuned on a validation part of its training split)"
    if not record and model.tuning and model.tuning.get("levels"):
        record, source = model.tuning["levels"], "this run's build (auto weights)"
    if not record:
        return
    with st.expander("How auto chose the level settings", icon=":material/tune:"):
        st.caption(f"From {source}: {record['fits']} fits in {record['seconds']:.0f} s on "
                   f"{record.get('validation_users', 0):,} validation users. "
                   f"Chosen: {describe_params(record['params'])}. Baselines: {record.get('baselines', {})}."
                   + (f" {record['sample']}." if record.get("sample") else ""))  # fmt: skip
        st.plotly_chart(plots.tuning_curves(record["curves"]), key="recs.tuning")


def surface_panel(job, weights: dict[str, float]) -> None:
    if not job.ready or job.surface is None or job.surface.empty:
        return
    st.subheader("NDCG over the weight simplex")
    surface = job.surface
    left, right = st.columns([1, 3])
    levels = [lv for lv in LEVELS if lv in surface.columns]
    total = sum(weights.get(lv, 0.0) for lv in levels) or 1.0
    by_weight = sorted(levels, key=lambda lv: -weights.get(lv, 0.0))
    with left:
        axes = st.multiselect("Levels on the chart", levels, default=sorted(by_weight[:3], key=levels.index),
                              max_selections=3, key="recs.axes",
                              help="Three levels; the others stay at their current share (on the 0.1 grid).")  # fmt: skip
        if len(axes) != 3:
            st.caption("Pick three levels to see the chart.")
            return
        fixed = {lv: float(np.clip(round(weights.get(lv, 0.0) / total * 10) / 10, 0.0, 1.0))
                 for lv in levels if lv not in axes}  # fmt: skip
        while sum(fixed.values()) > 0.9 + 1e-9:  # leave the chart's three levels some room
            biggest = max(fixed, key=fixed.get)
            fixed[biggest] = round(fixed[biggest] - 0.1, 1)
        best = surface.loc[surface["ndcg"].idxmax()]
        st.caption(
            "Held at: "
            + ", ".join(f"{lv} {v:.1f} (now {weights.get(lv, 0.0) / total:.0%})" for lv, v in fixed.items())
            + ". Best anywhere on the grid: "
            + ", ".join(f"{lv} {best[lv]:.1f}" for lv in levels)
            + f" (NDCG@10 {best['ndcg']:.4f}). Scored on the test split – for exploring, not for choosing."
        )
    with right:
        keep = np.ones(len(surface), dtype=bool)
        for lv, v in fixed.items():
            keep &= np.isclose(surface[lv], v)
        fig = plots.weight_ternary(surface[keep], axes, current=weights, metric="ndcg", fixed=fixed)
        st.plotly_chart(fig, key="recs.surface")


nav.ensure_app()
main()
