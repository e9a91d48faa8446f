"""Data: pick the sample or upload files, map columns, validate, summarise, and build a model."""

from __future__ import annotations

import streamlit as st

from mgviz import explore, plots
from mgviz.config import SETTINGS, BuildConfig, ConfigError, format_setting, parse_setting
from mgviz.encoder import canonical_model
from mgviz.errors import InputError
from mgviz.io import detect_roles
from mgviz.limits import MAX_UPLOAD_BYTES
from mgviz.runs import RunError
from ui import cache, encoders, nav, state, widgets
from ui.buildjob import BuildJob

UPLOAD_TYPES = ["csv", "tsv", "txt", "parquet", "pq", "inter", "item", "user"]
ROLES = ("interactions", "items", "users", "friends")
FRIENDS_TYPES = ["csv", "tsv", "txt", "parquet", "pq"]
AUTO = "(detect)"
#: (load_dataset keyword, role key in detect_roles, table it comes from, label)
MAPPING = (
    ("user_col", "user", "interactions", "User id"),
    ("item_col", "item", "interactions", "Item id"),
    ("rating_col", "rating", "interactions", "Rating"),
    ("time_col", "timestamp", "interactions", "Timestamp"),
    ("category_col", "category", "items", "Item categories"),
)
STAGES = ("weights", "encode items", "encode users", "categories", "cold start", "ALS", "keywords", "segments",
          "K quality", "stability", "UMAP", "level scores")  # fmt: skip
SOURCE_SAMPLE, SOURCE_UPLOAD = "Sample data", "Upload files"


def main() -> None:
    st.title("Data")
    st.caption("Choose the data to model, check it, and build the multi-granularity interest model.")
    key = state.bind("data.source", state.DATA_SOURCE)
    source = st.segmented_control(
        "Data source", [SOURCE_SAMPLE, SOURCE_UPLOAD], key=key, required=True, format_func=source_label,
        on_change=state.store, args=("data.source", state.DATA_SOURCE),
    )  # fmt: skip
    if source == SOURCE_UPLOAD:
        upload_section()
    else:
        sample_section()
    dataset, data_key, what = current_data(source)
    if dataset is None:
        return
    if source == SOURCE_UPLOAD:
        validation_section()
    summary_section(dataset, data_key, what)
    build_section(dataset, data_key, what)


# ----------------------------------------------------------------------------------------------- sources
def sample_section() -> None:
    run_dir = cache.default_run_dir()
    model = st.session_state.get(state.MODEL)
    key = cache.run_key(run_dir)
    label = cache.run_label(run_dir)
    if st.session_state.get(state.MODEL_KEY) == key:
        st.success(f"The {widgets.md_escape(label)} is open: every page shows it.", icon=":material/check_circle:")
    elif st.button(f"Open the {label}", icon=":material/restart_alt:"):
        try:
            model = cache.open_run(key)
        except RunError as exc:
            st.error(f"The {label} could not be opened: {exc}. " + widgets.missing_run_advice(run_dir))
            return
        state.set_model(model, key, label)
        st.rerun()
    if model is None:
        st.warning(f"No run at {run_dir}: " + widgets.missing_run_advice(run_dir) + " Or upload your own files.")


def source_label(source: str) -> str:
    """The data-source choice as shown: the default run is the sample only when MGVIZ_RUN names none."""
    if source == SOURCE_SAMPLE and not cache.is_bundled_sample(cache.default_run_dir()):
        return f"Run from {cache.RUN_ENV}"
    return source


def upload_section() -> None:
    st.markdown(
        "Upload an **interaction log** (required) and optionally an **item table** and a **user table**: "
        "CSV, TSV, Parquet or RecBole atomic files (`.inter`, `.item`, `.user`); optionally a **friends / follow "
        "edges** file (`user_id, friend_id[, weight]`) for the social level, as `mgviz build --friends FILE`."
    )
    cols = st.columns(len(ROLES))
    uploads = {}
    for col, role in zip(cols, ROLES[:3], strict=False):
        with col:
            label = f"{role.capitalize()}{' (required)' if role == 'interactions' else ' (optional)'}"
            uploads[role] = st.file_uploader(label, type=UPLOAD_TYPES, key=f"upload.{role}")
    with cols[3]:
        uploads["friends"] = st.file_uploader(
            "Friends / follow edges (optional)", type=FRIENDS_TYPES, key="upload.friends",
            help="user_id, friend_id[, weight]: edges between the log's users; adds the social level to the build.",
        )  # fmt: skip
        directed = st.checkbox(
            "directed (follows)", key="upload.friends.directed", disabled=uploads["friends"] is None,
            help="user_id follows friend_id (as --friends-directed); unticked: friendships both ways.",
        )  # fmt: skip
    directed = bool(directed and uploads["friends"] is not None)
    files = {role: (f.name, f.getvalue()) for role, f in uploads.items() if f is not None}
    ids = {role: f.file_id for role, f in uploads.items() if f is not None}
    if "interactions" not in files:
        if files:
            st.info("Add the interaction log – the other files describe its users and items.")
        show_last_error()
        return
    tables = read_tables(files, ids)
    if tables is None:
        show_last_error()
        return
    mapping = mapping_section(tables)
    token = explore.digest(ids, {role: name for role, (name, _) in files.items()}, mapping, directed)
    error = st.session_state.get(state.DATA_ERROR)
    if token != st.session_state.get(state.DATA_TOKEN) and not (error and error.get("token") == token):
        load_files(files, mapping, token, directed)
    show_last_error()


def read_tables(files: dict, ids: dict) -> dict | None:
    """Read each upload once (for the column mapping); None after recording an error."""
    tables = {}
    for role, (name, data) in files.items():
        if role == "friends":  # no column mapping: read and checked by the loader (mgviz.io.friends)
            continue
        try:
            tables[role] = cache.read_upload(ids[role], name, data)
        except InputError as exc:
            record_error(ids[role], str(exc), exc.report.to_frame())
            return None
    return tables


def mapping_section(tables: dict) -> dict:
    """Column-mapping select boxes, pre-filled from ``detect_roles``; returns load_dataset keywords."""
    mapping = {}
    with st.expander("Column mapping", expanded=True):
        st.caption(f"Pre-filled from the column names; “{AUTO}” lets the loader decide.")
        cols = st.columns(len(MAPPING))
        for col, (kw, role_key, table, label) in zip(cols, MAPPING, strict=True):
            source = table if table in tables else "interactions"
            frame = tables[source]
            detected = detect_roles(frame, source).get(role_key)
            options = [AUTO, *map(str, frame.columns)]
            index = options.index(detected) if isinstance(detected, str) and detected in options else 0
            with col:
                choice = st.selectbox(f"{label} ({source})", options, index=index, key=f"map.{kw}.{source}")
            mapping[kw] = None if choice == AUTO else choice
    return mapping


def load_files(files: dict, mapping: dict, token: str, directed: bool = False) -> None:
    # the smaller of Streamlit's own cap and the library's (both come from .streamlit/config.toml)
    max_bytes = min(int(st.get_option("server.maxUploadSize")) * 1024 * 1024, MAX_UPLOAD_BYTES)
    try:
        dataset, report = cache.load_upload(token, files, mapping, max_bytes, directed)
    except InputError as exc:
        record_error(token, str(exc), exc.report.to_frame())
        return
    except Exception as exc:  # unexpected: still keep the app and the previous data usable
        record_error(token, f"{type(exc).__name__}: {exc}", None)
        return
    st.session_state[state.DATA] = dataset
    st.session_state[state.DATA_TOKEN] = token
    st.session_state[state.DATA_REPORT] = report
    st.session_state[state.DATA_NAMES] = {role: name for role, (name, _) in files.items()}
    st.session_state[state.DATA_ERROR] = None


def record_error(token: str, message: str, report) -> None:
    st.session_state[state.DATA_ERROR] = {"token": token, "message": message, "report": report}


def show_last_error() -> None:
    error = st.session_state.get(state.DATA_ERROR)
    if error:
        widgets.show_input_error(error["message"], error["report"])
        if st.session_state.get(state.DATA) is not None or st.session_state.get(state.MODEL) is not None:
            st.caption("The data loaded before is kept; fix the files and upload them again.")


def current_data(source: str):
    """The data to summarise and build from, its key and a description: the loaded uploads (keyed by their
    digest), or the open model's data (keyed by the model's key)."""
    data = st.session_state.get(state.DATA)
    if source == SOURCE_UPLOAD:
        if data is None:
            return None, None, ""
        names = ", ".join(st.session_state.get(state.DATA_NAMES, {}).values())
        return data, st.session_state[state.DATA_TOKEN], f"uploaded files ({names})"
    model = st.session_state.get(state.MODEL)
    if model is not None:
        return model.dataset, st.session_state[state.MODEL_KEY], st.session_state[state.MODEL_SOURCE]
    return None, None, ""


# ----------------------------------------------------------------------------------------------- report & summary
def validation_section() -> None:
    report = st.session_state.get(state.DATA_REPORT)
    if st.session_state.get(state.DATA) is None or report is None:
        return
    names = ", ".join(st.session_state.get(state.DATA_NAMES, {}).values())
    if report.problems:
        label = f"Validation of the loaded data ({names}): {len(report.warnings)} warning(s)"
        with st.expander(label, expanded=not st.session_state.get(state.DATA_ERROR)):
            st.dataframe(report.to_frame(), hide_index=True, width="stretch")
    else:
        st.success(f"Validation of the loaded data ({names}): no problems found.", icon=":material/check_circle:")
    widgets.show_friends_status(st.session_state[state.DATA], report)


def summary_section(dataset, data_key, what: str) -> None:
    st.subheader("Summary")
    st.caption(f"Data: {what}")
    s = cache.data_summary(data_key, dataset)
    cols = st.columns(5)
    cols[0].metric("Users", f"{s['users']:,}")
    cols[1].metric("Items", f"{s['items']:,}")
    cols[2].metric("Interactions", f"{s['interactions']:,}")
    cols[3].metric("Sparsity", f"{s['sparsity']:.2%}", help="share of user × item pairs without an interaction")
    cols[4].metric("Median per user", f"{s['per_user_median']:.0f}")
    st.caption(
        f"Time span: {explore.time_span(s)} · {s['categories']:,} item categories · "
        f"demographics: {', '.join(s['demographics']) or 'none'}"
    )
    left, right = st.columns(2)
    with left:
        st.plotly_chart(plots.rating_histogram(s["ratings"], "Rating histogram"), key="data.ratings")
    with right:
        st.plotly_chart(plots.long_tail(s["item_counts"]), key="data.tail")


# ----------------------------------------------------------------------------------------------- build
def build_section(dataset, data_key, what: str) -> None:
    st.subheader("Build the model")
    model = st.session_state.get(state.MODEL)
    base = model.config if model is not None else BuildConfig()
    is_open = model is not None and dataset is model.dataset
    st.caption(
        ("Rebuild the open model with other settings." if is_open else "Model the loaded data.")
        + " Building encodes the texts, fits ALS, segments the users and maps them; it can take a few minutes."
        " It runs in the background: other pages stay usable and show the new model when it is done."
    )
    job = st.session_state.get(state.BUILD_JOB)
    running = job is not None and not job.finished
    with st.form("build"):
        values = settings_form(base, len(dataset.users))
        submitted = st.form_submit_button("Build model", type="primary", icon=":material/play_arrow:", disabled=running)
    widgets.show_build_message()
    if running:
        build_progress(job)
    if submitted and not running:
        start_build(dataset, data_key, what, values)


GROUPS = {"segments": "Segments and map", "model": "Levels", "text": "Text and encoder", "fusion": "Fusion"}


def settings_form(base: BuildConfig, n_users: int) -> dict:
    """Every declared build setting (mgviz.config.SETTINGS), starting from ``base``: a rebuild
    changes only what the analyst changes. Returns the raw values, checked by :func:`start_build`."""
    values = base.to_dict()
    for group, title in GROUPS.items():
        names = [n for n, spec in SETTINGS.items() if spec.group == group]
        with st.expander(title, expanded=group == "segments"):
            cols = st.columns(3)
            for j, name in enumerate(names):
                with cols[j % 3]:
                    values[name] = setting_widget(name, SETTINGS[name], values[name], n_users)
    return values


def setting_widget(name: str, spec, value, n_users: int):
    """One form field for a declared setting; text fields are read with mgviz.config.parse_setting."""
    label, key = name.replace("_", " ").capitalize(), f"build.{name}"
    if spec.kind == "bool":
        return st.checkbox(label, value=bool(value), help=spec.help, key=key)
    if spec.kind == "int" and name == "k":
        k_max = max(1, min(500, n_users))
        return int(st.number_input(label, 1, k_max, min(max(int(value), 1), k_max), help=spec.help, key=key))
    if spec.kind == "int":
        low = int(spec.low) if spec.low is not None else None
        high = int(spec.high) if spec.high is not None else None
        return int(st.number_input(label, low, high, int(value), step=1, help=spec.help, key=key))
    if spec.kind == "float" and not spec.nullable:
        low = float(spec.low) if spec.low is not None and not spec.low_open else None
        return float(st.number_input(label, low, None, float(value), format="%g", help=spec.help, key=key))
    if spec.kind == "str" and spec.choices:
        return st.selectbox(label, spec.choices, index=list(spec.choices).index(value), help=spec.help, key=key)
    if spec.kind == "list" and spec.choices:
        return st.multiselect(label, list(spec.choices), default=list(value), help=spec.help, key=key)
    if name == "model":
        return encoder_field(spec, value)
    text = st.text_input(label, format_setting(name, value), help=spec.help, key=key)
    return FormText(text)


def encoder_field(spec, value: str):
    """The text encoder: one of the listed ones (bundled, or allowed by the operator), or another name or path."""
    options = encoders.choices()
    listed = value if value in options else canonical_model(value)
    choice = st.selectbox("Text encoder", options, index=options.index(listed) if listed in options else 0,
                          format_func=encoders.label, help=spec.help, key="build.encoder")  # fmt: skip
    typed = st.text_input(
        "…or another encoder (name or path)",
        "" if listed in options else value,
        help="When filled, used instead of the choice above: a sentence-transformers name or folder. "
        f"Allowed on this server: {encoders.allow_list().describe()}.",
        key="build.model",
    )
    return FormText(typed) if typed.strip() else choice


class FormText(str):
    """A form field's text, read into the setting's value when the form is submitted."""


def start_build(dataset, data_key, what: str, values: dict) -> None:
    """Check the settings, then start the build in the background (progress below the form)."""
    try:
        config = BuildConfig.from_dict(
            {n: parse_setting(n, v) if isinstance(v, FormText) else v for n, v in values.items()}
        )
    except ConfigError as exc:
        st.error(f"Not built: {exc}", icon=":material/error:")
        return
    model = st.session_state.get(state.MODEL)
    refused = encoders.refusal(config.model, model.config.model if model is not None else None)
    if refused:  # checked before anything is loaded; the open model and the form stay as they are
        st.error(refused, icon=":material/block:")
        return
    key = cache.ModelKey.for_build(data_key, config.to_dict())
    job = BuildJob(dataset, config, cache.encoder_for(config.model), key, what).start()
    st.session_state[state.BUILD_JOB] = job
    st.rerun()  # the form's button is disabled and the sidebar says a build runs


@st.fragment(run_every=1)
def build_progress(job) -> None:
    """Stage, n/N and the finished stages, redrawn every second; the app switches to the model when done."""
    if job.finished:
        st.rerun(scope="app")  # ui.widgets.apply_finished_build opens the model (or reports the failure)
    with st.container(border=True):
        stage = f"{job.stage}: {job.done}/{job.total}" if job.total > 1 else job.stage
        st.progress(job.fraction(STAGES), text=f"Building the model ({job.seconds:.0f} s) – {stage}")
        if job.finished_stages:
            st.caption(" · ".join(f"✓ {s}" for s in job.finished_stages))
        st.button("Cancel the build", icon=":material/stop:", on_click=job.cancel, key="build.cancel",
                  help="Stops at the next step; the open model stays.")  # fmt: skip


nav.ensure_app()
main()
