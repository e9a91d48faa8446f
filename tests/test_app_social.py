"""The dashboard on a run built with a friends file: the Macro map shows a user's friends, the segment cards
say how much the segments follow the friendship graph, and the Recommendations page has the social level's
slider, contribution and reason. A run without a friends file shows none of it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers_app import HashEncoder, tiny_run_dir, tiny_social_model, tiny_social_run_dir  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from mgviz import explore  # noqa: E402


@pytest.fixture(autouse=True)
def app_env(monkeypatch):
    import ui.cache

    monkeypatch.setenv("MGVIZ_RUN", str(tiny_social_run_dir()))
    monkeypatch.delenv("MGVIZ_ALLOWED_ENCODERS", raising=False)
    monkeypatch.setattr(ui.cache, "encoder_for", lambda name: HashEncoder())


def open_page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart(at: AppTest, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")).proto.spec)


def test_macro_toggle_shows_a_users_friends_on_the_map():
    at = open_page("macro")
    names = [t.get("name") for t in chart(at, "macro.map")["data"]]
    assert not any(str(n).startswith("friends of") for n in names)  # off by default
    at.toggle(key="macro.friends").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    model = at.session_state["mgviz.model"]
    user = at.selectbox(key="macro.friends.user").value
    row = int(model.dataset.user_index().get_loc(user))
    friends = explore.friends_of(model, row)
    assert len(friends) > 0
    data = chart(at, "macro.map")["data"]
    ring = next(t for t in data if str(t.get("name")).startswith("friends of"))
    assert ring["name"] == f"friends of user {user} ({len(friends)})"
    assert sorted(c[1] for c in ring["customdata"]) == sorted(friends["user_id"])
    assert data[-1]["name"] == f"user {user}"
    captions = "\n".join(str(c.value) for c in at.caption)
    assert f"User {user} has {len(friends)} friends" in captions
    # another user: their friends instead
    other = next(str(u) for u in model.user_ids if str(u) != user and explore.friends_of(model, model.user_row(u)).size)
    at.selectbox(key="macro.friends.user").set_value(other).run()
    ring = next(t for t in chart(at, "macro.map")["data"] if str(t.get("name")).startswith("friends of"))
    assert ring["name"].startswith(f"friends of user {other} (")


def test_segment_cards_show_homophily():
    at = open_page("macro")
    model = at.session_state["mgviz.model"]
    table = explore.homophily(model)
    lines = [str(m.value) for m in at.markdown if str(m.value).startswith("**Friends:**")]
    assert len(lines) == len(model.profiles) == len(table)
    for line, (_, row) in zip(lines, table.iterrows(), strict=True):
        assert f"{row['share']:.0%} of its members' friends are members" in line
        assert f"{row['expected']:.0%} expected at random" in line and f"{int(row['edges']):,} friendships" in line
    assert (table["lift"] > 1.2).all()  # the tiny friends are mostly inside their group


def test_recommendations_have_the_social_slider_contribution_and_reason():
    at = open_page("recommendations")
    at.slider(key="w.weight.social").set_value(1.0)
    at.slider(key="w.weight.micro").set_value(0.2)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    names = [t["name"] for t in chart(at, "recs.bars")["data"]]
    assert "social (friends)" in names
    reasons = at.table[0].value["why it is recommended"]
    assert reasons.str.contains(r"\d+ of your friends chose it \(social\)").any()
    model = tiny_social_model()
    assert at.session_state["mgviz.weights"]["social"] == 1.0 and "social" in model.levels


def test_a_run_without_friends_has_no_social_controls(monkeypatch):
    monkeypatch.setenv("MGVIZ_RUN", str(tiny_run_dir()))
    at = open_page("macro")
    assert not [t for t in at.toggle if t.key == "macro.friends"]
    assert not [m for m in at.markdown if str(m.value).startswith("**Friends:**")]
    at.switch_page("pages/recommendations.py").run()
    assert not at.exception
    assert not [s for s in at.slider if s.key == "w.weight.social"]
    assert "social (friends)" not in [t["name"] for t in chart(at, "recs.bars")["data"]]


def test_homophily_known_answer():
    """Two segments of two users: a–b inside segment 0, c–d inside 1, b–c across. Segment 0's members have
    3 friendship ends, 2 of them inside: share 2/3; it holds 3 of the 6 ends: expected 1/2."""
    import types

    import numpy as np
    import scipy.sparse as sp

    from mgviz.levels.social import SocialLevel, friend_matrix

    friends = friend_matrix([0, 2, 1], [1, 3, 2], [1.0, 1.0, 1.0], 4)
    level = SocialLevel.fit(friends, sp.csr_matrix(np.eye(4, 3, dtype=np.float32)))
    model = types.SimpleNamespace(levels={"social": level}, segments=np.array([0, 0, 1, 1]))
    table = explore.homophily(model)
    assert table["edges"].tolist() == [2, 2] and table["inside"].tolist() == [1, 1]
    np.testing.assert_allclose(table["share"], [2 / 3, 2 / 3])
    np.testing.assert_allclose(table["expected"], [0.5, 0.5])
    np.testing.assert_allclose(table["lift"], [4 / 3, 4 / 3])
