"""Plotly figures for the dashboard and the HTML report.

Every function is a free function that takes plain data (arrays, frames, dicts)
or a fitted :class:`~mgviz.pipeline.InterestModel` and returns a
:class:`plotly.graph_objects.Figure`. Nothing here imports Streamlit, so the
same figures go into the app, the self-contained HTML report and tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from mgviz.schema import LEVELS

#: One colour per level, used wherever levels appear (contribution bars, legends).
LEVEL_COLORS = {"macro": "#4C78A8", "meso": "#F58518", "micro": "#54A24B", "semantic": "#B279A2", "time": "#72B7B2",
                "social": "#E45756"}  # fmt: skip
#: Human names of the levels.
LEVEL_NAMES = {
    "macro": "macro (segment)",
    "meso": "meso (categories)",
    "micro": "micro (ALS)",
    "semantic": "semantic (text)",
    "time": "time (recent)",
    "social": "social (friends)",
}
_PALETTE = qualitative.T10 + qualitative.Pastel + qualitative.Dark24
_FONT = {"family": "Inter, 'Source Sans Pro', Arial, sans-serif", "size": 13}
_EMPTY_NOTE = "no data"
_WHITE = pio.templates["plotly_white"]


def segment_color(segment: int) -> str:
    """Colour of segment ``segment`` (stable across every chart)."""
    return _PALETTE[int(segment) % len(_PALETTE)]


def _layout(fig: go.Figure, title: str | None = None, height: int | None = None, **kwargs) -> go.Figure:
    """Shared look: white template, readable font, compact margins, title on the left."""
    margin = {"l": 10, "r": 10, "t": 50 if title else 20, "b": 10, **kwargs.pop("margin", {})}
    fig.update_layout(
        template="plotly_white",
        font=_FONT,
        title={"text": title, "x": 0.0, "xanchor": "left"} if title else None,
        margin=margin,
        height=height,
        **kwargs,
    )
    return fig


def empty_figure(message: str = _EMPTY_NOTE, title: str | None = None, height: int = 260) -> go.Figure:
    """A blank figure that says why it is blank (instead of an empty chart)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height)


def _short(text: str, n: int = 40) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


# ----------------------------------------------------------------------------------------------- data summary
def rating_histogram(ratings: Sequence[float], title: str = "Ratings") -> go.Figure:
    """Bar chart of how often each rating value occurs (binned when there are many distinct values)."""
    values = pd.Series(np.asarray(ratings, dtype=float)).dropna()
    if values.empty:
        return empty_figure("no ratings", title)
    if values.nunique() <= 20:
        counts = values.value_counts().sort_index()
        fig = go.Figure(go.Bar(x=counts.index.astype(str), y=counts.to_numpy(), marker_color="#4C78A8"))
        fig.update_xaxes(type="category", title="rating")
    else:  # binned here: a figure of 30 bars, not of every interaction
        counts, edges = np.histogram(values.to_numpy(), bins=30)
        fig = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), marker_color="#4C78A8"))
        fig.update_xaxes(title="rating")
    fig.update_yaxes(title="interactions")
    return _layout(fig, title, 300, bargap=0.15)


def long_tail(item_counts: Sequence[float], title: str = "Long tail of item popularity") -> go.Figure:
    """Interactions per item, items sorted by popularity, with the share held by the top 20 % of items."""
    counts = np.sort(np.asarray(item_counts, dtype=float))[::-1]
    if counts.size == 0 or counts.sum() <= 0:
        return empty_figure("no interactions", title)
    rank = np.arange(1, counts.size + 1)
    head = max(1, int(round(0.2 * counts.size)))
    share = counts[:head].sum() / counts.sum()
    if counts.size > 2000:  # a big catalogue: ~2,000 log-spaced ranks draw the same curve
        keep = np.unique(np.geomspace(1, counts.size, 2000).astype(int)) - 1
        rank, counts = rank[keep], counts[keep]
    fig = go.Figure(
        go.Scatter(
            x=rank, y=counts, mode="lines", fill="tozeroy", line={"color": "#4C78A8"},
            hovertemplate="item rank %{x}<br>%{y:.0f} interactions<extra></extra>",
        )
    )  # fmt: skip
    fig.add_vline(x=head, line_dash="dot", line_color="#E45756")
    fig.add_annotation(
        x=head, y=0.98, yref="paper", xanchor="left", yanchor="top", showarrow=False,
        text=f" top 20% of items: {share:.0%} of interactions", font={"color": "#E45756"},
    )  # fmt: skip
    fig.update_xaxes(title="items, most popular first")
    if counts.max() / max(counts[counts > 0].min(), 1) > 50:
        fig.update_yaxes(title="interactions (log scale)", type="log", dtick=1)
    else:
        fig.update_yaxes(title="interactions", rangemode="tozero")
    return _layout(fig, title, 300)


# ----------------------------------------------------------------------------------------------- macro level
def user_map(
    xy: np.ndarray,
    segments: Sequence[int],
    labels: Sequence[str],
    user_ids: Sequence[str],
    top_categories: Sequence[Sequence[str]] | None = None,
    highlight: int | None = None,
    title: str | None = "Users on the UMAP map, coloured by segment",
    height: int = 560,
    max_label: int = 38,
    rows: Sequence[int] | None = None,
) -> go.Figure:
    """Scatter of users on the 2-D map, one trace per segment, box/lasso-selectable (WebGL).

    Parameters
    ----------
    xy : ndarray, shape (n_users, 2)
        Map coordinates.
    segments : sequence of int
        Segment of each user.
    labels : sequence of str
        Label of each segment (indexed by segment number).
    user_ids : sequence of str
        User id of each row.
    top_categories : sequence of sequence of str, optional
        Each user's strongest categories, shown on hover.
    highlight : int, optional
        Row of a user to mark with a star.
    rows : sequence of int, optional
        The user row of each map point, when the map shows a sample of users (``segments``,
        ``user_ids`` and ``top_categories`` are then for all users); default: point j is user j.

    Returns
    -------
    plotly.graph_objects.Figure
        ``customdata[0]`` of every point is its row in the user arrays, so a
        selection can be mapped back to users.
    """
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != 2 or len(xy) == 0:
        return empty_figure("no map for this run (built without UMAP)", title, 300)
    point_rows = np.arange(len(xy)) if rows is None else np.asarray(rows, dtype=int)
    segments = np.asarray(segments, dtype=int)[point_rows]
    user_ids = np.asarray(user_ids).astype(str)[point_rows]
    if top_categories is None:
        cats = np.full(len(xy), "", dtype=object)
    else:
        cats = np.asarray([", ".join(top_categories[r]) for r in point_rows], dtype=object)
    fig = go.Figure()
    size = 7 if len(xy) < 3000 else 4
    for s in sorted(set(segments.tolist())):
        pts = np.flatnonzero(segments == s)
        label = labels[s] if s < len(labels) else f"segment {s}"
        custom = np.stack([point_rows[pts].astype(str), user_ids[pts], np.full(len(pts), label), cats[pts]], axis=1)
        fig.add_trace(
            go.Scattergl(
                x=xy[pts, 0], y=xy[pts, 1], mode="markers", name=_short(f"{s}: {label}", max_label),
                marker={"size": size, "color": segment_color(s), "opacity": 0.75, "line": {"width": 0}},
                customdata=custom,
                hovertemplate="user %{customdata[1]}<br>segment: %{customdata[2]}<br>"
                "top categories: %{customdata[3]}<extra></extra>",
            )
        )  # fmt: skip
    at = np.flatnonzero(point_rows == highlight) if highlight is not None else []
    if len(at):  # the highlighted user is on the map (on a sampled map they may not be)
        highlight = int(at[0])
        # WebGL traces draw above SVG ones, so the marker is a WebGL trace too; the label is an annotation.
        fig.add_trace(
            go.Scattergl(
                x=[xy[highlight, 0]], y=[xy[highlight, 1]], mode="markers", name=f"user {user_ids[highlight]}",
                marker={"symbol": "star", "size": 24, "color": "#111111", "line": {"width": 2, "color": "white"}},
                hoverinfo="skip",
            )
        )  # fmt: skip
        fig.add_annotation(
            x=float(xy[highlight, 0]), y=float(xy[highlight, 1]), text=f"<b>user {user_ids[highlight]}</b>",
            showarrow=True, arrowhead=2, ax=40, ay=-40, bgcolor="rgba(255,255,255,0.85)", font={"size": 14},
        )  # fmt: skip
    fig.update_xaxes(showticklabels=False, title=None, zeroline=False)
    fig.update_yaxes(showticklabels=False, title=None, zeroline=False, scaleanchor=None)
    return _layout(
        fig, title, height, dragmode="select", legend={"title": {"text": "segment"}, "itemsizing": "constant"},
        hovermode="closest",
    )  # fmt: skip


def friends_map(
    xy: np.ndarray,
    segments: Sequence[int],
    labels: Sequence[str],
    user_ids: Sequence[str],
    user_row: int,
    friend_rows: Sequence[int],
    top_categories: Sequence[Sequence[str]] | None = None,
    rows: Sequence[int] | None = None,
    title: str | None = None,
    height: int = 560,
) -> go.Figure:
    """:func:`user_map` with one user starred and their friends ringed, a line from the user to each.

    ``friend_rows`` are user rows (:func:`mgviz.explore.friends_of`); friends who are not on a sampled
    map (``rows``) are left out. The friends' trace is named ``"friends of user …"``.
    """
    ids = np.asarray(user_ids).astype(str)
    title = title if title is not None else f"Friends of user {ids[user_row]} on the map"
    fig = user_map(xy, segments, labels, user_ids, top_categories, highlight=user_row, title=title, height=height,
                   rows=rows)  # fmt: skip
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != 2 or len(xy) == 0:
        return fig
    point_rows = np.arange(len(xy)) if rows is None else np.asarray(rows, dtype=int)
    where = {int(r): j for j, r in enumerate(point_rows)}
    shown = [where[int(r)] for r in friend_rows if int(r) in where]
    me = where.get(int(user_row))
    if me is not None and shown:
        lx = [v for j in shown for v in (xy[me, 0], xy[j, 0], None)]
        ly = [v for j in shown for v in (xy[me, 1], xy[j, 1], None)]
        fig.add_trace(go.Scattergl(x=lx, y=ly, mode="lines", line={"color": "rgba(17,17,17,0.45)", "width": 1.5},
                                   hoverinfo="skip", showlegend=False))  # fmt: skip
    if shown:
        seg = np.asarray(segments, dtype=int)
        fig.add_trace(
            go.Scattergl(
                x=xy[shown, 0], y=xy[shown, 1], mode="markers", name=f"friends of user {ids[user_row]} ({len(shown)})",
                marker={"symbol": "circle-open", "size": 16, "color": "#111111", "line": {"width": 2.5}},
                customdata=np.stack([point_rows[shown].astype(str), ids[point_rows[shown]],
                                     np.asarray([labels[seg[point_rows[j]]] for j in shown])], axis=1),
                hovertemplate="friend %{customdata[1]}<br>segment: %{customdata[2]}<extra></extra>",
            )
        )  # fmt: skip
    star = [t for t in fig.data if t.name == f"user {ids[user_row]}"]  # the user's star above the lines
    fig.data = tuple([t for t in fig.data if t not in star] + star)
    return fig


def k_quality(k_scores: pd.DataFrame, current_k: int | None = None, title: str = "Choosing K") -> go.Figure:
    """Silhouette (left axis, higher is better) and inertia (right axis, look for the elbow) across K."""
    if k_scores is None or len(k_scores) == 0:
        return empty_figure("K quality was not computed for this run", title)
    ks = k_scores.sort_values("k")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(x=ks["k"], y=ks["silhouette"], name="silhouette (higher is better)", mode="lines+markers",
                   line={"color": "#4C78A8", "width": 3}),
        secondary_y=False,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=ks["k"], y=ks["inertia"], name="inertia (look for the elbow)", mode="lines+markers",
                   line={"color": "#F58518", "dash": "dot"}),
        secondary_y=True,
    )  # fmt: skip
    _mark_k(fig, current_k)
    fig.update_yaxes(title="silhouette", secondary_y=False)
    fig.update_yaxes(title="inertia", secondary_y=True, showgrid=False)
    return _layout(fig, title, 330, legend={"orientation": "h", "y": -0.3, "x": 0})


def _mark_k(fig: go.Figure, current_k: int | None) -> None:
    """The K axis of a per-K chart, with the current K marked."""
    if current_k is not None:
        fig.add_vline(x=current_k, line_color="#E45756", line_width=2)
        fig.add_annotation(x=current_k, y=1.0, yref="paper", text=f"K = {current_k}", showarrow=False,
                           yanchor="bottom", font={"color": "#E45756"})  # fmt: skip
    fig.update_xaxes(title="K (number of segments)", dtick=1)


def k_stability(
    per_k: pd.DataFrame | None, current_k: int | None = None, title: str = "Stability across K"
) -> go.Figure:
    """Mean ARI between K-means runs with different seeds, for each K (1 = the same segments every time).

    ``per_k`` has columns ``k, ari_seeds`` (:func:`mgviz.stability.k_stability`).
    """
    if per_k is None or len(per_k) == 0:
        return empty_figure("stability per K was not computed for this run", title)
    ks = per_k.sort_values("k")
    fig = go.Figure(
        go.Scatter(x=ks["k"], y=ks["ari_seeds"], name="ARI across seeds (higher is steadier)", mode="lines+markers",
                   line={"color": "#54A24B", "width": 3},
                   hovertemplate="K = %{x}<br>ARI across seeds %{y:.2f}<extra></extra>")
    )  # fmt: skip
    _mark_k(fig, current_k)
    low = min(0.0, float(ks["ari_seeds"].min()))  # ARI can dip below 0 (worse than chance)
    fig.update_yaxes(title="ARI across seeds", range=[low, 1.05])
    return _layout(fig, title, 330, showlegend=True, legend={"orientation": "h", "y": -0.3, "x": 0})


def segment_sizes(labels: Sequence[str], sizes: Sequence[int], title: str = "Segment sizes") -> go.Figure:
    """Horizontal bars of users per segment."""
    if len(sizes) == 0:
        return empty_figure("no segments", title)
    names = [_short(f"{s}: {lab}", 45) for s, lab in enumerate(labels)]
    fig = go.Figure(
        go.Bar(
            x=list(sizes), y=names, orientation="h", marker_color=[segment_color(s) for s in range(len(sizes))],
            text=[f"{int(v):,}" for v in sizes], textposition="auto",
            hovertemplate="%{y}<br>%{x} users<extra></extra>",
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title="users")
    return _layout(fig, title, 60 + 34 * len(sizes))


def share_bars(shares: dict[str, float], title: str, color: str = "#4C78A8", height: int | None = None) -> go.Figure:
    """Horizontal bars of named shares (0..1), largest on top."""
    if not shares:
        return empty_figure(_EMPTY_NOTE, title)
    items = sorted(shares.items(), key=lambda kv: -kv[1])
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in items], y=[_short(k, 40) for k, _ in items], orientation="h", marker_color=color,
            text=[f"{v:.0%}" for _, v in items], textposition="auto", hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    return _layout(fig, title, height or 60 + 30 * len(items))


# ----------------------------------------------------------------------------------------------- meso level
def segment_category_heatmap(
    matrix: np.ndarray,
    segment_labels: Sequence[str],
    categories: Sequence[str],
    relative: bool = False,
    title: str | None = None,
    population: np.ndarray | None = None,
) -> go.Figure:
    """Segments × categories heatmap of mean category share, or of lift over the population mix.

    Parameters
    ----------
    matrix : ndarray, shape (n_segments, n_categories)
        Mean category mix of each segment.
    relative : bool
        Show lift (segment share / population share) on a diverging scale instead of shares.
    population : ndarray, optional
        The population's category mix for the lift (default: the mean of the segment rows).
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.size == 0:
        return empty_figure("no categories", title)
    rows = [_short(f"{s}: {lab}", 42) for s, lab in enumerate(segment_labels)]
    if relative:
        pop = matrix.mean(axis=0) if population is None else np.asarray(population, dtype=float)
        lift = matrix / np.maximum(pop, 1e-12)
        colorbar = {
            "title": {"text": "lift"},
            "tickvals": [-2, -1, 0, 1, 2],
            "ticktext": ["¼×", "½×", "1×", "2×", "4×"],
        }
        trace = go.Heatmap(
            z=np.log2(np.maximum(lift, 1e-3)), x=list(categories), y=rows, colorscale="RdBu_r", zmid=0,
            zmin=-2, zmax=2, text=np.vectorize(lambda v: f"{v:.1f}×")(lift), texttemplate="%{text}", customdata=lift,
            hovertemplate="%{y}<br>%{x}: %{customdata:.2f}× the population share<extra></extra>", colorbar=colorbar,
        )  # fmt: skip
    else:
        text = np.vectorize(lambda v: f"{v:.0%}")(matrix)
        trace = go.Heatmap(
            z=matrix, x=list(categories), y=rows, colorscale="Blues", text=text, texttemplate="%{text}",
            hovertemplate="%{y}<br>%{x}: %{z:.1%} of interest<extra></extra>",
            colorbar={"title": {"text": "share"}, "tickformat": ".0%"},
        )  # fmt: skip
    fig = go.Figure(trace)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(tickangle=-35, automargin=True, side="bottom")
    title = title or ("Lift of each category per segment (vs. all users)" if relative else "Category mix per segment")
    return _layout(fig, title, 140 + 44 * len(rows))


def category_mix_bars(
    mix: np.ndarray,
    population: np.ndarray,
    categories: Sequence[str],
    name: str,
    top: int | None = 15,
    title: str | None = None,
) -> go.Figure:
    """Grouped horizontal bars: a segment's or user's category mix against the population's."""
    mix, population = np.asarray(mix, dtype=float), np.asarray(population, dtype=float)
    if mix.size == 0:
        return empty_figure("no categories", title)
    order = np.argsort(-mix, kind="stable")[: top or len(mix)]
    cats = [categories[j] for j in order]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=cats, x=mix[order], name=_short(name, 40), orientation="h", marker_color="#4C78A8",
                         hovertemplate="%{y}: %{x:.1%}<extra>" + _short(name, 30) + "</extra>"))  # fmt: skip
    fig.add_trace(go.Bar(y=cats, x=population[order], name="all users", orientation="h", marker_color="#BAB0AC",
                         hovertemplate="%{y}: %{x:.1%}<extra>all users</extra>"))  # fmt: skip
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(tickformat=".0%", title="share of interest")
    return _layout(
        fig, title or f"Category mix: {_short(name, 50)} vs. all users", 100 + 30 * len(cats), barmode="group",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )  # fmt: skip


DRIFT_COLORS = ("#BAB0AC", "#4C78A8", "#72B7B2", "#F58518")


def drift_mix(frame: pd.DataFrame, user: str, top: int = 8, title: str | None = None) -> go.Figure:
    """Grouped horizontal bars of one user's category mix: earlier half, later half of the history and
    the lists of the time and micro levels (long frame ``category, what, share`` from
    :func:`mgviz.explore.drift_view`); the ``top`` categories by their largest share."""
    title = title or f"Interest drift: user {_short(user, 40)}"
    if frame is None or frame.empty or not frame["share"].gt(0).any():
        return empty_figure("no categorised interactions", title)
    order = frame.groupby("category", sort=False)["share"].max().sort_values(ascending=False, kind="stable")
    cats = [c for c in order.index[:top] if order[c] > 0]
    fig = go.Figure()
    for j, (what, part) in enumerate(frame.groupby("what", sort=False)):
        part = part.set_index("category")["share"].reindex(cats)
        fig.add_trace(go.Bar(y=cats, x=part.to_numpy(), name=str(what), orientation="h",
                             marker_color=DRIFT_COLORS[j % len(DRIFT_COLORS)],
                             hovertemplate="%{y}: %{x:.0%}<extra>" + str(what) + "</extra>"))  # fmt: skip
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(tickformat=".0%", title="share")
    return _layout(
        fig, title, 140 + 44 * len(cats), barmode="group",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )  # fmt: skip


def category_shares_over_time(
    frame: pd.DataFrame, top: int = 12, title: str = "Category shares over time"
) -> go.Figure:
    """Stacked area of each category's share of interactions per period (long frame: period, category, share).

    Categories beyond the ``top`` largest overall are merged into "other".
    """
    if frame is None or frame.empty:
        return empty_figure("the log has no timestamps", title)
    f = frame.copy()
    overall = f.groupby("category")["share"].mean().sort_values(ascending=False)
    keep = set(overall.index[:top])
    f["category"] = f["category"].where(f["category"].isin(keep), "other")
    f = f.groupby(["period", "category"], as_index=False)["share"].sum()
    order = [c for c in overall.index if c in keep] + (["other"] if "other" in set(f["category"]) else [])
    fig = go.Figure()
    for j, cat in enumerate(order):
        part = f[f["category"] == cat].sort_values("period")
        fig.add_trace(
            go.Scatter(
                x=part["period"], y=part["share"], name=str(cat), stackgroup="one", mode="lines",
                line={"width": 0.5, "color": _PALETTE[j % len(_PALETTE)]},
                hovertemplate="%{x|%b %Y}<br>" + str(cat) + ": %{y:.1%}<extra></extra>",
            )
        )  # fmt: skip
    fig.update_yaxes(tickformat=".0%", range=[0, 1], title="share of interactions")
    fig.update_xaxes(title=None)
    return _layout(fig, title, 380, hovermode="x unified")


def cold_start_quality(quality: dict | None, title: str = "Cold-start predictor (cross-validated)") -> go.Figure:
    """Predictor vs. population prior: mean absolute error of the category mix and top-1 accuracy."""
    if not quality:
        return empty_figure("no cold-start predictor for this run", title)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("error of the mix (lower is better)",
                                                        "top category right (higher is better)"),
                        horizontal_spacing=0.14)  # fmt: skip
    names = ["predictor", "population prior"]
    colors = ["#54A24B", "#BAB0AC"]
    fig.add_trace(go.Bar(x=names, y=[quality.get("mae"), quality.get("mae_prior")], marker_color=colors,
                         text=[f"{quality.get('mae', 0):.3f}", f"{quality.get('mae_prior', 0):.3f}"],
                         textposition="auto", showlegend=False), row=1, col=1)  # fmt: skip
    fig.add_trace(go.Bar(x=names, y=[quality.get("top1_accuracy"), quality.get("top1_prior")], marker_color=colors,
                         text=[f"{quality.get('top1_accuracy', 0):.0%}", f"{quality.get('top1_prior', 0):.0%}"],
                         textposition="auto", showlegend=False), row=1, col=2)  # fmt: skip
    fig.update_yaxes(tickformat=".0%", row=1, col=2, range=[0, 1])
    fig.update_annotations(font={"size": 13}, yshift=4)
    return _layout(fig, title, 340, margin={"t": 90})


# ----------------------------------------------------------------------------------------------- micro level
def history_timeline(history: pd.DataFrame, title: str = "Interaction history") -> go.Figure:
    """One marker per interaction: time on x, the item's first category on y, size by rating.

    ``history`` columns: ``time`` (datetime or number), ``title``, ``category``, ``rating``.
    """
    if history is None or history.empty:
        return empty_figure("this user has no interactions", title)
    h = history.copy()
    cats = h["category"].fillna("(none)").astype(str)
    rating = pd.to_numeric(h["rating"], errors="coerce").fillna(1.0)
    lo, hi = float(rating.min()), float(rating.max())
    size = 9 + 9 * (rating - lo) / (hi - lo) if hi > lo else np.full(len(h), 12.0)
    order = cats.value_counts().index.tolist()
    color = {c: _PALETTE[j % len(_PALETTE)] for j, c in enumerate(order)}
    fig = go.Figure(
        go.Scatter(
            x=h["time"], y=cats, mode="markers",
            marker={"size": size, "color": [color[c] for c in cats], "opacity": 0.8, "line": {"width": 1, "color": "white"}},
            customdata=np.stack([h["title"].astype(str), rating.astype(str)], axis=1),
            hovertemplate="%{x}<br>%{customdata[0]}<br>%{y} · rating %{customdata[1]}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1], automargin=True, title=None)
    fig.update_xaxes(title=None)
    return _layout(fig, title, 120 + 30 * len(order))


def weight_bars(
    names: Sequence[str],
    weights: Sequence[float],
    title: str,
    color: str = "#54A24B",
    value_format: str = ".3f",
    hover: Sequence[str] | None = None,
) -> go.Figure:
    """Horizontal bars of named weights (keywords, item scores), first name on top."""
    if len(names) == 0:
        return empty_figure(_EMPTY_NOTE, title)
    fig = go.Figure(
        go.Bar(
            x=list(weights), y=[_short(n, 45) for n in names], orientation="h", marker_color=color,
            texttemplate="%{x:" + value_format + "}", textposition="auto",
            customdata=list(hover) if hover is not None else list(names),
            hovertemplate="%{customdata}<br>%{x:" + value_format + "}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", automargin=True)
    return _layout(fig, title, 80 + 28 * len(names))


# ----------------------------------------------------------------------------------------------- fusion
def _figure(data: list[dict], layout: dict, title: str | None, height: int | None) -> go.Figure:
    """One validated construction from plain dicts (several times faster than add_trace / update_* calls);
    used by the figures redrawn on every fusion-slider move."""
    base = {
        "template": _WHITE,
        "font": _FONT,
        "title": {"text": title, "x": 0.0, "xanchor": "left"} if title else None,
        "margin": {"l": 10, "r": 10, "t": 50 if title else 20, "b": 10, **layout.pop("margin", {})},
        "height": height,
    }
    return go.Figure(data=data, layout={**base, **layout})


def contribution_bars(recs: pd.DataFrame, labels: Sequence[str] | None = None, title: str | None = None) -> go.Figure:
    """Stacked horizontal bar per recommended item of each level's contribution to its fused score.

    Parameters
    ----------
    recs : pandas.DataFrame
        One user's list as from :meth:`InterestModel.recommend` (``rank`` and one column per level).
    labels : sequence of str, optional
        Row labels (e.g. item titles); default item ids.
    """
    if recs is None or recs.empty:
        return empty_figure("no recommendations", title)
    recs = recs.sort_values("rank")
    names = list(labels) if labels is not None else recs["item_id"].astype(str).tolist()
    rows = [f"{r}. {_short(n, 38)}" for r, n in zip(recs["rank"], names, strict=True)]
    data = [
        {"type": "bar", "y": rows, "x": recs[level].to_numpy(), "name": LEVEL_NAMES[level], "orientation": "h",
         "marker": {"color": LEVEL_COLORS[level]}, "hovertemplate": "%{y}<br>" + level + ": %{x:.3f}<extra></extra>"}
        for level in LEVELS
        if level in recs
    ]  # fmt: skip
    layout = {
        "barmode": "stack",
        "yaxis": {"autorange": "reversed", "automargin": True},
        "xaxis": {"title": {"text": "fused score = sum of the levels' contributions"}, "rangemode": "tozero"},
        # legend in its own band between the title and the bars (a narrow chart wraps it to two lines)
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "traceorder": "normal"},
        "margin": {"t": 95 if title else 60},
    }
    fig = _figure(data, layout, title, 150 + 30 * len(rows))
    if title:
        fig.update_layout(title={"y": 1.0, "yref": "container", "yanchor": "top", "pad": {"t": 12}})
    return fig


def metric_comparison(
    rows: dict[str, dict[str, float]],
    metrics: Sequence[tuple[str, str]],
    highlight: Sequence[str] = ("current", "pinned"),
    title: str | None = "Held-out metrics vs. baselines",
) -> go.Figure:
    """Small multiples, one panel per metric, one horizontal bar per method.

    Parameters
    ----------
    rows : dict
        Method name -> {metric key -> value}.
    metrics : sequence of (key, label)
        Which metrics to show and their panel titles.
    highlight : sequence of str
        Methods drawn in strong colours (the rest grey).
    """
    if not rows:
        return empty_figure("no metrics yet", title)
    methods = list(rows)
    strong = {"current": "#E45756", "pinned": "#4C78A8"}
    colors = [strong.get(m, "#E45756" if m in highlight else "#BAB0AC") for m in methods]
    n, gap = len(metrics), 0.02
    width = (1.0 - gap * (n - 1)) / n
    data, layout, notes = [], {}, []
    for j, (key, label) in enumerate(metrics):
        axis = "" if j == 0 else str(j + 1)
        lo = j * (width + gap)
        vals = [rows[m].get(key, np.nan) for m in methods]
        data.append(
            {"type": "bar", "y": methods, "x": vals, "orientation": "h", "xaxis": f"x{axis}", "yaxis": "y",
             "marker": {"color": colors}, "showlegend": False, "text": [_fmt_metric(v) for v in vals],
             "textposition": "auto", "cliponaxis": False, "hovertemplate": "%{y}: %{x:.4f}<extra>" + key + "</extra>"}
        )  # fmt: skip
        layout[f"xaxis{axis}"] = {"domain": [lo, lo + width], "showticklabels": False, "anchor": "y"}
        notes.append({"text": label, "x": lo + width / 2, "y": 1.0, "xref": "paper", "yref": "paper",
                      "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 13}})  # fmt: skip
    layout["yaxis"] = {"autorange": "reversed", "automargin": True}
    layout["annotations"] = notes
    return _figure(data, layout, title, 110 + 26 * len(methods))


def _fmt_metric(v) -> str:
    if v is None or not np.isfinite(v):
        return ""
    return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"


def weight_ternary(
    surface: pd.DataFrame,
    axes: Sequence[str],
    current: dict[str, float] | None = None,
    metric: str = "ndcg",
    fixed: tuple[str, float] | dict[str, float] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Ternary plot of a metric over three levels' weights (the surface points given), current weights marked.

    Parameters
    ----------
    surface : pandas.DataFrame
        Rows of the weight grid (one column per level) and the ``metric`` column; only rows whose
        weights on ``axes`` sum to more than zero are drawn, re-normalised to the three axes.
    axes : sequence of three str
        Levels on the a, b and c axes.
    current : dict, optional
        Current weights; marked with a star (re-normalised over ``axes``).
    fixed : (level, value) or dict of level to value, optional
        The other levels' weights the surface was sliced at, named in the title.
    """
    a, b, c = axes
    if surface is None or surface.empty:
        return empty_figure("no surface", title)
    s = surface[(surface[a] + surface[b] + surface[c]) > 0]
    total = (s[a] + s[b] + s[c]).to_numpy()
    name = metric.upper()
    data = [
        {"type": "scatterternary", "a": s[a].to_numpy() / total, "b": s[b].to_numpy() / total,
         "c": s[c].to_numpy() / total, "mode": "markers", "name": name, "customdata": s[metric].to_numpy(),
         "marker": {"size": 11, "color": s[metric].to_numpy(), "colorscale": "Viridis",
                    "line": {"width": 0.5, "color": "white"}, "colorbar": {"title": {"text": name}, "thickness": 14}},
         "hovertemplate": f"{a} %{{a:.2f}} · {b} %{{b:.2f}} · {c} %{{c:.2f}}<br>{name} %{{customdata:.4f}}<extra></extra>"}
    ]  # fmt: skip
    if len(s):
        best = s.loc[s[metric].idxmax()]
        data.append(_ternary_marker(best.to_dict(), axes, "best on this slice", "diamond-open", 18, "#111111",
                                    f"best: {name} {best[metric]:.4f}"))  # fmt: skip
    if current and sum(current.get(lv, 0.0) for lv in axes) > 0:
        data.append(_ternary_marker(current, axes, "current weights", "star", 22, "#E45756", "current weights"))
    if title is None:
        title = f"{name}@10 over the weights of {a}, {b}, {c}"
        if fixed:
            held = dict([fixed]) if isinstance(fixed, tuple) else dict(fixed)
            title += " (" + ", ".join(f"{lv} = {v:.1f}" for lv, v in held.items()) + ")"
    layout = {
        # inner ticks only: the 0 and 1 labels of two axes would print on top of each other at each corner
        "ternary": {"sum": 1, "aaxis": {"title": {"text": a}, "tickformat": ".1f", "tickvals": _INNER_TICKS},
                    "baxis": {"title": {"text": b}, "tickformat": ".1f", "tickvals": _INNER_TICKS},
                    "caxis": {"title": {"text": c}, "tickformat": ".1f", "tickvals": _INNER_TICKS}},
        "legend": {"orientation": "h", "y": -0.12, "x": 0},
        "margin": {"l": 70, "r": 70, "t": 80, "b": 70},
    }  # fmt: skip
    return _figure(data, layout, title, 500)


_INNER_TICKS = [0.2, 0.4, 0.6, 0.8]


def _ternary_marker(weights: dict, axes: Sequence[str], name: str, symbol: str, size: int, color: str, hover: str):
    total = sum(float(weights.get(lv, 0.0)) for lv in axes)
    a, b, c = (float(weights.get(lv, 0.0)) / total for lv in axes)
    line = {"width": 2} if symbol.endswith("open") else {"width": 1.5, "color": "white"}
    return {"type": "scatterternary", "a": [a], "b": [b], "c": [c], "mode": "markers", "name": name,
            "marker": {"symbol": symbol, "size": size, "color": color, "line": line},
            "hovertemplate": hover + "<extra></extra>"}  # fmt: skip


def tuning_curves(
    curves: Sequence[dict] | pd.DataFrame, title: str | None = "Validation NDCG@10 of each setting tried"
) -> go.Figure:
    """How ``auto`` chose each level's settings: validation NDCG@10 of every value tried, one
    panel row per (level, setting), the chosen value marked (``curves`` as in the tuning record)."""
    frame = pd.DataFrame(list(curves) if not isinstance(curves, pd.DataFrame) else curves)
    if frame.empty:
        return empty_figure("no level was tuned", title)
    frame = frame.assign(label=frame["value"].map(lambda v: "none" if v is None else f"{v:g}" if isinstance(v, float | int) else str(v)),
                         series=frame["level"] + " · " + frame["param"])  # fmt: skip
    data = []
    for j, (name, part) in enumerate(frame.groupby("series", sort=False)):
        chosen = part["chosen"].astype(bool).to_numpy()
        color = _PALETTE[j % len(_PALETTE)]
        data.append({"type": "scatter", "x": part["ndcg"].to_numpy(), "y": [f"{name}: {lab}" for lab in part["label"]],
                     "mode": "markers", "name": name, "marker": {"color": color, "size": 9},
                     "hovertemplate": "%{y}<br>NDCG@10 %{x:.4f}<extra></extra>"})  # fmt: skip
        if chosen.any():
            pick = part[chosen]
            data.append({"type": "scatter", "x": pick["ndcg"].to_numpy(), "y": [f"{name}: {lab}" for lab in pick["label"]],
                         "mode": "markers", "name": f"chosen ({name})", "showlegend": False,
                         "marker": {"symbol": "star", "size": 16, "color": "#E45756"},
                         "hovertemplate": "chosen: %{y}<br>NDCG@10 %{x:.4f}<extra></extra>"})  # fmt: skip
    rows = sum(len(d["y"]) for d in data if d.get("showlegend", True))
    layout = {"xaxis": {"title": {"text": "validation NDCG@10"}}, "yaxis": {"autorange": "reversed", "automargin": True},
              "showlegend": False, "margin": {"l": 20, "r": 20, "t": 60, "b": 50}}  # fmt: skip
    return _figure(data, layout, title, max(260, 18 * rows + 100))


# ----------------------------------------------------------------------------------------------- interest hierarchy
#: The chart kinds :func:`interest_sunburst` draws.
HIERARCHY_KINDS = ("sunburst", "icicle")
_LIFT_TICKS = {"tickvals": [-2, -1, 0, 1, 2], "ticktext": ["¼×", "½×", "1×", "2×", "4×"]}


def _hierarchy_hover(row) -> str:
    """One node's hover text: its users, its share of its parent, its lift and who is behind it."""
    what = {"all": "users", "segment": "users"}.get(row.level, "users' worth of interest")
    of = {"segment": "of all users", "category": "of the segment's interest",
          "keyword": "of the segment's interest in the category"}.get(row.level, "")  # fmt: skip
    lines = [f"<b>{html_escape(row.label)}</b>", f"{row.users:,.1f} {what}" if row.level in ("category", "keyword")
             else f"{int(round(row.users)):,} {what}"]  # fmt: skip
    if of:
        lines.append(f"{row.share:.1%} {of}")
    if np.isfinite(row.lift):
        vs = "the population's share" if row.level == "category" else "the population's share in the category"
        lines.append(f"lift {row.lift:.2f}× {vs}")
    if row.level == "category":
        lines.append(f"{int(row.members):,} members have it among their top categories")
    elif row.level == "keyword":
        lines.append(f"{int(row.members):,} members have the keyword")
    return "<br>".join(lines)


def html_escape(text) -> str:
    """``text`` safe inside Plotly's HTML-like hover and label text."""
    import html

    return html.escape(str(text), quote=False)


def interest_sunburst(
    frame: pd.DataFrame,
    title: str | None = "Interest hierarchy: segment → category → keyword",
    kind: str = "sunburst",
    height: int = 640,
) -> go.Figure:
    """The interest hierarchy (:func:`mgviz.hierarchy.interest_hierarchy`) as a sunburst or icicle.

    Wedges are sized by ``users`` with ``branchvalues="total"`` (a node's children never exceed
    it), coloured by log2 lift on a diverging scale (red: over-represented, blue: under; the root
    and the segments, whose lift is not defined, are neutral); the hover shows users, share of the
    parent and lift. Node ids are the frame's ``id`` – a click in the app names the node by it.
    """
    if kind not in HIERARCHY_KINDS:
        raise ValueError(f"kind must be one of {', '.join(HIERARCHY_KINDS)}, not {kind!r}")
    if frame is None or len(frame) <= 1:
        return empty_figure("no segments to show", title)
    lift = frame["lift"].to_numpy(dtype=float)
    color = np.log2(np.clip(np.where(np.isfinite(lift) & (lift > 0), lift, 1.0), 0.25, 4.0))
    hover = [_hierarchy_hover(row) for row in frame.itertuples(index=False)]
    # a segment's label without its keyword part ("2: cooking & gardening"): it has a narrow ring
    labels = [html_escape(_short(str(lab).split(" · ")[0] if level == "segment" else lab, 28))
              for lab, level in zip(frame["label"], frame["level"], strict=True)]  # fmt: skip
    marker = {"colors": color, "colorscale": "RdBu_r", "cmid": 0, "cmin": -2, "cmax": 2, "showscale": True,
              "colorbar": {"title": {"text": "lift"}, **_LIFT_TICKS}, "line": {"color": "white", "width": 1}}  # fmt: skip
    common = dict(ids=frame["id"].tolist(), parents=frame["parent"].tolist(), labels=labels,
                  values=frame["users"].to_numpy(dtype=float), branchvalues="total", marker=marker,
                  hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", sort=False)  # fmt: skip
    if kind == "sunburst":
        trace = go.Sunburst(**common, insidetextorientation="auto", maxdepth=4)
    else:
        trace = go.Icicle(**common, tiling={"orientation": "h"}, maxdepth=4)
    return _layout(go.Figure(trace), title, height)
