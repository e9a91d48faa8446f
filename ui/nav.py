"""Keep the app on its ``st.navigation`` pages.

Streamlit treats a ``pages/`` folder next to the main script as a legacy
multipage app until ``st.navigation`` has been called in the process (and
``AppTest`` resets that before every run). A page can then be started on its
own – e.g. a first-ever request that deep-links to ``/macro`` – without
``app.py``'s navigation, session state and model. :func:`ensure_app` detects
that and runs ``app.py`` in its place, in the same script run (so button
clicks are not lost); ``app.py`` then runs the page the URL names, because each
``st.Page`` has the url path of its file name.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st

APP = Path(__file__).resolve().parent.parent / "app.py"


def ensure_app() -> None:
    """Run ``app.py`` instead when this page was started by the legacy ``pages/`` mechanism."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - layout of a future Streamlit
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP), run_name="__main__")
        st.stop()
