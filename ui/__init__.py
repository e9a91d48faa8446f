"""Streamlit glue for the mgviz dashboard: session state, cached loaders, page helpers (mgviz/ never imports streamlit)."""
