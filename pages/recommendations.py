"""Recommendations: tune the fusion weights and see one user's list, the held-out metrics and the NDCG surface.

The weight sliders live in an ``st.fragment``: moving one reruns only the fusion
panel, which fuses the stored level scores for one user, ranks them, and looks
up (memoised) held-out metrics – no level is ever recomputed.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from mgviz import plots
from mgviz.explore import user_list
from mgviz.schema import LEVELS
from ui import cache, nav, state, widgets
from ui.evaljob import PANEL_METRICS, panel_row

STEP = 0.05
N_KEY = state.widget_key("n")
HIGHER_IS_BETTER = {"ndcg": True, "recall": True, "coverage": True, "diversity": True, "novelty": True}


def slider_key(level: str) -> str:
    return state.widget_key(f"weight.{level}")


def main() -> None:
    model, token = widgets.require_model()
    st.title("Recommendations")
    st.caption(
        "Each level scores every item for the user; the list ranks items by the weighted sum. "
        "Move the weights – only the fusion reruns."
    )
    user, row = widgets.user_picker(model, "recs")
    job = cache.eval_job(token, model)
    if not job.finished:
        evaluation_progress(job)
    elif job.error:
        st.warning(f"Held-out metrics are not available: {job.error}", icon=":material/warning:")
    seed_sliders(model)
    fusion_panel(model, row, job)


def seed_sliders(model) -> None:
    """Give the sliders the stored weights (their own keys vanish while another page is shown)."""
    weights = st.session_state.get(state.WEIGHTS) or state.normalised_weights(model.config.weights)
    for level in LEVELS:
        st.session_state.setdefault(slider_key(level), _snap(weights.get(level, 0.0)))
    st.session_state.setdefault(N_KEY, int(st.session_state.get(state.LIST_N) or 10))


def _snap(value: float) -> float:
    return float(np.clip(round(round(float(value) / STEP) * STEP, 2), 0.0, 1.0))


def evaluation_progress(job) -> None:
    """A progress line that polls the background evaluation and reruns the page when it is done."""

    @st.fragment(run_every=2)
    def poll() -> None:
        if job.finished:
            st.rerun(scope="app")
        st.progress(
            job.fraction,
            text=f"Held-out evaluation running in the background ({job.stage}) – metrics appear when it is done.",
        )

    poll()


# ----------------------------------------------------------------------------------------------- fusion fragment
@st.fragment
def fusion_panel(model, row: int, job) -> None:
    controls, results = st.columns([1, 3], gap="large")
    with controls:
        weights, n = weight_controls(model, job)
    if sum(weights.values()) <= 0:
        with results:
            st.warning("Give at least one level a weight above zero.")
        return
    with results:
        recs = user_list(model, row, weights, n)
        st.plotly_chart(
            plots.contribution_bars(recs, recs["title"].tolist(), title=f"Top {n} for user {model.user_ids[row]}"),
            key="recs.bars",
        )
        table = recs[["rank", "title", "categories", "score", "reason"]].rename(
            columns={"reason": "why it is recommended"}
        )
        st.table(table.assign(score=table["score"].map("{:.3f}".format)), hide_index=True)
    metrics_panel(job, weights)
    surface_panel(job, weights)


def weight_controls(model, job) -> tuple[dict[str, float], int]:
    st.markdown("**Fusion weights**")
    for level in LEVELS:
        st.slider(plots.LEVEL_NAMES[level], 0.0, 1.0, step=STEP, key=slider_key(level))
    n = st.slider("List length N", 5, 50, step=1, key=N_KEY)
    weights = {level: float(st.session_state[slider_key(level)]) for level in LEVELS}
    st.session_state[state.WEIGHTS] = weights
    st.session_state[state.LIST_N] = int(n)
    total = sum(weights.values())
    if total > 0:
        st.caption("Normalised: " + " · ".join(f"{lv} {w / total:.0%}" for lv, w in weights.items()))
    st.button("Pin these weights", icon=":material/push_pin:", on_click=pin, args=(weights,), width="stretch",
              help="Keep them as the reference the metrics compare against.")  # fmt: skip
    st.button("Auto-tune", icon=":material/auto_fix_high:", on_click=auto_tune, args=(job,), width="stretch",
              disabled=not job.ready, help="Weights chosen on a validation split carved from the training data.")  # fmt: skip
    st.button("Reset to the run's weights", icon=":material/undo:", on_click=set_weights,
              args=(state.normalised_weights(model.config.weights),), width="stretch")  # fmt: skip
    pinned = st.session_state.get(state.PINNED)
    if pinned:
        st.caption("Pinned: " + " · ".join(f"{lv} {w:.2f}" for lv, w in pinned.items()))
    return weights, int(n)


def pin(weights: dict[str, float]) -> None:
    st.session_state[state.PINNED] = dict(weights)


def set_weights(weights: dict[str, float]) -> None:
    for level in LEVELS:
        st.session_state[slider_key(level)] = _snap(weights.get(level, 0.0))
    st.session_state[state.WEIGHTS] = {lv: st.session_state[slider_key(lv)] for lv in LEVELS}


def auto_tune(job) -> None:
    if job.ready:
        set_weights(job.auto_weights())


# ----------------------------------------------------------------------------------------------- metrics
def metrics_panel(job, weights: dict[str, float]) -> None:
    st.subheader("Held-out metrics")
    if not job.ready:
        st.caption("The metrics panel appears once the background evaluation has finished.")
        return
    current = panel_row(job.metrics(weights))
    pinned_weights = st.session_state.get(state.PINNED)
    pinned = panel_row(job.metrics(pinned_weights)) if pinned_weights else None
    cols = st.columns(len(PANEL_METRICS))
    for col, (key, label) in zip(cols, PANEL_METRICS, strict=True):
        value = current.get(key)
        delta = None
        if pinned and value is not None and pinned.get(key) is not None:
            delta = f"{value - pinned[key]:+.4f} vs. pinned"
        col.metric(label, "—" if value is None else f"{value:.4f}", delta=delta, delta_color="normal")
    rows = {"current": current}
    if pinned:
        rows["pinned"] = pinned
    rows.update({name: panel_row(m) for name, m in job.baselines.items()})
    st.plotly_chart(plots.metric_comparison(rows, PANEL_METRICS, title="Current weights vs. pinned and baselines"),
                    key="recs.metrics")  # fmt: skip
    info = getattr(job.ctx, "split_info", None) or {}
    if info:
        st.caption("Split: " + ", ".join(f"{k} {v}" for k, v in info.items() if not isinstance(v, dict | list)))


def surface_panel(job, weights: dict[str, float]) -> None:
    if not job.ready or job.surface is None or job.surface.empty:
        return
    st.subheader("NDCG over the weight simplex")
    surface = job.surface
    left, right = st.columns([1, 3])
    with left:
        fixed = st.selectbox("Level held fixed", LEVELS, index=LEVELS.index("semantic"), key="recs.fixed",
                             help="The chart shows the other three levels; this one stays at its current share.")  # fmt: skip
        total = sum(weights.values())
        share = weights[fixed] / total
        grid = float(np.clip(round(share * 10) / 10, 0.0, 0.9))
        best = surface.loc[surface["ndcg"].idxmax()]
        st.caption(
            f"{fixed} is at {share:.0%} now; the chart shows the grid slice at {grid:.1f}. "
            "Best anywhere on the grid: "
            + ", ".join(f"{lv} {best[lv]:.1f}" for lv in LEVELS)
            + f" (NDCG@10 {best['ndcg']:.4f}). Scored on the test split – for exploring, not for choosing."
        )
    with right:
        part = surface[np.isclose(surface[fixed], grid)]
        axes = [lv for lv in LEVELS if lv != fixed]
        fig = plots.weight_ternary(part, axes, current=weights, metric="ndcg", fixed=(fixed, grid))
        st.plotly_chart(fig, key="recs.surface")


nav.ensure_app()
main()
