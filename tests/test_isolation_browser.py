"""Two analysts on one server: each browser session sees only its own upload (Chromium + Playwright).

One ``streamlit run app.py`` server (the ``server`` / ``browser`` fixtures of
``test_browser``), three browser contexts = three Streamlit sessions:

* session A uploads an interaction log + item table whose user ids, item ids,
  titles and file names carry the marker ``ALPHA``; session B does the same with
  ``BRAVO``; both builds run at the same time on the server;
* each session's Data page, sidebar, Recommendations list and user list show its
  own marker and never the other's – also after moving between pages;
* after a browser reload a session is a new Streamlit session: it shows its own
  data or the bundled sample, never the other session's;
* a third, fresh session still opens on the bundled sample (no marker at all).

Screenshots go to ``tests/screenshots/isolation-*.png``. Select with ``pytest -m browser``.
The last test (no browser, ``AppTest``) checks that a session keeps its background
evaluation while other sessions' models fill the shared job cache.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ui, for the AppTest script

import test_browser as tb  # noqa: E402
from browserkit import HANG_S, describe, idle, marked_files, prepare_context, wait_until  # noqa: E402

from ui.cache import run_label  # noqa: E402

# the real-server fixtures of test_browser (one server and one Chromium for this module)
server = tb.server
browser = tb.browser


@pytest.fixture(scope="module", autouse=True)
def loopback_only():
    """The server of this module listens on 127.0.0.1 only (set before ``server`` starts it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STREAMLIT_SERVER_ADDRESS", "127.0.0.1")
        yield


MARKERS = {"ALPHA": 1, "BRAVO": 2}  #: marker -> seed of its tiny data
APP = "[data-testid='stApp']"
NAV = "[data-testid='stSidebarNav']"


# ----------------------------------------------------------------------------------------------- page helpers
def new_context(browser, server):
    """A browser context (a Streamlit session per page) that reaches nothing but the server."""
    context = browser.new_context(viewport={"width": tb.WIDTH, "height": tb.HEIGHT})
    prepare_context(context)
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(server.url + "/") else route.abort()
    )
    return context


def app_text(page) -> str:
    return page.locator(APP).inner_text()


def upload(page, server, files: dict[str, Path]) -> None:
    """Switch the Data page to uploads and give it the interaction log and the item table."""
    tb.open_page(page, server, "data")
    page.locator(".st-key-w-data-source").get_by_text("Upload files", exact=True).click()
    dropzones = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    dropzones.first.wait_for(state="attached")
    dropzones.nth(0).set_input_files(str(files["interactions"]))
    page.get_by_text(f"uploaded files ({files['interactions'].name})").wait_for()
    idle(page)
    dropzones.nth(1).set_input_files(str(files["items"]))
    names = f"uploaded files ({files['interactions'].name}, {files['items'].name})"
    page.get_by_text(names).first.wait_for()
    idle(page)


def start_build(page) -> None:
    """Small, fast settings (K=3, 5 ALS iterations, no UMAP), then press Build – without waiting."""
    page.locator("[data-testid='stExpander'] summary").filter(has_text="Levels").click()  # ALS settings
    for key, value in (("build-k", "3"), ("build-iterations", "5")):
        field = page.locator(f".st-key-{key} input")
        field.fill(value)
        field.press("Tab")
    if page.locator(".st-key-build-umap input[type=checkbox]").is_checked():
        page.locator(".st-key-build-umap label").click()
    page.get_by_role("button", name="Build model").click()


def wait_for_build(page) -> None:
    """Until the page says the build is done (it says so itself: "Model built in …"); a failure ends it at once."""

    def done():
        if page.get_by_text("The build failed").count():
            raise AssertionError("the build failed: " + app_text(page)[-2000:])
        return page.get_by_text("Model built in").count() > 0

    wait_until(done, "the build to finish", page, interval=0.5)
    idle(page)


def go_to(page, name: str) -> None:
    """Another page of the same session (sidebar navigation keeps the session)."""
    label = {"recommendations": "Recommendations", "data": "Data"}[name]
    page.locator(NAV).get_by_text(label, exact=True).click()
    page.get_by_role("heading", name=tb.PAGES[name]).first.wait_for()
    idle(page)


def user_options(page) -> str:
    """Text of the open user list on the Recommendations page (then closed again)."""
    page.locator(".st-key-recs-user button[aria-label='Open']").click()
    listbox = page.get_by_role("listbox").first
    listbox.wait_for()
    text = listbox.inner_text()
    page.keyboard.press("Escape")
    return text


def recommendations_view(page) -> dict[str, str]:
    """What the Recommendations page shows: the chosen user, the list, the user options, the whole page."""
    table = page.locator("[data-testid='stTable']").first
    warning = page.get_by_text("Give at least one level a weight above zero")
    wait_until(lambda: table.is_visible() or warning.count(), "the recommendation list", page)
    assert warning.count() == 0, f"the list is missing: {describe(page)}"
    idle(page)
    return {
        "user": page.locator(".st-key-recs-user input").input_value(),
        "list": page.locator("[data-testid='stTable']").first.inner_text(),
        "options": user_options(page),
        "page": app_text(page),
    }


def assert_shows_only(view: dict[str, str], own: str, others: list[str], where: str) -> None:
    for part, text in view.items():
        for other in others:
            assert other not in text, f"{where}: {part} shows {other}'s data: {text[:500]!r}"
    if own:
        for part in ("user", "list", "options"):
            if part in view:
                assert own in view[part], f"{where}: {part} does not show {own}'s data: {view[part][:500]!r}"


def assert_sample(text: str, server, where: str) -> None:
    """The server's default run (the bundled sample, or the tiny run through MGVIZ_RUN) is open."""
    label = run_label(server.run_dir)
    assert label in text, f"{where}: the default run ({label}) is not open: {text[:500]!r}"
    for marker in MARKERS:
        assert marker not in text, f"{where}: the sample session shows {marker}'s data"


# ----------------------------------------------------------------------------------------------- tests
@pytest.mark.browser
def test_sessions_see_only_their_own_upload(browser, server, tmp_path):
    contexts = {m: new_context(browser, server) for m in MARKERS}
    try:
        pages = {m: ctx.new_page() for m, ctx in contexts.items()}
        files = {m: marked_files(m, seed, tmp_path) for m, seed in MARKERS.items()}

        # both sessions upload, then both build at the same time
        for marker, page in pages.items():
            upload(page, server, files[marker])
        for marker, page in pages.items():
            others = [m for m in MARKERS if m != marker]
            assert_shows_only({"page": app_text(page)}, "", others, f"{marker} after upload")
            assert f"uploaded files ({marker}_log.csv" in app_text(page)
            tb.assert_no_exception(page)
        for page in pages.values():
            start_build(page)
        for page in pages.values():
            wait_for_build(page)

        for marker, page in pages.items():
            others = [m for m in MARKERS if m != marker]
            text = app_text(page)
            assert f"uploaded files ({marker}_log.csv" in text, text[:1000]  # the summary's caption
            assert_shows_only({"page": text}, "", others, f"{marker} Data page after the build")
            users = page.locator("[data-testid='stMetric']").filter(has_text="Users")
            assert users.locator("[data-testid='stMetricValue']").inner_text().strip() == "90"
            tb.assert_no_exception(page)
            tb.screenshot(page, server, f"isolation-{marker.lower()}-data", docs=False)

        for marker, page in pages.items():
            others = [m for m in MARKERS if m != marker]
            go_to(page, "recommendations")
            view = recommendations_view(page)
            assert_shows_only(view, marker, others, f"{marker} Recommendations")
            assert f"Open: uploaded files ({marker}_log.csv" in view["page"], view["page"][:1000]  # the sidebar
            assert "built with K=3" in view["page"]
            tb.assert_no_exception(page)
            tb.screenshot(page, server, f"isolation-{marker.lower()}-recommendations", docs=False)

        # a browser reload starts a new Streamlit session: its own data or the sample, never the other's
        for page in pages.values():
            page.reload()
        for marker, page in pages.items():
            others = [m for m in MARKERS if m != marker]
            idle(page)
            page.get_by_role("heading", name=tb.PAGES["recommendations"]).first.wait_for()
            view = recommendations_view(page)
            assert_shows_only(view, "", others, f"{marker} after reload")
            assert marker in view["user"] or run_label(server.run_dir) in view["page"], view["page"][:500]
            tb.assert_no_exception(page)
            go_to(page, "data")
            assert_shows_only({"page": app_text(page)}, "", others, f"{marker} Data page after reload")
            tb.screenshot(page, server, f"isolation-{marker.lower()}-after-reload", docs=False)

        # a third, fresh session opens on the bundled sample
        fresh_ctx = new_context(browser, server)
        contexts["fresh"] = fresh_ctx
        fresh = fresh_ctx.new_page()
        tb.open_page(fresh, server, "data")
        assert_sample(app_text(fresh), server, "fresh Data page")
        tb.assert_no_exception(fresh)
        tb.screenshot(fresh, server, "isolation-fresh-data", docs=False)
        tb.open_page(fresh, server, "recommendations")
        view = recommendations_view(fresh)
        assert_sample(view["page"], server, "fresh Recommendations page")
        assert_shows_only(view, "", list(MARKERS), "fresh Recommendations")
        tb.assert_no_exception(fresh)
    finally:
        for ctx in contexts.values():
            ctx.close()


def _eval_job_script():
    import streamlit as st

    from ui import cache

    job = cache.eval_job(st.session_state["key"], st.session_state["model"])
    st.session_state["job_id"] = id(job)


def test_a_session_keeps_its_evaluation_while_others_fill_the_shared_cache():
    """Three sessions on three models (the shared cache holds two jobs): nobody's evaluation restarts."""
    from types import SimpleNamespace

    from streamlit.testing.v1 import AppTest

    from ui.cache import ModelKey

    model = SimpleNamespace(dataset=None, config=SimpleNamespace(model="hash-test-encoder"))
    apps = {}
    for name in ("a", "b", "c"):
        at = AppTest.from_function(_eval_job_script, default_timeout=HANG_S)
        at.session_state["key"], at.session_state["model"] = ModelKey(data=name, settings="test"), model
        apps[name] = at
    first = {}
    for _round in range(3):
        for name, at in apps.items():
            at.run()
            assert not at.exception, [e.value for e in at.exception]
            first.setdefault(name, at.session_state["job_id"])
            assert at.session_state["job_id"] == first[name], f"session {name}'s evaluation was started again"
