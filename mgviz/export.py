"""Exports: user profiles, recommendation lists, safe CSV cells.

Spreadsheet programs run a cell that starts with ``= + - @`` (or a tab /
carriage return) as a formula; following OWASP's advice (CSV injection) such
text cells get a leading apostrophe so they show as text. So do text cells
starting with any other control character, and those where only whitespace or
zero-width characters come before ``= + - @`` (some programs trim them).
Numbers are left alone. :func:`safe_csv_frame` also turns carriage returns
inside text into line feeds: pandas quotes a field holding a line feed but not
one holding a lone CR, which a spreadsheet would read as the start of a new
row – whose first cell could then be a formula.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: A control character first (tab, CR, LF, ...), or = + - @ after nothing but whitespace / zero-width characters.
_DANGEROUS = re.compile(r"[\x00-\x1f\x7f-\x9f]|[\s\u200b-\u200d\u2060\ufeff]*[=+\-@]")


def neutralise_cell(value):
    """Prefix a text cell that a spreadsheet would treat as a formula with ``'``."""
    if isinstance(value, str) and _DANGEROUS.match(value):
        return "'" + value
    return value


def _safe_text(value):
    """:func:`neutralise_cell` after CR / CRLF line breaks inside text became LF (quoted by any CSV writer)."""
    if isinstance(value, str) and "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return neutralise_cell(value)


def safe_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells (and column names) are safe to open in a spreadsheet."""
    out = frame.copy()
    out.columns = [_safe_text(str(c)) for c in out.columns]
    for k in range(out.shape[1]):  # by position: column names may repeat
        col = out.iloc[:, k]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype) or isinstance(col.dtype, pd.CategoricalDtype):
            out.isetitem(k, col.map(_safe_text))
    return out


def profiles_frame(model, n_categories: int = 3, n_keywords: int = 10) -> pd.DataFrame:
    """One row per user: ``user_id, segment, segment_label, segment_name, segment_description, name_model,
    top_categories, keywords``.

    ``segment_label`` is the keyword label; ``segment_name`` and ``segment_description`` were written by
    the language model ``name_model`` (empty where no model named the segment, or its answer was refused).
    Categories are ``|``-joined strongest first; keywords ``|``-joined most relevant first.
    """
    kw = model.keywords.sort_values(["user_id", "rank"])
    kw = kw[kw["rank"] <= n_keywords].groupby("user_id", sort=False)["keyword"].agg("|".join)
    seg = model.segments.astype(int)
    named = [p.name if p.name is not None and p.name.ok else None for p in model.profiles]
    return pd.DataFrame(
        {
            "user_id": model.user_ids,
            "segment": seg,
            "segment_label": np.asarray([p.label for p in model.profiles], dtype=object)[seg],
            "segment_name": np.asarray([n.name if n else "" for n in named], dtype=object)[seg],
            "segment_description": np.asarray([n.description if n else "" for n in named], dtype=object)[seg],
            "name_model": np.asarray([n.model if n else "" for n in named], dtype=object)[seg],
            "top_categories": ["|".join(c) for c in model.top_categories(n_categories)],
            "keywords": kw.reindex(model.user_ids).fillna("").to_numpy(),
        }
    )
