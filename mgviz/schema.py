"""Canonical tables every stage of mgviz works on.

All loaders normalise their input to these three tables; every level, the
fusion step and the evaluation take them (or arrays derived from them) and
nothing else, so a second engine can implement the same stages.

``interactions`` (required)
    ``user_id`` str, ``item_id`` str, ``rating`` float64 (1.0 when the log has
    no rating), ``timestamp`` float64 seconds since the epoch (the row order
    when the log has no time), ``text`` str (a review / comment / tag written
    with the interaction, "" when none).
``items`` (optional, always present after loading – one row per item seen)
    ``item_id`` str, ``title`` str, ``text`` str (description and other free
    text joined), ``categories`` list[str] (possibly empty).
``users`` (optional, always present after loading – one row per user seen)
    ``user_id`` str, ``text`` str (the user's own profile text / tags), plus
    any demographic columns kept as they came (numeric or str), listed in
    ``Dataset.demographic_cols``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

INTERACTION_COLS = ("user_id", "item_id", "rating", "timestamp", "text")
ITEM_COLS = ("item_id", "title", "text", "categories")
USER_COLS = ("user_id", "text")

LEVELS = ("macro", "meso", "micro", "semantic", "time", "social")
#: The levels every run has (a run built before the time level has only these).
CORE_LEVELS = ("macro", "meso", "micro", "semantic")
#: Levels a run has only when its data allow (social: a friends file was given).
OPTIONAL_LEVELS = ("social",)


@dataclass
class Dataset:
    """The three canonical tables plus what the loader learnt about them.

    Attributes
    ----------
    interactions, items, users : pandas.DataFrame
        See the module docstring for their columns.
    demographic_cols : list of str
        Columns of ``users`` that describe the user (age, gender, ...).
    has_rating, has_time : bool
        Whether the log carried real ratings / timestamps.
    sources : dict
        Role ("interactions", "items", "users", "friends") -> file name it came from.
    friends : pandas.DataFrame or None
        Friend / follow edges between users (``user_id``, ``friend_id`` str, ``weight`` float64), or
        ``None`` when no edges file was given (then no social level is built).
    friends_directed : bool
        Whether an edge ``a → b`` is a follow (``a`` sees ``b``) rather than a friendship both ways.
    """

    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    demographic_cols: list[str] = field(default_factory=list)
    has_rating: bool = False
    has_time: bool = False
    sources: dict[str, str] = field(default_factory=dict)
    friends: pd.DataFrame | None = None
    friends_directed: bool = False

    # ------------------------------------------------------------------ ids
    @property
    def user_ids(self) -> np.ndarray:
        """Sorted user ids; row ``u`` of every user × item array is ``user_ids[u]``."""
        return self.users["user_id"].to_numpy()

    @property
    def item_ids(self) -> np.ndarray:
        """Sorted item ids; column ``i`` of every user × item array is ``item_ids[i]``."""
        return self.items["item_id"].to_numpy()

    def user_index(self) -> pd.Index:
        return pd.Index(self.user_ids)

    def item_index(self) -> pd.Index:
        return pd.Index(self.item_ids)

    def codes(self, interactions: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row / column codes of ``interactions`` (default: all) in the user × item arrays."""
        inter = self.interactions if interactions is None else interactions
        u = self.user_index().get_indexer(inter["user_id"])
        i = self.item_index().get_indexer(inter["item_id"])
        return u, i

    def matrix(self, interactions: pd.DataFrame | None = None, values: str | None = None) -> sp.csr_matrix:
        """User × item CSR matrix of ``interactions`` (duplicates summed).

        ``values`` names a column to use as cell values; default 1 per interaction.
        """
        inter = self.interactions if interactions is None else interactions
        u, i = self.codes(inter)
        data = np.ones(len(inter), dtype=np.float32) if values is None else inter[values].to_numpy(np.float32)
        m = sp.csr_matrix((data, (u, i)), shape=(len(self.users), len(self.items)), dtype=np.float32)
        m.sum_duplicates()
        return m

    def with_interactions(self, interactions: pd.DataFrame) -> Dataset:
        """Same users, items and metadata; another interaction table (e.g. a training split)."""
        return Dataset(
            interactions=interactions.reset_index(drop=True),
            items=self.items,
            users=self.users,
            demographic_cols=list(self.demographic_cols),
            has_rating=self.has_rating,
            has_time=self.has_time,
            sources=dict(self.sources),
            friends=self.friends,
            friends_directed=self.friends_directed,
        )
