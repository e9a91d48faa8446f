"""The interest hierarchy in one table: all users → segment → category → keyword.

:func:`interest_hierarchy` gives one row per node (``id``, ``parent``, ``label``, ``users``,
``share``, ``lift``, ``members``), ready for a sunburst or icicle whose wedges nest exactly
(``branchvalues="total"``: a node's children never add up to more than the node);
:func:`hierarchy_members` gives the users and items behind one node.

What a wedge's size means
-------------------------
A wedge is sized by **users' worth of interest**: every user brings one unit, split over
categories by their category mix and, within a category, over their keywords.

* a segment's wedge is its number of members;
* a category's wedge inside a segment is the sum of the members' share of interest in it,
  ``P(c | s) × |s|`` – a segment of 100 users that puts 40 % of its interest in cooking has a
  cooking wedge of 40 (the top ``categories_per_segment`` categories are shown, the rest of the
  ring is left open);
* a keyword's wedge inside segment × category is the part of that category interest the members'
  keywords account for. A user's keyword shares ``P(k | u)`` (their keyword weights, normalised)
  are routed to categories by ``P(c | k)`` – the share of the items whose text has the word that
  belong to ``c`` (an item in several categories counted evenly in each) – and capped so that they
  never claim more of ``c`` than the user's own interest in it:
  ``w(u, c, k) = P(k | u) P(c | k) min(1, P(c | u) / Σ_k' P(k' | u) P(c | k'))``; the wedge is
  ``Σ_u w(u, c, k)`` over the segment's members. A word never seen in the category's items gets
  nothing there; a user whose keywords are mostly about other categories adds little (the rest of
  the category's wedge is left open: interest the keywords do not explain).

Colour is lift: a category's is the segment's share over the population's (as in the
segment × category heatmap), a keyword's is its share of the segment's interest in the category
over its share of everybody's interest in that category (``P(k | s, c) / P(k | c)``).

``members`` counts the real users behind a wedge, the ones :func:`hierarchy_members` lists: a
segment's members; for a category, the members with it among their top
:data:`HIGH_CATEGORIES` categories; for a keyword, the members having the keyword.

Everything is sparse or users × categories: the keyword matrix is users × vocabulary with the
model's few keywords per user; nothing is users × items, and no Python loop runs over users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

#: A category counts as one of a user's "high" categories when it is among their top this many.
HIGH_CATEGORIES = 3
#: The columns of :func:`interest_hierarchy`'s frame.
COLUMNS = ("id", "parent", "level", "label", "segment", "category", "keyword", "users", "share", "lift", "members")
#: The root's id (all users).
ROOT = "all"
_ID = re.compile(r"^(?:all|s(\d+)(?:\.c(\d+)(?:\.k(\d+))?)?)$")


def segment_id(segment: int) -> str:
    return f"s{int(segment)}"


def category_id(segment: int, category: int) -> str:
    return f"s{int(segment)}.c{int(category)}"


def keyword_id(segment: int, category: int, term: int) -> str:
    """A keyword node's id: segment, category (column of ``model.categories``), term (vocabulary index)."""
    return f"s{int(segment)}.c{int(category)}.k{int(term)}"


def parse_id(node_id: str) -> tuple[int | None, int | None, int | None]:
    """``(segment, category, term)`` of a node id, ``None`` for the levels it does not reach."""
    m = _ID.match(str(node_id))
    if m is None:
        raise KeyError(f"'{node_id}' is not a node of the interest hierarchy")
    return tuple(None if g is None else int(g) for g in m.groups())  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------- keyword state
@dataclass
class KeywordCategories:
    """What keyword wedges need: users × terms keyword shares ``P(k | u)`` (rows sum to 1 over the
    user's keywords, empty for a user without any) and terms × categories ``P(c | k)``."""

    shares: sp.csr_matrix
    given: sp.csr_matrix

    def denominators(self, rows: np.ndarray, cats: np.ndarray) -> np.ndarray:
        """``Σ_k P(k | u) P(c | k)`` for users ``rows`` × categories ``cats`` (dense, len(rows) × len(cats))."""
        return np.asarray((self.shares[rows] @ self.given[:, cats]).todense(), dtype=np.float64)


def keyword_categories(model) -> KeywordCategories:
    """:class:`KeywordCategories` of ``model`` from its keywords, vocabulary and item texts."""
    vocab = np.asarray(model.text.vocabulary).astype(str)
    n_users, n_terms = len(model.user_ids), len(vocab)
    kw = model.keywords
    if n_terms and len(kw):
        rows = _positions(kw["user_id"], np.asarray(model.user_ids).astype(str))
        terms = _positions(kw["keyword"], vocab)
        weight = kw["weight"].to_numpy(np.float64)
        keep = (rows >= 0) & (terms >= 0) & (weight > 0)
        shares = sp.csr_matrix((weight[keep], (rows[keep], terms[keep])), shape=(n_users, n_terms))
        shares.sum_duplicates()
        totals = np.asarray(shares.sum(axis=1)).ravel()
        shares = (sp.diags(np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)) @ shares).tocsr()
    else:
        shares = sp.csr_matrix((n_users, n_terms), dtype=np.float64)
    item_cats = sp.csr_matrix(model.item_categories, dtype=np.float64)
    has_term = (sp.csr_matrix(model.text.item_counts) > 0).astype(np.float64)
    term_cat = (has_term.T @ item_cats).tocsr()  # terms × categories: items having the word, per category
    totals = np.asarray(term_cat.sum(axis=1)).ravel()
    given = (sp.diags(np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)) @ term_cat).tocsr()
    return KeywordCategories(shares, given)


def _positions(values: pd.Series, names: np.ndarray) -> np.ndarray:
    """Where each of ``values`` is in ``names`` (-1: not there), looking each distinct value up once."""
    codes, uniques = pd.factorize(values.astype(str))
    found = pd.Index(names).get_indexer(np.asarray(uniques, dtype=object))
    return np.where(codes >= 0, found[np.maximum(codes, 0)], -1)


# ----------------------------------------------------------------------------------------------- the hierarchy
def _top_categories(mix: np.ndarray, n: int) -> np.ndarray:
    """Each row's ``n`` biggest columns (unordered), rows × n."""
    n = min(n, mix.shape[1])
    if n == mix.shape[1]:
        return np.broadcast_to(np.arange(n), (len(mix), n))
    return np.argpartition(-mix, n - 1, axis=1)[:, :n]


def _high_counts(mix: np.ndarray) -> np.ndarray:
    """Per category: how many of these users have it among their top :data:`HIGH_CATEGORIES`."""
    return np.bincount(_top_categories(mix, HIGH_CATEGORIES).ravel(), minlength=mix.shape[1])


def _fit(values: np.ndarray, parent: float) -> np.ndarray:
    """``values`` scaled down when (by rounding) they add up to more than ``parent``."""
    total = float(values.sum())
    if total > parent > 0:
        values = values * (parent / total) * (1.0 - 1e-12)
    return values


def interest_hierarchy(
    model, categories_per_segment: int = 5, keywords_per_category: int = 5, state: KeywordCategories | None = None
) -> pd.DataFrame:
    """All users → segment → category → keyword, one row per node (columns :data:`COLUMNS`).

    ``users`` sizes the node (users' worth of interest, see the module notes), ``share`` is that
    of its parent's, ``lift`` its over-representation against the population (NaN for the root and
    the segments), ``members`` the number of users :func:`hierarchy_members` lists for it. Each
    segment shows its ``categories_per_segment`` biggest categories, each of those its
    ``keywords_per_category`` biggest keywords. Children never add up to more than their parent.
    ``state``: :func:`keyword_categories` of ``model`` made before (computed when not given).
    """
    mix = np.asarray(model.category_mix)
    segments = np.asarray(model.segments).astype(np.int64)
    n_users, n_cats = mix.shape
    categories = list(model.categories)
    labels = [p.display_name for p in model.profiles]
    k = max(len(labels), int(segments.max()) + 1 if len(segments) else 0)
    population = mix.mean(axis=0, dtype=np.float64) if n_users else np.zeros(n_cats)
    vocab = np.asarray(model.text.vocabulary).astype(str)
    kc = state if state is not None else keyword_categories(model)
    rows_by_segment = np.split(np.argsort(segments, kind="stable"), np.cumsum(np.bincount(segments, minlength=k))[:-1])

    picked = []  # per segment: (rows, category columns, category masses)
    for s in range(k):
        rows = rows_by_segment[s]
        mass = mix[rows].sum(axis=0, dtype=np.float64)
        order = np.argsort(-mass, kind="stable")[:categories_per_segment]
        picked.append((rows, order[mass[order] > 0], mass))
    used = np.unique(np.concatenate([p[1] for p in picked])) if picked else np.array([], int)
    # everybody's keyword interest within each shown category: the denominators of the keyword lifts
    pop_kw = _keyword_mass(kc, mix, np.arange(n_users), used) if len(used) and kc.shares.nnz else None
    pop_cat_mass = mix[:, used].sum(axis=0, dtype=np.float64) if len(used) else np.zeros(0)
    used_col = {int(c): j for j, c in enumerate(used)}

    out = [_row(ROOT, "", "all", "All users", None, None, None, float(n_users), 1.0, np.nan, n_users)]
    for s, (rows, cats, mass) in enumerate(picked):
        size = len(rows)
        if size == 0:
            continue
        label = labels[s] if s < len(labels) else f"segment {s}"
        out.append(_row(segment_id(s), ROOT, "segment", f"{s}: {label}", s, None, None, float(size),
                        size / max(n_users, 1), np.nan, size))  # fmt: skip
        high = _high_counts(mix[rows])
        cat_values = _fit(mass[cats], float(size))
        seg_kw = _keyword_mass(kc, mix, rows, cats) if len(cats) and kc.shares.nnz else None
        kw_members = np.bincount(kc.shares[rows].indices, minlength=len(vocab)) if seg_kw is not None else None
        for j, c in enumerate(cats):
            share = mass[c] / size
            out.append(_row(category_id(s, c), segment_id(s), "category", categories[c], s, categories[c], None,
                            float(cat_values[j]), share, share / max(population[c], 1e-12), int(high[c])))  # fmt: skip
            if seg_kw is None:
                continue
            col = seg_kw[:, j]
            terms = np.argsort(-col, kind="stable")[:keywords_per_category]
            terms = terms[col[terms] > 0]
            kw_values = _fit(col[terms], float(cat_values[j]))
            pop = pop_kw[:, used_col[int(c)]]
            for t, value in zip(terms, kw_values, strict=True):
                in_segment = col[t] / mass[c]
                overall = pop[t] / pop_cat_mass[used_col[int(c)]]
                out.append(_row(keyword_id(s, c, t), category_id(s, c), "keyword", str(vocab[t]), s, categories[c],
                                str(vocab[t]), float(value), in_segment, in_segment / max(overall, 1e-12),
                                int(kw_members[t])))  # fmt: skip
    frame = pd.DataFrame(out, columns=list(COLUMNS))
    frame["segment"] = frame["segment"].astype("Int64")
    return frame


def _row(*values) -> dict:
    return dict(zip(COLUMNS, values, strict=True))


def _keyword_mass(kc: KeywordCategories, mix: np.ndarray, rows: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """terms × ``cats``: ``Σ_{u ∈ rows} w(u, c, k)`` (the keyword wedges' sizes, see the module notes)."""
    scale = _cap(kc.denominators(rows, cats), mix[rows][:, cats])
    spread = np.asarray(kc.shares[rows].T @ scale)  # terms × cats: Σ_u P(k | u) min(1, P(c | u) / D(u, c))
    return spread * np.asarray(kc.given[:, cats].todense())


def _cap(denom: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """``min(1, P(c | u) / D(u, c))`` (0 where the user's keywords say nothing about c): scales a
    user's keyword interest routed to c so that it never claims more of c than the user's interest in c."""
    ratio = np.divide(mix, denom, out=np.zeros_like(denom, dtype=np.float64), where=denom > 0)
    return np.minimum(ratio, 1.0)


# ----------------------------------------------------------------------------------------------- the users and items behind a wedge
def node_names(frame: pd.DataFrame) -> dict[str, str]:
    """Each node's path for a picker: ``"All users"``, ``"2: label › cooking › pasta"``."""
    labels = dict(zip(frame["id"], frame["label"], strict=True))
    parents = dict(zip(frame["id"], frame["parent"], strict=True))
    names = {}
    for node in frame["id"]:
        path, at = [], node
        while at and at != ROOT:
            path.append(str(labels[at]))
            at = parents[at]
        names[node] = " › ".join(reversed(path)) if path else str(labels[node])
    return names


def selected_node(event, ids) -> str | None:
    """The node a chart selection names (Streamlit's ``on_select`` event of a sunburst or icicle:
    the clicked sector's ``id``), ``None`` when nothing known is selected."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    known = set(ids)
    for point in points or []:
        node = point.get("id") if isinstance(point, dict) else None
        if node in known:
            return node
    return None


def hierarchy_members(
    model, node_id: str, n_users: int | None = None, n_items: int = 20, state: KeywordCategories | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The users and items behind node ``node_id`` of :func:`interest_hierarchy`.

    Users (``user_id, segment, weight, top_categories, keywords``, highest ``weight`` first):

    * all users – every user (weight 1);
    * a segment – its members, weight their soft membership of it;
    * a category – the members with it among their top :data:`HIGH_CATEGORIES` categories,
      weight their share of interest in it;
    * a keyword – the members having the keyword (each adds to its wedge: the word occurs in the
      category's items), weight what they add (``w(u, c, k)`` of the module notes).

    Items (``item_id, title, categories, users, share, lift``): what those users consumed most –
    any item for the root and a segment, the category's items for a category, the category's items
    whose text has the word for a keyword (also those nobody behind the wedge consumed, last);
    ``users`` how many of them consumed it, ``share`` that over their number and ``lift`` that share
    over the share of all users who consumed it. At most ``n_users`` users (all by default) and
    ``n_items`` items. ``state`` as in :func:`interest_hierarchy`.
    """
    segment, cat, term = parse_id(node_id)
    mix = np.asarray(model.category_mix)
    segments = np.asarray(model.segments)
    n_cats = mix.shape[1]
    if segment is not None and not (segments == segment).any():
        raise KeyError(f"segment {segment} has no users")
    if cat is not None and not 0 <= cat < n_cats:
        raise KeyError(f"'{node_id}': no category {cat}")
    items_mask = None
    if segment is None:
        rows = np.arange(len(segments))
        weight = np.ones(len(rows))
    elif cat is None:
        rows = np.flatnonzero(segments == segment)
        membership = getattr(model, "membership", None)
        weight = membership[rows, segment].astype(float) if membership is not None else np.ones(len(rows))
    elif term is None:
        members = np.flatnonzero(segments == segment)
        high = (_top_categories(mix[members], HIGH_CATEGORIES) == cat).any(axis=1)
        rows = members[high]
        weight = mix[rows, cat].astype(float)
        items_mask = np.asarray((model.item_categories[:, cat] > 0).todense()).ravel()
    else:
        kc = state if state is not None else keyword_categories(model)
        if not 0 <= term < kc.shares.shape[1]:
            raise KeyError(f"'{node_id}': no term {term}")
        members = np.flatnonzero(segments == segment)
        has = np.asarray(kc.shares[members][:, term].todense()).ravel()
        rows, share_k = members[has > 0], has[has > 0]
        scale = _cap(kc.denominators(rows, np.array([cat])).ravel(), mix[rows, cat].astype(np.float64))
        weight = share_k * float(kc.given[term, cat]) * scale
        in_cat = np.asarray((model.item_categories[:, cat] > 0).todense()).ravel()
        has_word = np.asarray((sp.csc_matrix(model.text.item_counts)[:, term] > 0).todense()).ravel()
        items_mask = in_cat & has_word
    order = np.lexsort((rows, -weight))
    rows, weight = rows[order], weight[order]
    return _users_frame(model, rows[:n_users], weight[:n_users]), _items_frame(model, rows, items_mask, n_items)


def _users_frame(model, rows: np.ndarray, weight: np.ndarray) -> pd.DataFrame:
    ids = np.asarray(model.user_ids).astype(str)[rows]
    kw = model.keywords
    mine = kw[kw["user_id"].astype(str).isin(set(ids))].sort_values(["user_id", "rank"])
    words = mine.groupby("user_id", sort=False)["keyword"].agg(lambda w: ", ".join(w.astype(str)[:5]))
    names = list(model.categories)
    top = np.argsort(-np.asarray(model.category_mix)[rows], axis=1, kind="stable")[:, :HIGH_CATEGORIES]
    return pd.DataFrame(
        {
            "user_id": ids,
            "segment": np.asarray(model.segments)[rows].astype(int),
            "weight": weight.astype(float),
            "top_categories": [", ".join(names[j] for j in row) for row in top],
            "keywords": words.reindex(ids).fillna("").to_numpy(),
        }
    )


def _items_frame(model, rows: np.ndarray, mask: np.ndarray | None, n: int) -> pd.DataFrame:
    seen = sp.csr_matrix(model.seen)
    n_items = seen.shape[1]
    counts = np.bincount(seen[rows].indices, minlength=n_items) if len(rows) else np.zeros(n_items, int)
    everyone = np.bincount(seen.indices, minlength=n_items)
    candidates = np.flatnonzero(mask) if mask is not None else np.flatnonzero(counts > 0)
    share = counts[candidates] / max(len(rows), 1)
    overall = everyone[candidates] / max(seen.shape[0], 1)
    lift = np.divide(share, overall, out=np.zeros_like(share), where=overall > 0)
    order = np.lexsort((candidates, -lift, -counts[candidates]))[:n]
    idx = candidates[order]
    items = model.dataset.items
    return pd.DataFrame(
        {
            "item_id": items["item_id"].to_numpy()[idx].astype(str),
            "title": items["title"].fillna("").to_numpy()[idx].astype(str),
            "categories": [", ".join(c) for c in items["categories"].to_numpy()[idx]],
            "users": counts[idx].astype(int),
            "share": share[order].astype(float),
            "lift": lift[order].astype(float),
        }
    )
