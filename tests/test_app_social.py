"""The dashboard on a run built with a friends file: the Macro map shows a user's friends, the segment cards
say how much the segments follow the friendship graph, and the Recommendations page has the social level's
slider, contribution and reason. A run without a friends file shows none of it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers_app import (  # noqa: E402
    HashEncoder,
    csv_bytes,
    tiny_files,
    tiny_friends,
    tiny_run_dir,
    tiny_social_model,
    tiny_social_run_dir,
)
from streamlit.testing.v1 import AppTest  # noqa: E402

from mgviz import explore  # noqa: E402
from mgviz.io import load_dataset  # noqa: E402
from mgviz.io.friends import load_friends  # noqa: E402
from mgviz.runs import read_manifest, save_run  # noqa: E402


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


# ----------------------------------------------------------------------------------------------- Data page upload
def upload(at: AppTest, role: str, name: str, data: bytes) -> AppTest:
    at.file_uploader(key=f"upload.{role}").set_value((name, data, "text/csv"))
    return at.run()


def data_page_with_log(monkeypatch) -> AppTest:
    """The Data page in upload mode with the tiny log and items loaded; the open run has no social level."""
    monkeypatch.setenv("MGVIZ_RUN", str(tiny_run_dir()))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert "social" not in at.session_state["mgviz.model"].levels
    at.segmented_control(key="w.data.source").set_value("Upload files").run()
    files = tiny_files()
    at = upload(at, "interactions", "log.csv", files["interactions"])
    at = upload(at, "items", "items.csv", files["items"])
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest, kind: str) -> str:
    """The shown text of every element of ``kind`` (Markdown escapes removed)."""
    return "\n".join(unescape(e.value) for e in getattr(at, kind))


def unescape(text) -> str:
    return re.sub(r"\\(.)", r"\1", str(text))


def test_a_friends_upload_gives_the_built_model_a_social_level(monkeypatch, tmp_path):
    at = data_page_with_log(monkeypatch)
    edges = csv_bytes(tiny_friends())
    at = upload(at, "friends", "friends.csv", edges)
    assert not at.exception and not at.error, texts(at, "error")
    data = at.session_state["mgviz.data"]
    # the same dataset `mgviz build --friends friends.csv` loads
    files = tiny_files()
    cli, _ = load_dataset(("log.csv", files["interactions"]), ("items.csv", files["items"]))
    cli, _ = load_friends(("friends.csv", edges), cli)
    pd.testing.assert_frame_equal(data.friends, cli.friends)
    assert data.sources["friends"] == "friends.csv" and not data.friends_directed
    assert f"friends.csv: {len(cli.friends):,} friendships" in texts(at, "info")
    at.number_input(key="build.k").set_value(2)
    at.number_input(key="build.iterations").set_value(3)
    at.checkbox(key="build.umap").uncheck()
    next(b for b in at.button if b.label == "Build model").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state["mgviz.build_job"]
    assert job.wait(300) and job.error is None, job.error
    at.run()
    model = at.session_state["mgviz.model"]
    assert model is job.model and "social" in model.levels
    assert model.dataset.sources["friends"] == "friends.csv"
    manifest = read_manifest(save_run(model, tmp_path / "run"))  # saved, it records the edges as a CLI run does
    assert manifest["dataset"]["friends"] == {"file": "friends.csv", "edges": len(cli.friends), "directed": False,
                                              "sha256": None}  # fmt: skip
    assert "social" in manifest["levels"]
    at.switch_page("pages/recommendations.py").run()
    assert not at.exception
    assert [s for s in at.slider if s.key == "w.weight.social"]


def test_the_directed_box_loads_the_edges_as_follows(monkeypatch):
    at = upload(data_page_with_log(monkeypatch), "friends", "follows.csv", csv_bytes(tiny_friends()))
    assert not at.session_state["mgviz.data"].friends_directed
    at.checkbox(key="upload.friends.directed").check().run()
    assert not at.exception
    assert at.session_state["mgviz.data"].friends_directed
    assert "follows.csv" in texts(at, "info") and "follows (directed)" in texts(at, "info")


def test_a_one_column_friends_file_shows_an_error_and_the_app_stays_usable(monkeypatch):
    at = data_page_with_log(monkeypatch)
    good = at.session_state["mgviz.data"]
    at = upload(at, "friends", "pals.csv", b"user_id\nu000\nu001\n")
    assert not at.exception
    error = texts(at, "error")
    assert "pals.csv" in error and "column 'user_id'" in error and "one column" in error, error
    report = at.dataframe[0].value
    assert (report["file"] == "pals.csv").any() and (report["column"] == "user_id").any()
    assert at.session_state["mgviz.data"] is good  # the log loaded before is kept
    at.switch_page("pages/macro.py").run()
    assert not at.exception and at.title[0].value.startswith("Macro")


def test_self_loops_in_the_friends_file_are_dropped_with_a_warning(monkeypatch):
    at = data_page_with_log(monkeypatch)
    edges = tiny_friends()
    loops = pd.DataFrame({"user_id": ["u001", "u002", "u004"], "friend_id": ["u001", "u002", "u004"], "weight": 1.0})
    at = upload(at, "friends", "friends.csv", csv_bytes(pd.concat([edges, loops], ignore_index=True)))
    assert not at.exception and not at.error, texts(at, "error")
    warning = next(t for t in map(unescape, (w.value for w in at.warning)) if "self-loops" in t)
    assert warning.startswith("friends.csv") and "(3 rows)" in warning
    lines = [len(edges) + 2 + i for i in range(3)]  # header = line 1
    assert "e.g. line " + ", ".join(map(str, lines)) in warning
    assert len(at.session_state["mgviz.data"].friends) == len(edges)
