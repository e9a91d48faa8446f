"""Train / test splits of the canonical interactions table.

Every function returns ``(train_df, test_df)``: two disjoint row subsets of
the input whose union is the input, each in the input's row order with its
original index labels (so a caller can check or join back). Splits are
deterministic: time ties are broken by row order, random ones use a seed.

Test rows whose item (or user) never occurs in training are kept – the
evaluation ranks the full catalogue – and :func:`describe_split` reports how
many there are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METHODS = ("temporal", "loo", "random", "global")


def _check_frac(test_frac: float) -> float:
    test_frac = float(test_frac)
    if not 0.0 <= test_frac < 1.0:
        raise ValueError(f"test_frac must be in [0, 1), got {test_frac}")
    return test_frac


def _by_mask(inter: pd.DataFrame, is_test: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    return inter.iloc[np.flatnonzero(~is_test)], inter.iloc[np.flatnonzero(is_test)]


def _rank_within_user(user_codes: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each row in its user's history ordered by ``key`` (ties: row order), and the history length.

    Returns
    -------
    position, n : ndarray of int
        Both aligned with the rows; ``position`` is 0 for the user's first row.
    """
    n_rows = len(user_codes)
    # lexsort is stable and sorts by the last key first: user, then key, then row number.
    order = np.lexsort((np.arange(n_rows), key, user_codes))
    sorted_users = user_codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_users)) + 1]
    counts = np.diff(np.r_[starts, n_rows])
    pos_sorted = np.arange(n_rows) - np.repeat(starts, counts)
    position = np.empty(n_rows, dtype=np.int64)
    position[order] = pos_sorted
    n = np.empty(n_rows, dtype=np.int64)
    n[order] = np.repeat(counts, counts)
    return position, n


def _n_test(n: np.ndarray, test_frac: float) -> np.ndarray:
    """Rows to hold out per user of history length ``n``: round(n·frac), at least 1, keeping at least 1 in train."""
    if test_frac <= 0:
        return np.zeros_like(n)
    wanted = np.floor(n * test_frac + 0.5).astype(np.int64)
    held = np.clip(wanted, 1, np.maximum(n - 1, 0))
    return np.where(n >= 2, held, 0)


def _user_codes(inter: pd.DataFrame) -> np.ndarray:
    return pd.factorize(inter["user_id"], sort=False)[0].astype(np.int64)


def _tail_split(inter: pd.DataFrame, n_test_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out the last ``n_test_of(n)`` rows of each user's history by timestamp."""
    if len(inter) == 0:
        return inter.iloc[:0], inter.iloc[:0]
    position, n = _rank_within_user(_user_codes(inter), inter["timestamp"].to_numpy(np.float64))
    return _by_mask(inter, position >= n - n_test_of(n))


def temporal_user_split(inter: pd.DataFrame, test_frac: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user, the most recent ``test_frac`` of their history goes to test.

    Parameters
    ----------
    inter : pandas.DataFrame
        Canonical interactions (needs ``user_id`` and ``timestamp``).
    test_frac : float
        Share of each user's rows to hold out, rounded to the nearest count.
        Users with fewer than 2 rows stay entirely in train; every other user
        keeps at least one row in train and (if ``test_frac > 0``) gives at
        least one to test.

    Returns
    -------
    train_df, test_df : pandas.DataFrame
    """
    test_frac = _check_frac(test_frac)
    return _tail_split(inter, lambda n: _n_test(n, test_frac))


def leave_last_one_out(inter: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each user with at least 2 rows gives their latest row (ties: the later row) to test."""
    return _tail_split(inter, lambda n: (n >= 2).astype(np.int64))


def random_split(inter: pd.DataFrame, test_frac: float = 0.2, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user, a seeded random ``test_frac`` of their rows goes to test (same counts as the temporal split)."""
    test_frac = _check_frac(test_frac)
    if len(inter) == 0:
        return inter.iloc[:0], inter.iloc[:0]
    # Ranking each user's rows by a random key gives a per-user permutation in one vectorised pass.
    key = np.random.default_rng(seed).random(len(inter))
    position, n = _rank_within_user(_user_codes(inter), key)
    return _by_mask(inter, position >= n - _n_test(n, test_frac))


def global_temporal_split(inter: pd.DataFrame, test_frac: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One cut for everyone: the latest ``test_frac`` of all rows (by timestamp, ties by row order) is test.

    Unlike the per-user splits this mimics deployment (train on the past,
    predict the future), so users who only appear after the cut land wholly in
    test and users who stopped before it have no test rows.
    """
    test_frac = _check_frac(test_frac)
    n_rows = len(inter)
    n_test = int(np.floor(n_rows * test_frac + 0.5))
    if n_rows == 0 or n_test == 0:
        return inter, inter.iloc[:0]
    order = np.lexsort((np.arange(n_rows), inter["timestamp"].to_numpy(np.float64)))
    is_test = np.zeros(n_rows, dtype=bool)
    is_test[order[n_rows - n_test :]] = True
    return _by_mask(inter, is_test)


def split(
    inter: pd.DataFrame, method: str = "temporal", test_frac: float = 0.2, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Dispatch to a split by name.

    Parameters
    ----------
    inter : pandas.DataFrame
        Canonical interactions.
    method : {"temporal", "loo", "random", "global"}
        :func:`temporal_user_split`, :func:`leave_last_one_out` (ignores
        ``test_frac``), :func:`random_split` (uses ``seed``),
        :func:`global_temporal_split`.
    test_frac : float
    seed : int

    Returns
    -------
    train_df, test_df : pandas.DataFrame
    """
    if method == "temporal":
        return temporal_user_split(inter, test_frac)
    if method == "loo":
        return leave_last_one_out(inter)
    if method == "random":
        return random_split(inter, test_frac, seed)
    if method == "global":
        return global_temporal_split(inter, test_frac)
    raise ValueError(f"split method must be one of {', '.join(METHODS)}; got {method!r}")


def describe_split(
    train: pd.DataFrame,
    test: pd.DataFrame,
    method: str | None = None,
    test_frac: float | None = None,
    seed: int | None = None,
) -> dict:
    """Summary of a split for display and for the run record.

    Returns
    -------
    dict
        ``method``, ``test_frac``, ``seed``, ``n_train``, ``n_test`` (rows),
        ``n_train_users``, ``n_test_users``, ``n_test_cold_items`` (test rows
        whose item never occurs in train) and ``n_test_cold_users`` (test rows
        whose user never occurs in train).
    """
    train_items = pd.Index(train["item_id"].unique())
    train_users = pd.Index(train["user_id"].unique())
    return {
        "method": method,
        "test_frac": test_frac,
        "seed": seed,
        "n_train": len(train),
        "n_test": len(test),
        "n_train_users": int(train["user_id"].nunique()),
        "n_test_users": int(test["user_id"].nunique()),
        "n_test_cold_items": int((~test["item_id"].isin(train_items)).sum()),
        "n_test_cold_users": int((~test["user_id"].isin(train_users)).sum()),
    }
