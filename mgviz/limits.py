"""Limits on what one input can make mgviz do: upload size and model memory.

Both refuse *before* any work is done, with a message that names the figures
and the limit, so a too-large input is a clear error instead of a server that
runs out of memory (and is killed, taking every user's session with it).

Upload size
    :data:`MAX_UPLOAD_MB` is the Streamlit server's own limit
    (``server.maxUploadSize`` in ``.streamlit/config.toml``, or the
    ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE`` environment variable that overrides
    it), capped at :data:`UPLOAD_CEILING_MB`, so the server and the code agree;
    :data:`FALLBACK_UPLOAD_MB` when no configuration is found.

Model size
    A build holds no users × items array: its memory grows with the log (tables and sparse
    matrices, :data:`BYTES_PER_INTERACTION`), with the users and items (embeddings, factors,
    user vectors: :data:`BYTES_PER_USER`, :data:`BYTES_PER_ITEM`), plus EASE's items × items
    inverse when the micro level uses EASE (:data:`EASE_BYTES_PER_CELL` per items² cell) and
    a constant for the blockwise scoring temporaries. :func:`check_model_size` refuses inputs
    whose estimate exceeds the budget (:data:`DEFAULT_MODEL_GB`, or ``$MGVIZ_MAX_MODEL_GB``);
    ``benchmarks/scale.py`` measures the figures (docs/benchmarks.md).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from mgviz.errors import InputError

#: Upload limit when no Streamlit configuration is found (Streamlit's own default is also 200).
FALLBACK_UPLOAD_MB = 200
#: Highest upload limit the code accepts: about 8M interactions as CSV; loading 5M (125 MB) peaked at
#: 1.2 GiB (docs/reliability.md), well inside the memory budget. A larger configured value is capped.
UPLOAD_CEILING_MB = 200
#: Memory budget of one build, GiB; ``$MGVIZ_MAX_MODEL_GB`` overrides it.
DEFAULT_MODEL_GB = 12.0
MODEL_GB_ENV = "MGVIZ_MAX_MODEL_GB"
#: Bytes per interaction: the canonical tables, the weighted / seen matrices and their copies,
#: term counts and ALS's own (measured at 10M: docs/benchmarks.md).
BYTES_PER_INTERACTION = 600
#: Bytes per user: profile, own-text and consumption embeddings (384-d), the user vector, ALS
#: factors, category mix and membership, float32.
BYTES_PER_USER = 8_192
#: Bytes per item: embeddings (twice), factors, P(item | category / segment), term counts.
BYTES_PER_ITEM = 4_096
#: EASE: a float64 Gram matrix, its float64 inverse and the float32 weights, per items² cell.
EASE_BYTES_PER_CELL = 20
#: Blockwise scoring: a handful of block-sized float32 temporaries per level.
SCORING_BYTES = 256 * 2**20

_GIB = 2**30
_MIB = 2**20
CONFIG_FILE = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"


def configured_upload_mb(paths: list[Path] | None = None) -> int | None:
    """``server.maxUploadSize`` as Streamlit would see it, or ``None`` when not configured.

    The environment variable wins over the files, as in Streamlit; among the
    files, the working directory's ``.streamlit/config.toml`` wins over the one
    shipped next to the package.
    """
    env = os.environ.get("STREAMLIT_SERVER_MAX_UPLOAD_SIZE")
    if env and env.strip().isdigit():
        return int(env)
    if paths is None:
        paths = [Path.cwd() / ".streamlit" / "config.toml", CONFIG_FILE]
    for path in paths:
        try:
            config = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        value = config.get("server", {}).get("maxUploadSize")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def upload_limit_mb() -> int:
    """The upload limit in MB: the configured one, capped at :data:`UPLOAD_CEILING_MB`."""
    return min(configured_upload_mb() or FALLBACK_UPLOAD_MB, UPLOAD_CEILING_MB)


#: Upload limit in MB (see :func:`upload_limit_mb`), fixed at import.
MAX_UPLOAD_MB = upload_limit_mb()
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * _MIB


def check_upload_size(n_bytes: int, name: str, limit_mb: float | None = None) -> None:
    """Refuse a file of ``n_bytes`` over the upload limit (default :data:`MAX_UPLOAD_MB`).

    Raises
    ------
    InputError
        Naming the file, its size and the limit in MB.
    """
    limit = MAX_UPLOAD_MB if limit_mb is None else limit_mb
    if n_bytes > limit * _MIB:
        raise InputError(
            f"is {n_bytes / _MIB:,.1f} MB, larger than the {limit:g} MB upload limit; "
            "upload a smaller file (e.g. a recent slice of the log) or run the command line on it",
            file=name,
        )


# --------------------------------------------------------------------------- table shape
#: Most columns a table may have: loading costs a few ms per column, and no interaction log,
#: item catalogue or user table needs more (a 200 KB header of 50,000 names took 35 s to refuse).
MAX_COLUMNS = 1_000


def max_table_rows() -> int:
    """Most rows a table may have: more interactions than a build could ever model within the budget."""
    return model_budget_bytes() // BYTES_PER_INTERACTION


def table_shape_problem(n_rows: int, n_columns: int) -> str | None:
    """Why a table of this shape is refused (a sentence fragment for the report), or ``None``.

    ``n_rows`` may be an upper bound (lines of a text file, rows in a Parquet footer):
    it is checked before anything is parsed or decompressed.
    """
    if n_columns > MAX_COLUMNS:
        return f"has {n_columns:,} columns, more than the {MAX_COLUMNS:,} mgviz reads; keep the columns you need"
    rows = max_table_rows()
    if n_rows > rows:
        return (
            f"has {n_rows:,} rows, more than the {rows:,} that fit the {model_budget_bytes() / _GIB:g} GiB memory "
            f"limit ({MODEL_GB_ENV}); use a sample or a recent slice of the log"
        )
    return None


def check_table_shape(n_rows: int, n_columns: int, name: str) -> None:
    """Raise :class:`InputError` naming the file when :func:`table_shape_problem` finds one."""
    problem = table_shape_problem(n_rows, n_columns)
    if problem:
        raise InputError(problem, file=name)


# --------------------------------------------------------------------------- model memory
def model_budget_bytes() -> int:
    """Memory budget of one build in bytes: ``$MGVIZ_MAX_MODEL_GB`` or :data:`DEFAULT_MODEL_GB`."""
    raw = os.environ.get(MODEL_GB_ENV, "").strip()
    if not raw:
        return int(DEFAULT_MODEL_GB * _GIB)
    try:
        gb = float(raw)
    except ValueError:
        gb = float("nan")
    if not gb > 0 or gb == float("inf"):
        raise ValueError(f"{MODEL_GB_ENV}={raw!r} should be a positive number of GiB (default {DEFAULT_MODEL_GB:g})")
    return int(gb * _GIB)


def estimate_model_bytes(n_users: int, n_items: int, n_interactions: int, ease: bool = True) -> int:
    """Bytes a build of this size holds at its peak (see the module docstring)."""
    return sum(_estimate_parts(n_users, n_items, n_interactions, ease).values())


def _estimate_parts(n_users: int, n_items: int, n_interactions: int, ease: bool) -> dict[str, int]:
    parts = {
        "the log": BYTES_PER_INTERACTION * int(n_interactions),
        "user and item state": BYTES_PER_USER * int(n_users) + BYTES_PER_ITEM * int(n_items) + SCORING_BYTES,
    }
    if ease:
        parts["EASE's items × items inverse"] = EASE_BYTES_PER_CELL * int(n_items) ** 2
    return parts


def check_model_size(n_users: int, n_items: int, n_interactions: int, name: str = "", ease: bool = True) -> int:
    """Refuse up front a build whose memory estimate exceeds the budget; returns the estimate in bytes.

    Parameters
    ----------
    n_users, n_items, n_interactions : int
        Size of the data to model.
    name : str
        File name for the message (the interaction log).
    ease : bool
        Whether the micro level will run EASE (an items × items inverse).

    Raises
    ------
    InputError
        Naming users, items, interactions, the estimate, its parts and the budget, and what to do.
    """
    parts = _estimate_parts(n_users, n_items, n_interactions, ease)
    need = sum(parts.values())
    budget = model_budget_bytes()
    if need <= budget:
        return need
    detail = ", ".join(f"{what} {b / _GIB:.1f} GiB" for what, b in parts.items())
    advice = "a shorter log (a recent slice) or fewer users"
    if ease and parts["EASE's items × items inverse"] > budget / 2:
        advice = "a lower ease_max_items (item-kNN instead of EASE), or fewer items"
    raise InputError(
        f"{n_users:,} users × {n_items:,} items ({n_interactions:,} interactions) is too large to model here: "
        f"it needs about {need / _GIB:.1f} GiB of memory ({detail}), over the {budget / _GIB:g} GiB limit "
        f"({MODEL_GB_ENV}). Model a subset – {advice} – or raise {MODEL_GB_ENV} on a machine with more memory",
        file=name or "the data",
    )
