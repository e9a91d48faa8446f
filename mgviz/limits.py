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
    A build keeps several dense ``users × items`` float32 arrays at once (the
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
#: Highest upload limit the code accepts: about 6M interactions as CSV, whose loading was measured
#: to stay well inside the memory budget (docs/reliability.md). A larger configured value is capped.
UPLOAD_CEILING_MB = 200
#: Memory budget of one build, GiB; ``$MGVIZ_MAX_MODEL_GB`` overrides it.
DEFAULT_MODEL_GB = 6.0
MODEL_GB_ENV = "MGVIZ_MAX_MODEL_GB"
#: Dense float32 users × items arrays alive at the peak of a build (measured, docs/reliability.md).
DENSE_ARRAYS = 8
#: Bytes per interaction for the tables, sparse matrices and ALS (measured, docs/reliability.md).
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
    per_item = DENSE_ARRAYS * 4 * max(int(n_users), 1)
    fit_items = max(int((budget - BYTES_PER_INTERACTION * n_interactions) // per_item), 0)
    raise InputError(
        f"{n_users:,} users × {n_items:,} items ({n_interactions:,} interactions) is too large to model here: "
        f"it needs about {need / _GIB:.1f} GiB of memory ({DENSE_ARRAYS} dense users × items arrays"
        f"{' + EASE items × items matrices' if ease and n_items <= EASE_MAX_ITEMS else ''}), "
        f"over the {budget / _GIB:g} GiB limit ({MODEL_GB_ENV}). "
        f"Model a subset – e.g. the {fit_items:,} most popular items, or fewer users – "
        f"or raise {MODEL_GB_ENV} on a machine with more memory",
        file=name or "the data",
    )
