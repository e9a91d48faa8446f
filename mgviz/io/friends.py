"""The optional friends / follow edges file: ``user_id, friend_id[, weight]`` (CSV, TSV or Parquet).

Read and checked like the other inputs (:mod:`mgviz.io.loader`): every problem is collected in the
:class:`~mgviz.errors.ValidationReport`, naming the file, the column and example lines. A file with
one column, no usable rows or a weight column that is mostly not numbers is an error; edges naming
users who are not in the log, self-loops (a user their own friend), duplicate edges (also ``b, a``
after ``a, b`` when the edges are undirected) and rows without an id or with a bad weight are
dropped with a warning that counts them and shows example lines – never silently.

Columns are found by name (``user_id`` / ``user`` / ``follower`` / ``source`` …, ``friend_id`` /
``friend`` / ``followee`` / ``target`` …, ``weight`` / ``strength`` …), else by position: the first
two columns are the two ends, a third the weight.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mgviz.errors import InputError, ValidationReport
from mgviz.io import convert
from mgviz.io.loader import Frame, TableSource, _ids, _intake, _tolerate
from mgviz.io.roles import normalise_name
from mgviz.schema import Dataset

FRIENDS_COLS = ("user_id", "friend_id", "weight")

_USER = ("userid", "user", "uid", "follower", "followerid", "source", "src", "from", "u", "a")
_FRIEND = ("friendid", "friend", "followee", "followeeid", "followed", "following", "target", "dst", "to",
           "neighbour", "neighbor", "v", "b")  # fmt: skip
_WEIGHT = ("weight", "strength", "w", "score", "affinity", "count")


def _pick(columns: list[str], names: tuple[str, ...], taken: set[str]) -> str | None:
    keys = {c: normalise_name(c) for c in columns}
    for name in names:
        for col in columns:
            if col not in taken and keys[col] == name:
                taken.add(col)
                return col
    return None


def friend_columns(frame: Frame) -> tuple[str | None, str | None, str | None]:
    """(user column, friend column, weight column or None) of an edges table."""
    columns = [str(c) for c in frame.df.columns]
    taken: set[str] = set()
    user, friend, weight = _pick(columns, _USER, taken), _pick(columns, _FRIEND, taken), _pick(columns, _WEIGHT, taken)
    rest = [c for c in columns if c not in taken]
    if user is None and rest:
        user = rest.pop(0)
    if friend is None and rest:
        friend = rest.pop(0)
    if weight is None and rest and user is not None and friend is not None and len(columns) == 3:
        weight = rest.pop(0)
    return user, friend, weight


def load_friends(source: TableSource, dataset: Dataset, directed: bool = False,
                 report: ValidationReport | None = None, max_bytes: int | None = None) -> tuple[Dataset, ValidationReport]:  # fmt: skip
    """``dataset`` with its friends table: the edges of ``source``, checked against ``dataset``'s users.

    Returns the dataset (same tables, ``friends`` set, ``sources["friends"]`` the file name) and
    the report (warnings). Raises :class:`~mgviz.errors.InputError` when the file cannot be used.
    """
    report = report if report is not None else ValidationReport()
    frame = _intake(source, "friends", report, max_bytes)
    if frame is None:
        raise InputError(report)
    edges = _edges(frame, dataset, directed, report)
    if edges is None or not report.ok:
        raise InputError(report)
    out = Dataset(dataset.interactions, dataset.items, dataset.users, list(dataset.demographic_cols),
                  dataset.has_rating, dataset.has_time, {**dataset.sources, "friends": frame.name}, edges,
                  bool(directed))  # fmt: skip
    return out, report


def _edges(frame: Frame, dataset: Dataset, directed: bool, report: ValidationReport) -> pd.DataFrame | None:
    name = frame.name
    if len(frame.df.columns) < 2:
        only = str(frame.df.columns[0]) if len(frame.df.columns) else ""
        report.error(name, only, f"has one column ('{only}'); a friends file needs two: user_id, friend_id "
                     "(and optionally a weight), e.g. a header line user_id,friend_id,weight")  # fmt: skip
        return None
    user_col, friend_col, weight_col = friend_columns(frame)
    users, no_user = _ids(report, frame, user_col, "user")
    friends, no_friend = _ids(report, frame, friend_col, "user")
    drop = no_user | no_friend
    weight = np.ones(len(frame.df))
    if weight_col is not None:
        raw = frame.df[weight_col]
        weight, bad = convert.to_float(raw)
        bad = bad | (np.nan_to_num(weight, nan=0.0) <= 0)
        ok = _tolerate(report, frame, weight_col, bad & ~drop, "dropped edges whose weight is missing, not a number "
                       "or not above 0", f"column '{weight_col}' should hold positive numbers (edge weights)")  # fmt: skip
        if not ok:
            return None
        drop |= bad
    u = users.to_numpy(dtype=object)
    f = friends.to_numpy(dtype=object)
    known = pd.Index(dataset.users["user_id"])
    u_known = known.get_indexer(pd.Index(u.astype(str))) >= 0
    f_known = known.get_indexer(pd.Index(f.astype(str))) >= 0
    unknown = ~drop & ~(u_known & f_known)
    if unknown.any():
        bad_ids = list(dict.fromkeys(str(x) for x in np.r_[u[unknown & ~u_known], f[unknown & ~f_known]]))[:3]
        report.warn(name, f"{user_col}, {friend_col}", f"dropped edges naming users who are not in the "
                    f"interactions / users (e.g. {', '.join(repr(x) for x in bad_ids)})",
                    frame.lines[unknown][:5].tolist(), int(unknown.sum()))  # fmt: skip
        drop |= unknown
    loop = ~drop & (u == f)
    if loop.any():
        report.warn(name, f"{user_col}, {friend_col}", "dropped self-loops (a user listed as their own friend)",
                    frame.lines[loop][:5].tolist(), int(loop.sum()))  # fmt: skip
        drop |= loop
    keep = ~drop
    a, b = u[keep].astype(str), f[keep].astype(str)
    if not directed:  # a, b and b, a are one friendship
        a, b = np.where(a <= b, a, b), np.where(a <= b, b, a)
    dup = pd.DataFrame({"a": a, "b": b}).duplicated().to_numpy()
    if dup.any():
        lines = frame.lines[keep][dup]
        report.warn(name, f"{user_col}, {friend_col}", "dropped duplicate edges (kept the first of each"
                    + ("" if directed else "; undirected: b, a repeats a, b") + ")", lines[:5].tolist(),
                    int(dup.sum()))  # fmt: skip
    lines = frame.lines[keep][~dup]
    if len(lines) == 0:
        report.error(name, None, "no usable edges left after dropping the invalid rows")
        return None
    return pd.DataFrame({"user_id": u[keep][~dup].astype(str), "friend_id": f[keep][~dup].astype(str),
                         "weight": np.asarray(weight, dtype=np.float64)[keep][~dup]})  # fmt: skip
