"""A self-contained HTML report of a model's user segments.

One file, no network: plotly.js is embedded inline exactly once (with the first
chart) and every later chart reuses it. All text from the data (labels, item
titles, keywords) is HTML-escaped.
"""

from __future__ import annotations

import datetime as _dt
import html

import numpy as np
import plotly.graph_objects as go

from mgviz import labels, plots
from mgviz.hierarchy import interest_hierarchy

_CSS = """
body { font-family: Inter, 'Source Sans Pro', Arial, sans-serif; margin: 0; color: #1f2328; background: #fafafa; }
main { max-width: 1150px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 28px; margin-bottom: 4px; }
h2 { font-size: 21px; margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 6px; }
h3 { font-size: 17px; margin: 0 0 6px; }
.meta { color: #57606a; font-size: 14px; }
.llm { font-style: italic; margin: 4px 0; }
.facts { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.fact { background: white; border: 1px solid #e1e4e8; border-radius: 8px; padding: 10px 16px; min-width: 120px; }
.fact b { display: block; font-size: 22px; }
.card { background: white; border: 1px solid #e1e4e8; border-radius: 10px; padding: 16px 18px; margin: 16px 0; }
.chip { display: inline-block; width: 14px; height: 14px; border-radius: 3px; margin-right: 8px; vertical-align: -2px; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.kw { display: inline-block; background: #eef2f7; border-radius: 12px; padding: 2px 10px; margin: 2px; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { color: #57606a; font-weight: 600; }
@media (max-width: 800px) { .cols { grid-template-columns: 1fr; } }
"""


_HIERARCHY_NOTE = (
    "Each segment's biggest categories and, inside each, the keywords its users' interest in the category is "
    "about. A wedge's size is users' worth of interest (a segment of 100 users putting 40% of its interest in a "
    "category has a wedge of 40 there); colour is lift against all users (red: more than everyone, blue: less). "
    "Click a wedge to zoom in."
)


class _Charts:
    """Turns figures into ``<div>``s, embedding plotly.js with the first one only."""

    def __init__(self) -> None:
        self.first = True

    def __call__(self, fig: go.Figure) -> str:
        include = self.first
        self.first = False
        return fig.to_html(include_plotlyjs=include, full_html=False, config={"displaylogo": False, "responsive": True})


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _facts(model) -> str:
    ds = model.dataset
    facts = [
        ("users", f"{len(ds.users):,}"),
        ("items", f"{len(ds.items):,}"),
        ("interactions", f"{len(ds.interactions):,}"),
        ("segments", str(len(model.profiles))),
        ("categories", f"{len(model.categories):,}" + (" (derived)" if model.categories_derived else "")),
    ]
    cells = "".join(f'<div class="fact"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in facts)
    return f'<div class="facts">{cells}</div>'


def _table(header: list[str], rows: list[list]) -> str:
    if not rows:
        return "<p class='meta'>none</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _demographics_rows(demographics: dict) -> list[list]:
    rows = []
    for col, summary in (demographics or {}).items():
        if isinstance(summary, dict):
            text = ", ".join(f"{k} {v:.0%}" if isinstance(v, float) and k not in ("mean", "median") else f"{k} {v}"
                             for k, v in summary.items())  # fmt: skip
        else:
            text = str(summary)
        rows.append([col, text])
    return rows


def _segment_card(model, profile, population: np.ndarray, chart: _Charts) -> str:
    s = profile.segment
    members = np.asarray(model.segments) == s
    mix = model.category_mix[members].mean(axis=0) if members.any() else population
    fig = plots.category_mix_bars(mix, population, model.categories, f"segment {s}", top=8, title="Category mix")
    keywords = (
        "".join(f'<span class="kw">{_e(k)}</span>' for k, _ in profile.keywords) or "<span class='meta'>none</span>"
    )
    items = _table(["item", "title", "members"], [list(t) for t in profile.top_items])
    demo = _table(["column", "segment"], _demographics_rows(profile.demographics))
    lift = (f'<p class="meta">Label words and their lift over all users: {_e(labels.label_terms_text(profile.label_terms))}</p>'
            if profile.label_terms else "")  # fmt: skip
    named = ""
    if profile.name is not None and profile.name.ok:
        named = (f'<p class="llm">{_e(profile.name.description)}</p><p class="meta">Name and description written '
                 f"by a language model ({_e(profile.name.model)}); keyword label: {_e(profile.label)}</p>")  # fmt: skip
    elif profile.name is not None:
        named = f'<p class="meta">No model-written name: {_e(profile.name.reason)}</p>'
    return f"""
<section class="card" id="segment-{s}">
  <h3><span class="chip" style="background:{plots.segment_color(s)}"></span>Segment {s}: {_e(profile.display_name)}</h3>
  {named}<p class="meta">{profile.size:,} users · {profile.share:.1%} of all users</p>{lift}
  <div class="cols">
    <div>{chart(fig)}</div>
    <div>
      <h4>Keywords</h4><p>{keywords}</p>
      <h4>Top items</h4>{items}
      <h4>Demographics</h4>{demo}
    </div>
  </div>
</section>"""


def _map_figure(model, max_points: int, seed: int) -> go.Figure:
    xy, rows = model.umap_xy, model.map_view()
    pick = np.arange(len(xy))
    if len(pick) > max_points:
        pick = np.sort(np.random.default_rng(seed).choice(pick, max_points, replace=False))
    labels = model.segment_labels
    cats = model.top_categories(3)
    fig = plots.user_map(xy[pick], model.segments, labels, model.user_ids, cats, rows=rows[pick],
                         title=f"Users on the 2-D map ({len(pick):,} of {len(model.user_ids):,} shown)",
                         height=520)  # fmt: skip
    return fig.update_layout(dragmode="zoom")


def segment_report_html(
    model, title: str = "mgviz – user segment report", include_map: bool = True, max_map_points: int = 5000
) -> str:
    """Render a model's segments as one self-contained HTML page.

    Parameters
    ----------
    model : InterestModel
        A built or loaded model.
    title : str
        Page title.
    include_map : bool
        Include the 2-D user map (when the run has one). The interest hierarchy (a sunburst of
        segment → category → keyword, :func:`mgviz.hierarchy.interest_hierarchy`) always is.
    max_map_points : int
        Users drawn on the map at most (a random, seeded sample beyond that).

    Returns
    -------
    str
        A complete HTML document that works offline (plotly.js inlined once).
    """
    chart = _Charts()
    population = model.category_mix.mean(axis=0)
    labels = model.segment_labels
    parts = [
        chart(plots.segment_sizes(labels, [p.size for p in model.profiles])),
        chart(plots.segment_category_heatmap(model.segment_category, labels, model.categories)),
        chart(
            plots.segment_category_heatmap(
                model.segment_category, labels, model.categories, relative=True, population=population
            )
        ),  # fmt: skip
    ]
    if include_map and model.umap_xy is not None:
        parts.append(chart(_map_figure(model, max_map_points, model.config.seed)))
    hierarchy = chart(plots.interest_sunburst(interest_hierarchy(model)))
    cards = "".join(_segment_card(model, p, population, chart) for p in model.profiles)
    weights = ", ".join(f"{k} {v:.2f}" for k, v in model.config.weights.items())
    sources = ", ".join(f"{k}: {v}" for k, v in model.dataset.sources.items()) or "—"
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{_CSS}</style></head>
<body><main>
<h1>{_e(title)}</h1>
<p class="meta">Generated {stamp} · data: {_e(sources)} · K = {len(model.profiles)} · seed {model.config.seed}
 · encoder {_e(model.encoder_model)} · fusion weights {_e(weights)}</p>
{_facts(model)}
<h2>Overview</h2>
{"".join(parts)}
<h2 id="interest-hierarchy">Interest hierarchy</h2>
<p class="meta">{_e(_HIERARCHY_NOTE)}</p>
{hierarchy}
<h2>Segments</h2>
{cards}
</main></body></html>
"""
