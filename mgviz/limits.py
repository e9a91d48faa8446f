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
    A build and its first recommendations for every user keep up to
    :data:`DENSE_ARRAYS` dense ``users × items`` float32 arrays at once (the
    four level scores plus the raw scores, fusion and ranking temporaries; see
    docs/reliability.md for the measurement) and, for the EASE part of the
    micro level, three float64 ``items × items`` matrices.
    :func:`check_model_size` refuses inputs whose estimate exceeds the budget
    (:data:`DEFAULT_MODEL_GB`, or ``$MGVIZ_MAX_MODEL_GB``).
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
DEFAULT_MODEL_GB = 6.0
MODEL_GB_ENV = "MGVIZ_MAX_MODEL_GB"
#: Dense float32 users × items arrays alive at the peak: the 4 level scores a model keeps plus the
#: temporaries of computing one level and of fusing / ranking a block of users. Measured at 20k × 5k
#: (docs/reliability.md): 5.4 with the default configuration including top-10 for every user,
#: 8.4 with the learned semantic score (float64 logits).
DENSE_ARRAYS = 8
#: Bytes per interaction for the tables, sparse matrices and ALS (loading alone measured ~350 B at 1M).
BYTES_PER_INTERACTION = 600
#: Float64 items × items matrices EASE holds at once (Gram matrix, its inverse, the weights).
EASE_MATRICES = 3
#: EASE is skipped above this many items (mirrors ``mgviz.levels.micro.EASE_MAX_ITEMS``).
EASE_MAX_ITEMS = 20_000

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
    """Bytes a build of this size holds at its peak (dense level arrays + EASE + per-interaction data)."""
    dense = DENSE_ARRAYS * 4 * int(n_users) * int(n_items)
    ease_bytes = EASE_MATRICES * 8 * int(n_items) ** 2 if ease and n_items <= EASE_MAX_ITEMS else 0
    return dense + ease_bytes + BYTES_PER_INTERACTION * int(n_interactions)


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
        Naming users, items, interactions, the estimate and the budget, and
        how many items would fit for these users.
    """
    need = estimate_model_bytes(n_users, n_items, n_interactions, ease)
    budget = model_budget_bytes()
    if need <= budget:
        return need
    fit = _items_that_fit(n_users, n_interactions, budget, ease)
    subset = (
        f"e.g. the {fit:,} most popular items, or fewer users" if fit >= 1 else "a shorter log (fewer interactions)"
    )
    raise InputError(
        f"{n_users:,} users × {n_items:,} items ({n_interactions:,} interactions) is too large to model here: "
        f"it needs about {need / _GIB:.1f} GiB of memory ({DENSE_ARRAYS} dense users × items arrays"
        f"{' + EASE items × items matrices' if ease and n_items <= EASE_MAX_ITEMS else ''}), "
        f"over the {budget / _GIB:g} GiB limit ({MODEL_GB_ENV}). "
        f"Model a subset – {subset} – or raise {MODEL_GB_ENV} on a machine with more memory",
        file=name or "the data",
    )


def _items_that_fit(n_users: int, n_interactions: int, budget: int, ease: bool) -> int:
    """Largest item count whose estimate stays within ``budget`` (same users and interactions)."""
    lo, hi = 0, 1
    while estimate_model_bytes(n_users, hi, n_interactions, ease) <= budget and hi < 2**40:
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # the estimate grows with the item count (EASE only adds below its cut-off)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if estimate_model_bytes(n_users, mid, n_interactions, ease) <= budget else (lo, mid)
    return lo
