"""mgviz.report_html: one self-contained, offline HTML page with every segment, and no injected markup."""

from __future__ import annotations

import copy
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_app import tiny_model  # noqa: E402

from mgviz.report_html import segment_report_html  # noqa: E402

PLOTLY_JS_MARK = "plotly.js v"  # the banner at the top of the bundled library


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts_with_src: list[str] = []
        self.links: list[str] = []
        self.plot_divs = 0
        self.sections: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts_with_src.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "div" and "plotly-graph-div" in (attrs.get("class") or ""):
            self.plot_divs += 1
        if tag == "section" and attrs.get("id", "").startswith("segment-"):
            self.sections.append(attrs["id"])


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def page(model):
    return segment_report_html(model)


def _parse(text: str) -> _Collector:
    parser = _Collector()
    parser.feed(text)
    return parser


def test_is_a_complete_document(page):
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in page


def test_plotly_js_is_inlined_exactly_once(page):
    assert page.count(PLOTLY_JS_MARK) == 1
    assert len(page) > 1_000_000  # the library itself is in the file


def test_loads_nothing_from_the_network(page):
    parsed = _parse(page)
    assert parsed.scripts_with_src == []
    assert parsed.links == []
    # outside the bundled library (whose defaults name CDNs for map features never used here)
    own = re.sub(r"<script[^>]*>[^<]*" + re.escape(PLOTLY_JS_MARK) + r".*?</script>", "", page, count=1, flags=re.S)
    assert PLOTLY_JS_MARK not in own
    assert "http://" not in own and "https://" not in own


def test_has_overview_charts_and_one_card_per_segment(model, page):
    parsed = _parse(page)
    n_seg = len(model.profiles)
    assert parsed.sections == [f"segment-{s}" for s in range(n_seg)]
    # sizes, share heatmap, lift heatmap, map, the interest hierarchy, and a category chart per segment
    assert parsed.plot_divs == 5 + n_seg
    for p in model.profiles:
        assert p.label.replace("&", "&amp;") in page
        for _, title, _ in p.top_items:
            assert title in page


def test_without_map(model):
    parsed = _parse(segment_report_html(model, include_map=False))
    assert parsed.plot_divs == 4 + len(model.profiles)


def test_map_is_sampled_for_large_runs(model):
    page = segment_report_html(model, max_map_points=20)
    assert f"(20 of {len(model.user_ids):,} shown)" in page


def test_text_from_the_data_is_escaped(model):
    evil = copy.copy(model)
    evil.profiles = [copy.copy(p) for p in model.profiles]
    evil.profiles[0].label = "<script>alert('x')</script>"
    evil.profiles[0].keywords = [("<img src=x onerror=alert(1)>", 1.0)]
    page = segment_report_html(evil, title="<b>title</b>", include_map=False)
    assert "<script>alert('x')</script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "<title>&lt;b&gt;title&lt;/b&gt;</title>" in page
    assert _parse(page).scripts_with_src == []


def test_states_run_facts(model, page):
    assert re.search(rf"<b>{len(model.user_ids):,}</b>users", page)
    assert f"K = {len(model.profiles)}" in page


def test_has_the_interest_hierarchy_sunburst(model, page):
    import json

    from mgviz.hierarchy import interest_hierarchy

    assert '<h2 id="interest-hierarchy">Interest hierarchy</h2>' in page
    # the figure's data, as plotly.js gets it: one sunburst trace with the hierarchy's ids and parents
    specs = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', page, flags=re.S)
    sunbursts = [t for spec in specs for t in json.loads(spec) if t.get("type") == "sunburst"]
    assert len(sunbursts) == 1
    frame = interest_hierarchy(model)
    assert sunbursts[0]["ids"] == frame["id"].tolist()
    assert sunbursts[0]["parents"] == frame["parent"].tolist()
    assert sunbursts[0]["branchvalues"] == "total"
