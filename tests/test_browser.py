"""The dashboard in a real browser: Debian Chromium driven by Playwright against ``streamlit run app.py``.

Runs on the sample run (``runs/sample``, built by ``make sample-run``) when it
exists – then good screenshots are also copied to ``docs/screenshots/`` for the
README – and otherwise on the tiny test run. Screenshots of every page go to
``tests/screenshots/`` (git-ignored). Select with ``pytest -m browser``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browserkit import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    HANG_S,
    ServerError,
    describe,
    free_port,
    idle,
    prepare_context,
    runs_finished,
    settle,
    start_streamlit,
    stop,
    wait_for_runs,
    wait_until,
)
from helpers_app import csv_bytes, tiny_run_dir, tiny_tables  # noqa: E402

pytestmark = pytest.mark.browser

SHOTS = ROOT / "tests" / "screenshots"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
SAMPLE_RUN = ROOT / "runs" / "sample"
EXCEPTION = "[data-testid='stException']"
PAGES = {
    "macro": "Macro · user segments",  # first: a deep link on a fresh server must still get app.py's navigation
    "data": "Data",
    "meso": "Meso · categories",
    "micro": "Micro · users",
    "recommendations": "Recommendations",
    "whatif": "What-if user",
    "export": "Export",
}
WIDTH, HEIGHT = 1500, 1000
#: Hang guard of the wait for the held-out evaluation on the sample run (it fits two models first).
EVAL_TIMEOUT_S = float(os.environ.get("MGVIZ_EVAL_TIMEOUT") or max(HANG_S, 1200))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` on a free port; yields its URL and whether it shows the sample run."""
    is_sample = (SAMPLE_RUN / "manifest.json").exists()
    run_dir = SAMPLE_RUN if is_sample else tiny_run_dir()
    log = open(tmp_path_factory.mktemp("streamlit") / "server.log", "w")  # noqa: SIM115
    port = free_port()
    try:
        proc = start_streamlit(run_dir, port, log)
    except ServerError as exc:
        pytest.fail(str(exc))
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", is_sample=is_sample, run_dir=run_dir, log=log.name)
    stop(proc)
    log.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    prepare_context(context)
    yield context.new_page()
    context.close()


# ----------------------------------------------------------------------------------------------- helpers
def open_page(page, server, name: str) -> None:
    """Load a page (a new Streamlit session) and wait until its first run has drawn it."""
    page.goto(f"{server.url}/{'' if name == 'data' else name}")  # Data is the default page, served at /
    page.get_by_role("heading", name=PAGES[name]).first.wait_for()
    idle(page)


def wait_for_charts(page, at_least: int = 1) -> None:
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {at_least}")
    settle(page)  # plotly has finished laying them out


def screenshot(page, server, name: str, docs: bool = True) -> Path:
    """Full-length screenshot (Streamlit scrolls inside its main container, so grow the viewport)."""
    height = page.evaluate(
        "() => Math.max(...['[data-testid=stMain]', '[data-testid=stAppViewContainer]', "
        "'[data-testid=stMainBlockContainer]'].map(s => document.querySelector(s)?.scrollHeight || 0))"
    )
    page.set_viewport_size({"width": WIDTH, "height": int(min(max(height + 40, HEIGHT), 8000))})
    settle(page)  # the charts have re-laid themselves out for the new size
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    if docs and server.is_sample:
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_SHOTS / path.name)
    return path


def assert_no_exception(page) -> None:
    errors = page.locator(EXCEPTION)
    assert errors.count() == 0, errors.first.inner_text()


def list_text(page) -> str:
    return page.locator(".st-key-recs-table, [data-testid='stTable']").first.inner_text()


# ----------------------------------------------------------------------------------------------- tests
def test_every_page_opens_without_exception(page, server):
    charts = {"macro": 3, "data": 2, "meso": 5, "micro": 4, "recommendations": 1, "whatif": 0, "export": 0}
    for name in PAGES:
        open_page(page, server, name)
        if charts[name]:
            wait_for_charts(page, charts[name])
        assert_no_exception(page)
        assert page.locator("[data-testid='stSidebarNav']").get_by_text("Recommendations").count() == 1
        screenshot(page, server, name, docs=name != "recommendations")  # its docs shot has the metrics


def test_moving_a_fusion_slider_changes_the_list(page, server):
    open_page(page, server, "recommendations")
    before = list_text(page)
    thumb = page.locator(".st-key-w-weight-micro input[type=range]")
    thumb.focus()
    thumb.press("Home")  # micro 0.55 -> 0
    after = wait_until(lambda: (t := list_text(page)) != before and t, "the list to change", page)
    assert after != before
    idle(page)
    assert_no_exception(page)
    shown = page.locator(".st-key-w-weight-micro [data-testid='stSliderThumbValue']").inner_text().strip()
    assert float(shown) == 0.0
    page.locator(".st-key-w-weight-semantic input[type=range]").press("End")  # semantic -> 1
    wait_until(lambda: list_text(page) != after, "the list to change again", page)
    assert_no_exception(page)


def test_upload_then_a_bad_upload_keeps_the_app_usable(page, server, tmp_path):
    open_page(page, server, "data")
    page.locator(".st-key-w-data-source").get_by_text("Upload files", exact=True).click()
    dropzones = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    dropzones.first.wait_for(state="attached")
    tables = tiny_tables()
    good = tmp_path / "log.csv"
    good.write_bytes(csv_bytes(tables["interactions"]))
    dropzones.nth(0).set_input_files(str(good))
    page.get_by_text("uploaded files (log.csv)").wait_for()
    idle(page)
    assert_no_exception(page)
    users = page.locator("[data-testid='stMetric']").filter(has_text="Users")
    assert users.locator("[data-testid='stMetricValue']").inner_text().strip() == "90"
    assert page.locator(".st-key-map-user_col-interactions, .st-key-map-user-col-interactions").count() == 1

    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"user_id,item_id,rating\nu1,i1,5\nu2,i2,not-a-number\nu3,i3,oops\nu4,i4,bad\n")
    dropzones.nth(0).set_input_files(str(bad))
    error = page.locator("[data-testid='stAlertContentError']").filter(has_text="broken.csv")
    error.wait_for()
    idle(page)
    assert_no_exception(page)
    assert page.get_by_text("The data loaded before is kept").count() == 1
    # the problem table: its grid component loads lazily, so wait for it rather than count at once
    page.locator("[data-testid='stDataFrame']").first.wait_for(state="attached")
    assert page.locator("[data-testid='stDataFrame']").count() >= 1
    screenshot(page, server, "data-upload-error", docs=False)
    page.locator("[data-testid='stSidebarNav']").get_by_text("Macro · segments").click()
    page.get_by_role("heading", name=PAGES["macro"]).first.wait_for()
    idle(page)
    assert_no_exception(page)


def test_box_selection_on_the_map_summarises_users(page, server):
    open_page(page, server, "macro")
    wait_for_charts(page, 2)
    drag = page.locator(".st-key-macro-map .nsewdrag").first
    drag.wait_for()
    box = drag.bounding_box()
    x0, y0 = box["x"] + 5, box["y"] + 5
    x1, y1 = box["x"] + box["width"] * 0.5, box["y"] + box["height"] - 5  # the left half of the map
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x0 + step * (x1 - x0) / 10, y0 + step * (y1 - y0) / 10)
    page.mouse.up()
    page.get_by_text("Selected users:").wait_for()
    idle(page)
    assert_no_exception(page)
    assert page.get_by_text("Top categories of the selection").count() == 1
    screenshot(page, server, "macro-selection")


def test_metrics_panel_follows_the_sliders(page, server):
    open_page(page, server, "recommendations")
    metrics = page.locator("[data-testid='stMetric']")
    # the page polls the background evaluation and reruns itself when it is done
    page.locator(".st-key-recs-metrics-for").wait_for(timeout=EVAL_TIMEOUT_S * 1000)  # drawn after the numbers
    idle(page)
    assert metrics.count() >= 5, describe(page)
    assert_no_exception(page)
    ndcg = metrics.filter(has_text="NDCG@10").locator("[data-testid='stMetricValue']")
    before = ndcg.inner_text()
    pinned = runs_finished(page)
    page.get_by_role("button", name="Pin these weights").click()
    wait_for_runs(page, pinned)
    thumb = page.locator(".st-key-w-weight-micro input[type=range]")
    thumb.focus()
    thumb.press("Home")
    wait_until(lambda: ndcg.inner_text() != before, "NDCG to follow the slider", page)
    wait_until(lambda: "vs. pinned" in metrics.first.inner_text(), "the comparison with the pinned weights", page)
    idle(page)
    wait_for_charts(page, 3)
    assert page.get_by_text("NDCG over the weight simplex").count() == 1
    assert_no_exception(page)
    thumb.press("End")
    tuned = runs_finished(page)
    page.get_by_role("button", name="Auto-tune").click()
    wait_for_runs(page, tuned)
    page.mouse.move(5, 5)  # no tooltip in the screenshot
    settle(page)
    assert_no_exception(page)
    screenshot(page, server, "recommendations-metrics")


# ----------------------------------------------------------------------------------------------- evaluation arriving
@pytest.fixture(scope="module")
def held_server(tmp_path_factory):
    """A second server on the tiny run whose background evaluation starts only once the test creates
    ``release`` – the metrics then arrive while the page is open, however loaded the machine is."""
    from ui.evaljob import HOLD_ENV

    folder = tmp_path_factory.mktemp("streamlit-held")
    log = open(folder / "server.log", "w")  # noqa: SIM115
    release = folder / "release-the-evaluation"
    port = free_port()
    try:
        proc = start_streamlit(tiny_run_dir(), port, log, env={HOLD_ENV: str(release)})
    except ServerError as exc:
        pytest.fail(str(exc))
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", is_sample=False, log=log.name, release=release)
    stop(proc)
    log.close()


def slider_values(page) -> dict[str, float]:
    return {
        level: float(page.locator(f".st-key-w-weight-{level} [data-testid='stSliderThumbValue']").inner_text())
        for level in ("macro", "meso", "micro", "semantic", "time")
    }


def test_metrics_arrive_in_place_and_no_slider_move_is_lost(page, held_server):
    """The analyst keeps moving a slider while the evaluation finishes: the metrics appear without a
    page rerun, and every move – before, during and after – ends up in the list and the metrics."""
    open_page(page, held_server, "recommendations")
    sidebar = page.locator("[data-testid='stSidebar']")
    metrics = page.locator("[data-testid='stMetric']")
    progress = page.locator("[data-testid='stProgress']")
    assert "Held-out evaluation running in the background" in progress.inner_text()
    assert "Held-out evaluation: running" in sidebar.inner_text()
    thumb = page.locator(".st-key-w-weight-micro input[type=range]")
    expected = slider_values(page)["micro"]
    assert expected >= 0.05
    presses = 0

    def move() -> None:
        """One step back or forth; returns once the app has finished a run after it."""
        nonlocal expected, presses
        key = "ArrowLeft" if presses % 2 == 0 else "ArrowRight"
        since = runs_finished(page)
        thumb.focus()
        thumb.press(key)
        expected = round(expected + (-0.05 if key == "ArrowLeft" else 0.05), 2)
        presses += 1
        wait_for_runs(page, since)

    for _ in range(3):  # before: the evaluation is held back
        move()
    assert metrics.count() == 0, "the evaluation was not held back"
    held_server.release.touch()  # during: it runs now, while the moves go on
    after, deadline = 0, time.time() + HANG_S
    while after < 3:  # ... until three moves after the metrics showed
        move()
        after += metrics.count() >= 5
        assert time.time() < deadline, f"the metrics never appeared; {describe(page)}"
    since = runs_finished(page)
    wait_for_runs(page, since, more=2)  # two more poll runs after the last move must not undo it
    values = slider_values(page)
    assert values["micro"] == pytest.approx(expected)
    total = sum(values.values())
    caption = page.locator(".st-key-recs-metrics-for").inner_text()
    assert f"micro {expected / total:.2f}" in caption, caption  # the server drew the metrics for this move
    assert "Held-out evaluation: ready" in sidebar.inner_text()
    assert progress.count() == 0
    assert_no_exception(page)


def _chart_title(page, key: str) -> str:
    return page.locator(f".st-key-{key} .gtitle").first.text_content()  # an SVG node: no inner_text


def _pick_next_option(page, key: str) -> None:
    """Open a select box and take the option below the current one (keyboard, as a user can)."""
    box = page.locator(f".st-key-{key} input").first
    box.click()
    box.press("ArrowDown")
    box.press("Enter")


def test_meso_drift_view_and_hierarchy_respond_to_the_user(page, server):
    """The drift view follows the picked user; a click on a sunburst wedge lists what is behind it."""
    open_page(page, server, "meso")
    wait_for_charts(page, 5)
    page.locator(".st-key-meso-drift .gtitle").first.wait_for()
    first = _chart_title(page, "meso-drift")
    legend = page.locator(".st-key-meso-drift .legendtext").all_text_contents()
    assert "time level's list" in legend and "later half of history" in legend
    _pick_next_option(page, "meso-drift_row")
    wait_until(lambda: _chart_title(page, "meso-drift") != first, "the drift chart to show another user", page)
    idle(page)
    assert_no_exception(page)
    picked = page.locator(".st-key-meso-hier_node input").first  # the select box shows the wedge as its value
    wedge = picked.input_value()
    page.locator(".st-key-meso-sunburst path.surface").nth(3).click()
    wait_until(lambda: picked.input_value() != wedge, "the wedge to change", page)
    idle(page)
    assert_no_exception(page)
    page.locator(".st-key-meso-sunburst").scroll_into_view_if_needed()
    screenshot(page, server, "meso-drift-hierarchy")


def test_macro_cards_say_how_stable_each_segment_is(page, server):
    open_page(page, server, "macro")
    wait_for_charts(page, 3)
    cards = page.locator("p", has_text="Stability:")
    cards.first.wait_for()
    words = cards.all_inner_texts()
    assert len(words) >= 2 and all(any(w in t for w in ("stable", "fuzzy", "dissolves")) for t in words)
    assert page.get_by_text("ARI across seeds").count() >= 1
    assert_no_exception(page)
    screenshot(page, server, "macro-stability")


def test_the_diversity_slider_reranks_the_list(page, server):
    open_page(page, server, "recommendations")
    before = list_text(page)
    thumb = page.locator(".st-key-w-diversity input[type=range]")
    thumb.focus()
    for _ in range(10):
        thumb.press("ArrowRight")  # λ 0 -> 0.5
    wait_until(lambda: (t := list_text(page)) != before and t, "the re-ranked list", page)
    idle(page)
    assert_no_exception(page)
    shown = page.locator(".st-key-w-diversity [data-testid='stSliderThumbValue']").inner_text().strip()
    assert float(shown) == pytest.approx(0.5)
    screenshot(page, server, "recommendations-diversity")


def test_a_what_if_user_gets_a_segment_and_a_list_from_picked_items(page, server):
    open_page(page, server, "whatif")
    box = page.locator(".st-key-whatif-items input").first
    for _ in range(3):
        box.click()
        # the first option is "Select all"; take the first catalogue item not yet picked
        page.locator("[role=option]").filter(has_not_text="Select all").first.click()
        idle(page)
    page.keyboard.press("Escape")
    page.get_by_text("Nearest segment").first.wait_for()
    wait_for_charts(page, 1)
    table = page.locator(".st-key-whatif-table").first
    table.wait_for()
    assert len(table.inner_text().strip()) > 0
    assert_no_exception(page)
    screenshot(page, server, "whatif")


@pytest.fixture(scope="module")
def social_server(tmp_path_factory):
    """``streamlit run app.py`` on a run with a friends file: the sample run when it was built with
    ``--friends`` (``make sample-run`` does), else the tiny run with friends."""
    from helpers_app import tiny_social_run_dir

    is_sample = (SAMPLE_RUN / "levels" / "social" / "state.json").exists()
    run_dir = SAMPLE_RUN if is_sample else tiny_social_run_dir()
    log = open(tmp_path_factory.mktemp("streamlit") / "server.log", "w")  # noqa: SIM115
    port = free_port()
    try:
        proc = start_streamlit(run_dir, port, log)
    except ServerError as exc:
        pytest.fail(str(exc))
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", is_sample=is_sample, run_dir=run_dir, log=log.name)
    stop(proc)
    log.close()


def test_macro_shows_a_users_friends_and_homophily_on_the_cards(page, social_server):
    open_page(page, social_server, "macro")
    wait_for_charts(page, 3)
    cards = page.locator("p", has_text="Friends:")
    cards.first.wait_for()
    assert all("friends are members" in t and "expected at random" in t for t in cards.all_inner_texts())
    page.get_by_text("Show a user's friends").first.click()
    caption = page.get_by_text("in their own segment", exact=False)
    wait_until(lambda: page.get_by_text("has no friends").count() or caption.count(), "the friends caption", page)
    idle(page)
    wait_for_charts(page, 3)
    legend = page.locator(".js-plotly-plot .legendtext", has_text="friends of user")
    wait_until(lambda: legend.count() >= 1, "the friends trace in the map's legend", page)
    assert_no_exception(page)
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(page, social_server, "macro-friends")
