"""Guess which source column plays which canonical role (user id, rating, title, ...).

Matching is on a normalised name – RecBole ``:type`` suffix stripped, lower
case, punctuation and spaces removed – so ``userId``, ``User-ID``,
``user_id:token`` and ``user id`` are all ``userid``. Candidates are tried in
order (the most specific first) and a column is given at most one role.
"""

from __future__ import annotations

import re

import pandas as pd

ROLES = ("interactions", "items", "users")

USER = ("userid", "user", "uid", "customerid", "reviewerid", "visitorid", "memberid", "clientid", "accountid")
ITEM = (
    "itemid", "item", "iid", "productid", "movieid", "asin", "isbn", "bookid", "trackid", "songid",
    "articleid", "businessid", "recipeid", "animeid", "gameid", "newsid",
)  # fmt: skip
RATING = ("rating", "score", "stars", "overall", "bookrating", "ratingvalue")
TIMESTAMP = ("timestamp", "time", "date", "datetime", "ts", "unixreviewtime", "unixtimestamp", "eventtime", "createdat")
CATEGORY = ("category", "categories", "genres", "genre", "class", "tags", "tag")
TITLE = ("title", "name", "movietitle", "booktitle", "itemname", "productname", "moviename")
DESCRIPTION = ("description", "desc", "summary", "overview", "plot", "synopsis", "abstract")
REVIEW = ("review", "reviewtext", "comment", "comments", "text", "tags", "tag", "body")
USER_TEXT = ("bio", "tags", "tag", "description", "about", "profile", "text", "interests")

_SUFFIX = re.compile(r":(token|token_seq|float|float_seq)$")


def normalise_name(column: object) -> str:
    """``"User_ID:token"`` -> ``"userid"``: the key column names are matched on."""
    name = _SUFFIX.sub("", str(column).strip())
    return re.sub(r"[\W_]+", "", name.lower())


def detect_roles(df: pd.DataFrame, role: str) -> dict[str, str | list[str]]:
    """Map canonical roles to the columns of ``df`` that look like them.

    Parameters
    ----------
    df : pandas.DataFrame
        A table as read by :func:`mgviz.io.read_table` (only its column names are used).
    role : {"interactions", "items", "users"}
        What the table is.

    Returns
    -------
    dict
        Only the roles found. Single-column roles map to a column name, the
        text roles to a list:

        - interactions: ``user``, ``item``, ``rating``, ``timestamp``,
          ``review`` and, for logs that carry item metadata on every row,
          ``title`` and ``category``;
        - items: ``item``, ``title``, ``category``, ``text`` (list:
          descriptions first, then other free-text columns);
        - users: ``user``, ``text`` (list), ``demographics`` (list: every
          remaining column).
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    columns = [str(c) for c in df.columns]
    keys = {c: normalise_name(c) for c in columns}
    taken: set[str] = set()

    def pick(candidates: tuple[str, ...]) -> str | None:
        for cand in candidates:
            for col in columns:
                if col not in taken and keys[col] == cand:
                    taken.add(col)
                    return col
        return None

    def pick_all(candidates: tuple[str, ...]) -> list[str]:
        found = []
        while (col := pick(candidates)) is not None:
            found.append(col)
        return found

    found: dict[str, str | list[str]] = {}
    if role == "interactions":
        spec = [("user", USER), ("item", ITEM), ("rating", RATING), ("timestamp", TIMESTAMP),
                ("review", REVIEW), ("title", TITLE[:1] + TITLE[2:]), ("category", CATEGORY[:5])]  # fmt: skip
    elif role == "items":
        spec = [("item", ITEM), ("title", TITLE), ("category", CATEGORY)]
    else:
        spec = [("user", USER)]
    for key, candidates in spec:
        col = pick(candidates)
        if col is not None:
            found[key] = col
    if role == "items":
        text = pick_all(DESCRIPTION) + pick_all(REVIEW + USER_TEXT)
        if text:
            found["text"] = text
    elif role == "users":
        text = pick_all(USER_TEXT)
        if text:
            found["text"] = text
        rest = [c for c in columns if c not in taken]
        if rest:
            found["demographics"] = rest
    return found
