"""Words from text: tokenising English and CJK text, TF-IDF helpers.

Chinese (and other CJK) runs are segmented with jieba so that keywords are
words, not whole sentences; Latin text is split on word characters.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[^\W\d_][\w'-]*[^\W_]|[^\W\d_]", re.UNICODE)
_SPLIT = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")

#: Languages with a stop-word list in ``mgviz/stopwords/<code>.txt`` (one word a line, ``#`` comments).
STOP_WORD_LANGUAGES = ("en", "zh")


def load_stop_words(language: str) -> frozenset[str]:
    """The stop words of ``language`` (a code of :data:`STOP_WORD_LANGUAGES`), from the repository's list.

    Examples
    --------
    >>> "the" in load_stop_words("en"), "的" in load_stop_words("zh")
    (True, True)
    """
    if language not in STOP_WORD_LANGUAGES:
        raise ValueError(f"language={language!r} should be one of {STOP_WORD_LANGUAGES}")
    text = resources.files("mgviz").joinpath("stopwords", f"{language}.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


#: Function words and words every title or review uses, per language; not interests.
STOP_WORDS_BY_LANGUAGE = {language: load_stop_words(language) for language in STOP_WORD_LANGUAGES}
STOP_WORDS = frozenset().union(*STOP_WORDS_BY_LANGUAGE.values())


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Lower-cased content words of ``text``; CJK runs segmented with jieba.

    Examples
    --------
    >>> tokenize("Loved the starship battles!")
    ['starship', 'battles']
    """
    if not text:
        return []
    tokens: list[str] = []
    for part in _SPLIT.split(str(text)):
        if not part:
            continue
        if _CJK.fullmatch(part):
            for word in _jieba().lcut(part):
                word = word.strip()
                if len(word) >= 2 and word not in STOP_WORDS_BY_LANGUAGE["zh"]:
                    tokens.append(word)
        else:
            for word in _LATIN_WORD.findall(part.lower()):
                if len(word) >= 3 and word not in STOP_WORDS_BY_LANGUAGE["en"]:
                    tokens.append(word)
    return tokens


def count_matrix(docs: list[str], min_df: int = 2, max_df: float = 0.5, vocabulary=None):
    """Term counts of ``docs`` -> (csr docs × terms, vocabulary array).

    Falls back to ``min_df=1`` when the corpus is too small for ``min_df``.
    """
    kwargs = dict(tokenizer=tokenize, lowercase=False, token_pattern=None)
    if vocabulary is not None:
        vec = CountVectorizer(vocabulary=list(vocabulary), **kwargs)
        return vec.fit_transform(docs).tocsr().astype(np.float32), np.asarray(vocabulary, dtype=object)
    for md, mx in ((min_df, max_df), (1, 1.0)):
        try:
            vec = CountVectorizer(min_df=md, max_df=mx, **kwargs)
            counts = vec.fit_transform(docs)
            return counts.tocsr().astype(np.float32), vec.get_feature_names_out().astype(object)
        except ValueError:  # empty vocabulary after pruning
            continue
    return sp.csr_matrix((len(docs), 0), dtype=np.float32), np.array([], dtype=object)


def class_tfidf(class_counts: sp.spmatrix | np.ndarray) -> np.ndarray:
    """Class-based TF-IDF (as in BERTopic): tf(t, c) * log(1 + A / f(t)).

    ``class_counts`` is classes × terms; A is the average number of words per
    class and f(t) the term's frequency over all classes.
    """
    counts = np.asarray(class_counts.todense() if sp.issparse(class_counts) else class_counts, dtype=np.float64)
    if counts.size == 0:
        return counts
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1e-12)
    avg_words = counts.sum() / max(counts.shape[0], 1)
    freq = np.maximum(counts.sum(axis=0), 1e-12)
    return tf * np.log1p(avg_words / freq)


def top_terms(weights: np.ndarray, vocabulary: np.ndarray, n: int) -> list[tuple[str, float]]:
    """The ``n`` highest-weighted terms of one row, strongest first (zeros left out)."""
    weights = np.asarray(weights).ravel()
    if weights.size == 0:
        return []
    idx = np.argsort(-weights, kind="stable")[:n]
    return [(str(vocabulary[i]), float(weights[i])) for i in idx if weights[i] > 0]
