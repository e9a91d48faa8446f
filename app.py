"""mgviz – Streamlit entry point (minimal view; the dashboard pages live in pages/)."""

from pathlib import Path

import streamlit as st

from mgviz.runs import RunError, load_run

st.set_page_config(page_title="mgviz", layout="wide")
st.title("mgviz – multi-granularity user interest")

RUN = Path(__file__).parent / "runs" / "sample"


@st.cache_resource(max_entries=4)
def _load(path: str):
    return load_run(path)


try:
    model = _load(str(RUN))
except RunError as exc:
    st.error(f"No sample run yet: {exc}. Start the app with `make run`, which builds it.")
    st.stop()

st.write(f"{len(model.user_ids)} users · {len(model.item_ids)} items · {len(model.profiles)} segments")
st.dataframe([{"segment": p.segment, "label": p.label, "size": p.size} for p in model.profiles])
