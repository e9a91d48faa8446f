"""Segment labels that tell segments apart.

A segment's label names what sets it apart from the population, not what is merely big:

* categories by **lift** over the population, ranked by ``share · log(lift)`` (the category's
  term of the KL divergence of the segment's mix from the population's), lift > :data:`MIN_LIFT`;
* keywords by **class-based TF-IDF** (as in BERTopic) times ``log(lift)``, where a word's lift is
  its share of the segment's words over its share of all words (stop words of each language are
  left out when the text is tokenised, :mod:`mgviz.text`);
* then one pass over all segments so that no two labels are equal, no label word is used by more
  than :data:`MAX_SHARED` labels and no two labels have more than :data:`MAX_PAIR_SHARED` word in
  common – the segment where a word is most distinctive keeps it.

Every word of a label keeps its lift (:class:`LabelTerm`), so a card can show why it is there.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import scipy.sparse as sp

from mgviz.text import class_tfidf

#: Lift a category or keyword needs to be named in a label.
MIN_LIFT = 1.1
#: A label word (of a category or a keyword) appears in at most this many labels.
MAX_SHARED = 2
#: Words two labels may have in common.
MAX_PAIR_SHARED = 1
#: Categories and keywords in a label.
LABEL_CATEGORIES, LABEL_KEYWORDS = 2, 2
_WORD = re.compile(r"[\w'-]+")


@dataclasses.dataclass(frozen=True)
class LabelTerm:
    """One category or keyword of a segment's label, with the evidence for it.

    ``share`` is the category's share of the segment's interest (keywords: the word's share of the
    segment's words), ``lift`` that share over the population's, ``score`` the ranking score.
    """

    term: str
    kind: str  # "category" or "keyword"
    lift: float
    share: float
    score: float

    def to_dict(self) -> dict:
        return {"term": self.term, "kind": self.kind, "lift": self.lift, "share": self.share, "score": self.score}

    @classmethod
    def from_dict(cls, d: dict) -> LabelTerm:
        return cls(str(d["term"]), str(d["kind"]), float(d["lift"]), float(d["share"]), float(d["score"]))


def label_words(term: str) -> set[str]:
    """The words a term counts as for :data:`MAX_SHARED` (lower case; "Children's" is one word)."""
    return {w.strip("'-") for w in _WORD.findall(str(term).lower()) if w.strip("'-")}


def category_terms(seg_mix: np.ndarray, population: np.ndarray, categories: list[str]) -> list[LabelTerm]:
    """A segment's categories with lift > :data:`MIN_LIFT`, most distinctive first."""
    seg_mix, population = np.asarray(seg_mix, float), np.asarray(population, float)
    lift = seg_mix / np.maximum(population, 1e-12)
    score = seg_mix * np.log(np.maximum(lift, 1e-12))
    order = [j for j in np.argsort(-score, kind="stable") if lift[j] > MIN_LIFT and seg_mix[j] > 0]
    return [LabelTerm(categories[j], "category", _r(lift[j]), _r(seg_mix[j]), _r(score[j])) for j in order]


def keyword_scores(class_counts: sp.spmatrix | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per segment × term: (score, lift, share) from segments × terms counts.

    ``score`` = c-TF-IDF × log(lift) where lift > 1, and c-TF-IDF × 1e-3 elsewhere (so the words a segment
    does not over-use still rank, after all the ones it does, in c-TF-IDF order).
    """
    counts = np.asarray(class_counts.todense() if sp.issparse(class_counts) else class_counts, dtype=np.float64)
    if counts.size == 0:
        return counts, counts, counts
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1e-12)
    population = counts.sum(axis=0) / max(counts.sum(), 1e-12)
    lift = share / np.maximum(population, 1e-12)
    ctfidf = class_tfidf(counts)
    score = np.where(lift > 1, ctfidf * np.log(np.maximum(lift, 1.0)), ctfidf * 1e-3)
    return score, lift, share


def keyword_terms(
    score: np.ndarray, lift: np.ndarray, share: np.ndarray, vocabulary: np.ndarray, n: int
) -> list[LabelTerm]:
    """A segment's ``n`` best keywords (one row of :func:`keyword_scores`), strongest first, zeros left out."""
    order = [i for i in np.argsort(-score, kind="stable")[:n] if score[i] > 0]
    return [LabelTerm(str(vocabulary[i]), "keyword", _r(lift[i]), _r(share[i]), _r(score[i])) for i in order]


def choose_labels(
    category_candidates: list[list[LabelTerm]],
    keyword_candidates: list[list[LabelTerm]],
    n_categories: int = LABEL_CATEGORIES,
    n_keywords: int = LABEL_KEYWORDS,
    max_shared: int = MAX_SHARED,
) -> list[tuple[str, list[LabelTerm]]]:
    """Each segment's label and its terms: ``"Horror & Thriller · nightmare, dead"``.

    Slots are filled in rounds (first category of every segment, then the second, then the
    keywords); in a round, the segment whose best remaining candidate scores highest picks first.
    A candidate is skipped when one of its words is already in ``max_shared`` labels or in this
    label, or would make this label share a second word with another. Keywords only count with lift > :data:`MIN_LIFT`. Labels that still come out equal get more
    keywords, or at last a number.
    """
    k = len(category_candidates)
    chosen: list[list[LabelTerm]] = [[] for _ in range(k)]
    used: dict[str, int] = {}

    def own_words(s: int) -> set[str]:
        return set().union(*(label_words(t.term) for t in chosen[s]))

    def free(s: int, term: LabelTerm) -> bool:
        words = label_words(term.term)
        if not words or words & own_words(s) or any(used.get(w, 0) >= max_shared for w in words):
            return False
        # two labels share one word at most ("Action & Sci-Fi · star, trek" twice in another order is one label)
        mine = own_words(s)
        return all(not (words & own_words(t)) or len(mine & own_words(t)) < MAX_PAIR_SHARED for t in range(k) if t != s)

    def take(s: int, term: LabelTerm) -> None:
        chosen[s].append(term)
        for w in label_words(term.term):
            used[w] = used.get(w, 0) + 1

    def pick(s: int, candidates: list[LabelTerm]) -> LabelTerm | None:
        return next((t for t in candidates if t not in chosen[s] and free(s, t)), None)

    keywords = [[t for t in cands if t.lift > MIN_LIFT] for cands in keyword_candidates]
    rounds = [category_candidates] * n_categories + [keywords] * n_keywords
    for candidates in rounds:
        best = {s: pick(s, candidates[s]) for s in range(k)}
        for s in sorted((s for s in best if best[s] is not None), key=lambda s: -best[s].score):
            term = pick(s, candidates[s])  # again: a segment before it may have used its words up
            if term is not None:
                take(s, term)

    labels = [_format(s, chosen[s]) for s in range(k)]
    for s in range(k):
        while labels[s] in labels[:s]:
            extra = pick(s, keywords[s]) or pick(s, keyword_candidates[s])
            if extra is None:
                break
            take(s, extra)
            labels[s] = _format(s, chosen[s])
    seen: dict[str, int] = {}
    for s, label in enumerate(labels):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            labels[s] = f"{label} ({seen[label]})"
    return list(zip(labels, chosen, strict=True))


def _format(segment: int, terms: list[LabelTerm]) -> str:
    cats = [t.term for t in terms if t.kind == "category"]
    words = [t.term for t in terms if t.kind == "keyword"]
    head = " & ".join(cats) if cats else (f"segment {segment}" if not words else "")
    if head and words:
        return f"{head} · {', '.join(words)}"
    return head or ", ".join(words)


def label_terms_text(terms: list[LabelTerm]) -> str:
    """ "Horror 3.1× · Thriller 1.8× · nightmare 4.2×": a label's words with their lift."""
    return " · ".join(f"{t.term} {t.lift:.1f}×" for t in terms)


def _r(value) -> float:
    return round(float(value), 4)
