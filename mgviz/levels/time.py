"""Time level: interest in the recent period, P(v | u, t) – what follows the user's latest items.

A user's state is their most recent items, coded by recency rank (1 = the latest), up to
:data:`MAX_RECENT`. An item's score mixes three signals, each per-user scaled to [0, 1]:

* **neighbours** – the recent items through item-item weights (the micro level's EASE or
  sparse item-kNN weights), each recent item weighted ``0.5 ** ((rank - 1) / half_life)``;
* **next items** – the same recent items through sequential transitions: how often item
  ``j`` followed item ``i`` within :data:`WINDOW` steps of a user's history in the log
  (decayed by the gap, row-normalised, each item keeping its :data:`TRANSITION_NEIGHBOURS`
  strongest followers);
* **rising** – what the whole log consumed in its last :data:`TREND_SHARE` of time,
  relative to the item's overall popularity.

``recent_items`` (how many of the latest items count), ``half_life`` (in items),
``next_share`` and ``trend_share`` are parameters of the level, chosen on validation data
when fusion weights are ``auto`` (:mod:`mgviz.evaluation.level_tuning`); changing them needs
no refit. Without timestamps the log's row order stands for time (said in the build notes).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mgviz.levels.base import Level, normalise_rows

#: Most recent items kept per user (the tunable ``recent_items`` can be at most this).
MAX_RECENT = 50
#: Steps ahead in a user's history that count as "followed by".
WINDOW = 3
#: Followers kept per item in the transition matrix (bounded memory: items × this).
TRANSITION_NEIGHBOURS = 100
#: The "recent window" of the rising signal: this share of the log's time span, at its end.
TREND_SHARE = 0.1

DEFAULT_PARAMS = {"recent_items": 10, "half_life": 3.0, "next_share": 0.3, "trend_share": 0.0}


def user_order(user_codes: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Row order sorting interactions by user, then time (ties: row order)."""
    return np.lexsort((np.arange(len(user_codes)), times, user_codes))


def recent_ranks(user_codes, item_codes, times, n_users: int, n_items: int, keep: int = MAX_RECENT):
    """Users × items CSR whose data is each user's recency rank of an item (1 = latest), for the
    ``keep`` latest distinct items; and a same-shaped CSR of the time of that latest interaction."""
    order = user_order(user_codes, -np.asarray(times, dtype=np.float64))  # newest first
    u, i, t = user_codes[order], item_codes[order], np.asarray(times, dtype=np.float64)[order]
    # an item consumed twice counts at its latest time: drop later (older) repeats of (user, item)
    key = u.astype(np.int64) * n_items + i
    _, first = np.unique(key, return_index=True)
    first.sort()
    u, i, t = u[first], i[first], t[first]
    starts = np.r_[0, np.flatnonzero(np.diff(u)) + 1] if len(u) else np.zeros(0, np.int64)
    counts = np.diff(np.r_[starts, len(u)])
    rank = np.arange(len(u)) - np.repeat(starts, counts) + 1
    m = rank <= keep
    shape = (n_users, n_items)
    ranks = sp.csr_matrix((rank[m].astype(np.float32), (u[m], i[m])), shape=shape)
    when = sp.csr_matrix(((t[m] / 86400.0).astype(np.float32), (u[m], i[m])), shape=shape)  # days since the epoch
    ranks.sort_indices()
    when.sort_indices()
    return ranks, when


def _keep_top_per_row(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    m = sp.csr_matrix(m)
    m.sum_duplicates()
    if m.nnz == 0:
        return m
    row = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((-m.data, row))
    row_s = row[order]
    starts = np.r_[0, np.flatnonzero(np.diff(row_s)) + 1]
    pos = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = order[pos < k]
    out = sp.csr_matrix((m.data[keep], (row[keep], m.indices[keep])), shape=m.shape)
    out.sort_indices()
    return out


def transitions(user_codes, item_codes, times, n_items: int, window: int = WINDOW,
                neighbours: int = TRANSITION_NEIGHBOURS) -> sp.csr_matrix:  # fmt: skip
    """Items × items: how often ``j`` followed ``i`` within ``window`` steps of one user's history
    (weight 1 / gap), each row keeping its ``neighbours`` largest and scaled to sum 1."""
    order = user_order(user_codes, np.asarray(times, dtype=np.float64))
    u, i = user_codes[order], item_codes[order]
    total = sp.csr_matrix((n_items, n_items), dtype=np.float32)
    for gap in range(1, window + 1):
        same = (u[gap:] == u[:-gap]) & (i[gap:] != i[:-gap])
        if not same.any():
            continue
        part = sp.csr_matrix(
            (np.full(int(same.sum()), 1.0 / gap, np.float32), (i[:-gap][same], i[gap:][same])), shape=(n_items, n_items)
        )
        total = total + part
    total = _keep_top_per_row(total, neighbours)
    sums = np.asarray(total.sum(axis=1)).ravel()
    inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0).astype(np.float32)
    return (sp.diags(inv) @ total).tocsr().astype(np.float32)


def rising(item_codes, times, n_items: int, share: float = TREND_SHARE) -> np.ndarray:
    """Per item, its share of the log's last ``share`` of time over its share of the whole log
    (smoothed), scaled to [0, 1]: what is being taken up now."""
    times = np.asarray(times, dtype=np.float64)
    out = np.zeros(n_items, np.float32)
    if len(times) == 0:
        return out
    lo, hi = float(times.min()), float(times.max())
    recent = times >= hi - share * (hi - lo) if hi > lo else np.ones(len(times), bool)
    all_counts = np.bincount(item_codes, minlength=n_items).astype(np.float64)
    now = np.bincount(item_codes[recent], minlength=n_items).astype(np.float64)
    lift = (now + 1.0) / (all_counts * recent.mean() + 1.0)
    score = lift * np.log1p(now)  # rising, and not a single stray event
    if score.max() > 0:
        out = (score / score.max()).astype(np.float32)
    return out


class TimeLevel(Level):
    """Scores from each user's latest items (see the module docstring). User side: ``recent``
    (recency ranks) and ``recent_days`` (when, for explanations); item side: ``neighbours``
    (item-item weights, dense or CSR), ``transitions`` (CSR) and ``trend`` (per item)."""

    kind = "time"
    user_arrays = ("recent", "recent_days")
    item_arrays = ("neighbours", "transitions", "trend")

    @classmethod
    def fit(cls, user_codes, item_codes, times, n_users: int, n_items: int, neighbours, params=None,
            ordered_by: str = "timestamp"):  # fmt: skip
        """The level from interaction codes and times; ``neighbours`` item-item weights (items × items)."""
        user_codes = np.asarray(user_codes, dtype=np.int64)
        item_codes = np.asarray(item_codes, dtype=np.int64)
        ranks, when = recent_ranks(user_codes, item_codes, times, n_users, n_items)
        trans = transitions(user_codes, item_codes, times, n_items)
        trend = rising(item_codes, times, n_items)
        p = {**DEFAULT_PARAMS, **(params or {}), "ordered_by": ordered_by}
        return cls("time", n_items, p, recent=ranks, recent_days=when, neighbours=neighbours, transitions=trans,
                   trend=trend)  # fmt: skip

    @classmethod
    def from_dataset(cls, dataset, seen, neighbours=None, params=None) -> TimeLevel:
        """The level of a :class:`~mgviz.schema.Dataset`'s log: its timestamps, or its row order when it
        has none (``params["ordered_by"]`` says which). ``neighbours`` default: sparse item-kNN of ``seen``."""
        if neighbours is None:
            from mgviz.levels.micro import knn_item_weights

            n = seen.shape[1]
            neighbours = knn_item_weights(seen) if seen.nnz else sp.csr_matrix((n, n), dtype=np.float32)
        u, i = dataset.codes()
        times = dataset.interactions["timestamp"].to_numpy(np.float64)
        if not dataset.has_time:
            times = np.arange(len(times), dtype=np.float64)
        return cls.fit(u, i, times, len(dataset.users), len(dataset.items), neighbours, params=params,
                       ordered_by="timestamp" if dataset.has_time else "row order")  # fmt: skip

    def with_params(self, **params) -> TimeLevel:
        """The same fitted level with other ``recent_items`` / ``half_life`` / shares (no refit)."""
        new = self.copy()
        new.params.update(params)
        return new

    def recency_weights(self, ranks: sp.csr_matrix) -> sp.csr_matrix:
        """Each recent item's weight ``0.5 ** ((rank - 1) / half_life)``, 0 beyond ``recent_items``."""
        w = sp.csr_matrix(ranks, dtype=np.float32, copy=True)
        keep = w.data <= float(self.params["recent_items"])
        w.data = np.where(keep, np.power(0.5, (w.data - 1.0) / max(float(self.params["half_life"]), 1e-6)), 0.0)
        w.data = w.data.astype(np.float32)
        w.eliminate_zeros()
        return w

    def signals(self, users: dict, items=None) -> dict[str, np.ndarray]:
        """The three signals of a block of users, each row scaled to [0, 1] (for tuning and display)."""
        w = self.recency_weights(users["recent"])
        cols = None if items is None else np.asarray(items, dtype=np.int64)
        nb = self.neighbours if cols is None else self.neighbours[:, cols]
        tr = self.transitions if cols is None else self.transitions[:, cols]
        near = w @ nb
        nxt = w @ tr
        trend = self.trend if cols is None else self.trend[cols]
        return {
            "neighbours": normalise_rows(np.asarray(near.toarray() if sp.issparse(near) else near, np.float32)),
            "next": normalise_rows(np.asarray(nxt.toarray(), np.float32)),
            "rising": np.broadcast_to(np.asarray(trend, np.float32), (w.shape[0], len(trend))),
        }

    def _raw(self, users: dict, items=None) -> np.ndarray:
        p = self.signals(users, items)
        b, g = float(self.params["next_share"]), float(self.params["trend_share"])
        out = p.pop("neighbours")
        out *= np.float32(max(0.0, 1.0 - b - g))  # in place: a block's scores exist once or twice, not four times
        if b:
            nxt = p.pop("next")
            nxt *= np.float32(b)
            out += nxt
            del nxt
        if g:
            out += p["rising"] * np.float32(g)
        return out

    def fold_in(self, evidence) -> dict:
        """The user's latest items: ``evidence.recent`` (item indices, oldest first, with their days)
        when given, else the history with the order unknown (every seen item at rank 1)."""
        recent = getattr(evidence, "recent", None)
        if recent is None:
            seen = sp.csr_matrix(evidence.seen)
            idx = seen.indices[:MAX_RECENT]
            ranks = np.ones(len(idx), np.float32)
            days = np.zeros(len(idx), np.float32)
        else:
            idx, days = np.asarray(recent[0], np.int64), np.asarray(recent[1], np.float32)
            # latest first, one rank per distinct item at its latest time
            idx, days = idx[::-1], days[::-1]
            _, first = np.unique(idx, return_index=True)
            first.sort()
            idx, days = idx[first][:MAX_RECENT], days[first][:MAX_RECENT]
            ranks = np.arange(1, len(idx) + 1, dtype=np.float32)
        shape = (1, self.n_items)
        zeros = np.zeros(len(idx), np.int64)
        return {"recent": sp.csr_matrix((ranks, (zeros, idx)), shape=shape),
                "recent_days": sp.csr_matrix((days, (zeros, idx)), shape=shape)}  # fmt: skip

    def history(self, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """User ``row``'s recent items: (item indices, ranks, days since the epoch), latest first."""
        return self.history_of({"recent": self.recent[row : row + 1], "recent_days": self.recent_days[row : row + 1]})

    @staticmethod
    def history_of(state: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`history` of a user-side row given as ``state`` (what :meth:`fold_in` returns)."""
        r = sp.csr_matrix(state["recent"])
        d = sp.csr_matrix(state["recent_days"])
        order = np.argsort(r.data, kind="stable")
        days = dict(zip(d.indices.tolist(), d.data.tolist(), strict=True))
        idx = r.indices[order]
        return idx, r.data[order], np.asarray([days.get(int(j), 0.0) for j in idx], np.float32)

    def because(self, row: int, item: int, history=None) -> int | None:
        """Which of user ``row``'s counted recent items most explains ``item`` (an item index), or None.
        ``history``: :meth:`history` of ``row`` when the caller has it already."""
        idx, ranks, _ = history if history is not None else self.history(row)
        keep = ranks <= float(self.params["recent_items"])
        idx, ranks = idx[keep], ranks[keep]
        if len(idx) == 0:
            return None
        w = np.power(0.5, (ranks - 1.0) / max(float(self.params["half_life"]), 1e-6))
        nb = self.neighbours[idx][:, [item]]
        nb = np.asarray(nb.toarray() if sp.issparse(nb) else nb, np.float32).ravel()
        tr = np.asarray(self.transitions[idx][:, [item]].toarray(), np.float32).ravel()
        b = float(self.params["next_share"])
        support = w * ((1 - b) * nb / (np.abs(nb).max() or 1.0) + b * tr / (tr.max() or 1.0))
        best = int(np.argmax(support))
        return int(idx[best]) if support[best] > 0 else None
