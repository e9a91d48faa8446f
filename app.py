"""mgviz – the analyst dashboard (``streamlit run app.py``).

Opens on the bundled sample run (``runs/sample``; ``MGVIZ_RUN`` points elsewhere) so
every page has content at once. Pages are thin views over :mod:`mgviz`; session
keys live in :mod:`ui.state`, cached loaders in :mod:`ui.cache`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # so `ui` imports however the app is started
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui import state, widgets  # noqa: E402

PAGES = [
    st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data", default=True),
    st.Page("pages/macro.py", title="Macro · segments", icon=":material/bubble_chart:", url_path="macro"),
    st.Page("pages/meso.py", title="Meso · categories", icon=":material/category:", url_path="meso"),
    st.Page("pages/micro.py", title="Micro · users", icon=":material/person:", url_path="micro"),
    st.Page("pages/recommendations.py", title="Recommendations", icon=":material/tune:", url_path="recommendations"),
    st.Page("pages/whatif.py", title="What-if user", icon=":material/person_add:", url_path="whatif"),
    st.Page("pages/export.py", title="Export", icon=":material/download:", url_path="export"),
]

st.set_page_config(page_title="mgviz – user interest dashboard", page_icon="📊", layout="wide")
state.init()
widgets.ensure_model()
widgets.apply_finished_build()  # a background build that has finished opens its model on every page
page = st.navigation(PAGES)
with st.sidebar:
    st.markdown("### mgviz")
    st.caption("Multi-granularity user interest: macro segments, meso categories, micro items, semantic text.")
widgets.sidebar_summary()
widgets.build_status()
widgets.start_evaluation()  # held-out metrics fit in the background while the analyst looks around
page.run()
