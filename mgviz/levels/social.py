"""Social level: what a user's friends like, P(v | u, s).

A user's state is who they are friends with: ``friends`` (the direct edges, users × users CSR,
with their weights) and ``adjacency``, the propagated and row-normalised neighbourhood::

    D = row_normalise(friends)
    A = row_normalise(top_k(D + decay · D @ D, without the user themself))

so friends count fully and friends-of-friends by ``decay`` (0 = direct friends only), each user
keeping their :data:`MAX_NEIGHBOURS` strongest. The item side is each user's interest,
``interest`` = the rating- and recency-weighted history (users × items CSR) scaled to sum 1 per
user, so a heavy user does not drown their friends' other friends. A block's scores are
``A[block] @ interest`` – sparse times sparse, a block of users at a time; nothing is
users × items dense.

A user without friends scores 0 everywhere (normalised, a constant row); :meth:`SocialLevel.covers`
says which users have a neighbourhood, so fusion leaves the level out of those users' lists
instead of diluting them. A run without a friends file has no social level at all.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mgviz.levels.base import Level
from mgviz.levels.common import row_normalise

#: Neighbours (friends and friends-of-friends) kept per user: bounded memory, users × this.
MAX_NEIGHBOURS = 200

DEFAULT_PARAMS = {"decay": 0.3}


def friend_matrix(user_codes, friend_codes, weights, n_users: int, directed: bool = False) -> sp.csr_matrix:
    """Users × users CSR of edge weights; an undirected edge counts both ways (duplicates summed)."""
    u = np.asarray(user_codes, dtype=np.int64)
    f = np.asarray(friend_codes, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float32)
    if not directed:
        u, f, w = np.r_[u, f], np.r_[f, u], np.r_[w, w]
    keep = u != f
    m = sp.csr_matrix((w[keep], (u[keep], f[keep])), shape=(n_users, n_users), dtype=np.float32)
    m.sum_duplicates()
    m.sort_indices()
    return m


def _keep_top_per_row(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    from mgviz.levels.time import _keep_top_per_row as keep

    return keep(m, k)


def propagate(rows: sp.csr_matrix, friends: sp.csr_matrix, decay: float, row_ids=None) -> sp.csr_matrix:
    """The normalised neighbourhood of users whose direct edges are ``rows`` (block × users), through
    the whole graph ``friends`` (users × users); ``row_ids`` (the users themselves, or -1) are left out."""
    direct = sp.csr_matrix(row_normalise(sp.csr_matrix(rows, dtype=np.float32)))
    out = direct
    if decay > 0 and direct.nnz:
        out = direct + np.float32(decay) * (direct @ sp.csr_matrix(row_normalise(friends)))
    out = sp.csr_matrix(out, dtype=np.float32)
    if row_ids is not None:  # a user is not their own friend-of-friend
        ids = np.asarray(row_ids, dtype=np.int64)
        coo = out.tocoo()
        keep = coo.col != ids[coo.row]
        out = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=out.shape)
    out = _keep_top_per_row(out, MAX_NEIGHBOURS)
    out = sp.csr_matrix(row_normalise(out), dtype=np.float32)
    out.sort_indices()
    return out


class SocialLevel(Level):
    """Scores from friends' (and friends-of-friends') interest (see the module docstring). User side:
    ``friends`` (direct edges) and ``adjacency`` (propagated, normalised); item side: ``interest``
    (every user's weighted history, scaled to sum 1 per user)."""

    kind = "social"
    user_arrays = ("adjacency", "friends")
    item_arrays = ("interest",)

    @classmethod
    def fit(cls, friends: sp.csr_matrix, weighted: sp.csr_matrix, params: dict | None = None) -> SocialLevel:
        """The level of a users × users ``friends`` matrix and the users × items ``weighted`` history."""
        p = {**DEFAULT_PARAMS, **(params or {})}
        friends = sp.csr_matrix(friends, dtype=np.float32)
        n = friends.shape[0]
        adjacency = propagate(friends, friends, float(p["decay"]), row_ids=np.arange(n))
        interest = sp.csr_matrix(row_normalise(sp.csr_matrix(weighted, dtype=np.float32)), dtype=np.float32)
        p.update(edges=int(friends.nnz), users_with_friends=int(np.count_nonzero(np.diff(friends.indptr))))
        return cls("social", weighted.shape[1], p, adjacency=adjacency, friends=friends, interest=interest)

    @classmethod
    def from_dataset(cls, dataset, weighted: sp.csr_matrix, params: dict | None = None) -> SocialLevel | None:
        """The level of a :class:`~mgviz.schema.Dataset`'s friends table, or ``None`` when it has none."""
        edges = getattr(dataset, "friends", None)
        if edges is None or not len(edges):
            return None
        index = dataset.user_index()
        u, f = index.get_indexer(edges["user_id"]), index.get_indexer(edges["friend_id"])
        known = (u >= 0) & (f >= 0)  # a sample of the users keeps the edges among them
        directed = bool(getattr(dataset, "friends_directed", False))
        w = edges["weight"].to_numpy(np.float32)[known]
        m = friend_matrix(u[known], f[known], w, len(dataset.users), directed)
        return cls.fit(m, weighted, {**(params or {}), "directed": directed})

    def covers(self, rows) -> np.ndarray:
        """Whether each of users ``rows`` has anyone in their neighbourhood (else the level says nothing)."""
        rows = np.asarray(rows, dtype=np.int64)
        return np.diff(self.adjacency.indptr)[rows] > 0

    def _raw(self, users: dict, items=None) -> np.ndarray:
        interest = self.interest if items is None else self.interest[:, np.asarray(items, dtype=np.int64)]
        out = sp.csr_matrix(users["adjacency"]) @ interest
        return np.asarray(out.toarray(), dtype=np.float32)

    def fold_in(self, evidence) -> dict:
        """The user's neighbourhood from ``evidence.friends`` (1 × users direct edges; none: no friends),
        propagated through the level's own graph."""
        row = getattr(evidence, "friends", None)
        n = self.friends.shape[0]
        row = sp.csr_matrix((1, n), dtype=np.float32) if row is None else sp.csr_matrix(row, dtype=np.float32)
        own = getattr(evidence, "row", None)
        adjacency = propagate(row, self.friends, float(self.params["decay"]),
                              row_ids=None if own is None else [own])  # fmt: skip
        return {"adjacency": adjacency, "friends": row}

    def friends_of(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """User ``row``'s direct friends (user rows) and the edge weights, strongest first."""
        r = self.friends[row]
        order = np.argsort(-r.data, kind="stable")
        return r.indices[order].astype(np.int64), r.data[order]

    def chosen_by(self, row: int, item: int) -> int:
        """How many of user ``row``'s direct friends have ``item`` (an item index) in their history."""
        friends = self.friends[row].indices
        if len(friends) == 0:
            return 0
        return int((self.interest[friends][:, [item]] > 0).sum())
