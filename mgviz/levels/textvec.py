"""A user's own words as one interest vector, from three text granularities.

Following the design articles, text is read at word, sentence and document
level and the three vectors are fused with weights (default α = 0.5 / 0.3 /
0.2 for document / sentence / word):

* document – each text the user wrote (profile, each review) encoded whole;
* sentence – each sentence of those texts encoded on its own;
* word – the user's content words (TF-IDF weighted) through their embeddings.

Each level is the mean over the user's units; texts are deduplicated before
encoding, so repeated reviews cost nothing.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

from mgviz.config import DEFAULT_ALPHA
from mgviz.levels.common import l2_normalise
from mgviz.schema import Dataset

_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;])\s*")


def user_documents(dataset: Dataset) -> list[list[str]]:
    """Each user's own texts (profile text first, then reviews), in ``users`` order."""
    reviews = dataset.interactions.loc[dataset.interactions["text"].str.strip().str.len() > 0, ["user_id", "text"]]
    by_user = reviews.groupby("user_id", sort=False)["text"].agg(list)
    docs = []
    for uid, own in zip(dataset.users["user_id"], dataset.users["text"].fillna(""), strict=True):
        texts = ([own.strip()] if own.strip() else []) + [t.strip() for t in by_user.get(uid, [])]
        docs.append(texts)
    return docs


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 1]


def _mean_of_units(units: list[list[str]], encoder, progress=None) -> np.ndarray:
    flat = sorted({u for row in units for u in row})
    if not flat:
        return None
    vecs = encoder.encode(flat, progress=progress)
    index = {t: j for j, t in enumerate(flat)}
    rows, cols = [], []
    for r, row in enumerate(units):
        for u in row:
            rows.append(r)
            cols.append(index[u])
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(units), len(flat)))
    return np.asarray(m @ vecs, dtype=np.float32)  # sum; normalised later


def own_text_vectors(
    dataset: Dataset,
    encoder,
    own_counts: sp.csr_matrix | None = None,
    term_embeddings: np.ndarray | None = None,
    alpha: dict | None = None,
    progress=None,
    dim: int | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """Fused word / sentence / document vector of each user's own words (zero row = no text).

    Returns the users × dim array and the weights actually used.
    """
    alpha = {**DEFAULT_ALPHA, **(alpha or {})}
    docs = user_documents(dataset)
    parts = {"document": _mean_of_units(docs, encoder, progress)}
    sentences = [[s for d in row for s in split_sentences(d)] for row in docs]
    parts["sentence"] = _mean_of_units(sentences, encoder, progress)
    if own_counts is not None and term_embeddings is not None and own_counts.nnz:
        tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(own_counts)
        parts["word"] = np.asarray(tfidf @ term_embeddings, dtype=np.float32)
    width = next((p.shape[1] for p in parts.values() if p is not None), None)
    if width is None:
        # nobody wrote anything: zero vectors, without loading the model just to learn its width
        return np.zeros((len(dataset.users), dim or encoder.dimension), np.float32), alpha
    out = np.zeros((len(dataset.users), width), np.float32)
    for name, vec in parts.items():
        if vec is not None:
            out += np.float32(alpha.get(name, 0.0)) * l2_normalise(vec)
    return l2_normalise(out), alpha


def has_text(dataset: Dataset) -> pd.Series:
    return pd.Series([bool(d) for d in user_documents(dataset)])
