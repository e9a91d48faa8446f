"""Exports: user profiles, recommendation lists, safe CSV cells.

Spreadsheet programs run a cell that starts with ``= + - @`` (or a tab /
carriage return) as a formula; following OWASP's advice such text cells get a
leading apostrophe so they show as text. Numbers are left alone.
"""

from __future__ import annotations

import re

import pandas as pd

_DANGEROUS = re.compile(r"^[=+\-@\t\r\n\x00-\x1f]")


def neutralise_cell(value):
    """Prefix a text cell that a spreadsheet would treat as a formula with ``'``."""
    if isinstance(value, str) and _DANGEROUS.match(value):
        return "'" + value
    return value


def safe_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells (and column names) are safe to open in a spreadsheet."""
    out = frame.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_cell)
    return out


def profiles_frame(model, n_categories: int = 3, n_keywords: int = 10) -> pd.DataFrame:
    """One row per user: ``user_id, segment, segment_label, top_categories, keywords``.

    Categories are ``|``-joined strongest first; keywords ``|``-joined most relevant first.
    """
    kw = model.keywords.sort_values(["user_id", "rank"])
    kw = kw[kw["rank"] <= n_keywords].groupby("user_id", sort=False)["keyword"].agg("|".join)
    labels = model.segment_labels
    return pd.DataFrame(
        {
            "user_id": model.user_ids,
            "segment": model.segments.astype(int),
            "segment_label": [labels[s] for s in model.segments],
            "top_categories": ["|".join(c) for c in model.top_categories(n_categories)],
            "keywords": kw.reindex(model.user_ids).fillna("").to_numpy(),
        }
    )
