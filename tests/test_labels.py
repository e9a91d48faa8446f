"""Segment labels tell segments apart: what a segment over-represents, never the same label twice,
no label word in more than two labels, each word with its lift."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from mgviz import labels
from mgviz.levels import macro
from mgviz.text import load_stop_words, tokenize


def _crafted(n_per: int = 20):
    """Four segments that all read a lot of "Drama" and the words "american" and "story" (the
    population's favourites), each with one category and two words of its own."""
    k = 4
    segments = np.repeat(np.arange(k), n_per)
    categories = ["Drama", "Horror", "Children's", "Sci-Fi", "Documentary"]
    mix = np.zeros((len(segments), len(categories)))
    mix[:, 0] = 0.6  # everyone's biggest category
    for s in range(k):
        mix[segments == s, 1 + s] = 0.4
    vocabulary = np.array(["american", "story", "ghost", "scream", "toy", "puppy", "star", "alien", "true", "war"])
    counts = np.zeros((len(segments), len(vocabulary)))
    counts[:, 0], counts[:, 1] = 9, 7  # every segment, as often
    for s in range(k):
        counts[segments == s, 2 + 2 * s] = 3
        counts[segments == s, 3 + 2 * s] = 2
    n_items = 5
    items = pd.DataFrame({"item_id": [f"i{j}" for j in range(n_items)], "title": [f"t{j}" for j in range(n_items)]})
    weighted = sp.csr_matrix(np.ones((len(segments), n_items)))
    users = pd.DataFrame({"user_id": [f"u{j}" for j in range(len(segments))]})
    return segments, k, mix, categories, sp.csr_matrix(counts), vocabulary, weighted, items, users


def test_labels_name_what_sets_a_segment_apart_not_what_is_big():
    segments, k, mix, categories, counts, vocabulary, weighted, items, users = _crafted()
    profiles = macro.profile_segments(segments, k, mix, categories, counts, vocabulary, weighted, items, users, [])
    got = [p.label for p in profiles]
    assert got == [
        "Horror · ghost, scream",
        "Children's · toy, puppy",
        "Sci-Fi · star, alien",
        "Documentary · true, war",
    ]
    for p in profiles:
        assert "Drama" not in p.label and "american" not in p.label and "story" not in p.label
        assert [t.kind for t in p.label_terms] == ["category", "keyword", "keyword"]
        # Horror: 0.4 of the segment's interest against 0.1 of everyone's -> lift 4
        assert p.label_terms[0].lift == pytest.approx(4.0, rel=1e-3)
        # "ghost": 3 of the segment's 21 words against 3 of all 84 -> lift 4
        assert p.label_terms[1].lift == pytest.approx(4.0, rel=1e-3)
        assert p.keywords[0][0] == p.label_terms[1].term  # the card's keywords start with the label's
        assert {"american", "story"} <= {w for w, _ in p.keywords}  # still keywords, ranked after the distinctive


def test_a_word_many_segments_share_is_in_two_labels_at_most():
    """Every segment over-uses "star" (lift 2) and "man"; only the two where it is strongest keep each."""

    def kw(term, lift, score):
        return labels.LabelTerm(term, "keyword", lift, 0.1, score)

    cats = [[labels.LabelTerm("Action", "category", 1.5, 0.3, 0.2)] for _ in range(4)]
    words = [
        [kw("star", 2.0, 0.3), kw("man", 1.8, 0.2), kw(f"own{s}", 1.5, 0.1), kw(f"more{s}", 1.4, 0.05)]
        for s in range(4)
    ]
    words[2][0] = kw("star", 2.0, 0.9)  # strongest in segment 2, then 3
    words[3][0] = kw("star", 2.0, 0.8)
    chosen = labels.choose_labels(cats, words)
    got = [label for label, _ in chosen]
    assert len(set(got)) == 4
    uses = Counter(w for _, terms in chosen for t in terms for w in labels.label_words(t.term))
    assert max(uses.values()) <= labels.MAX_SHARED
    assert "star" in got[2] and "star" in got[3] and "star" not in got[0] and "star" not in got[1]
    assert uses["action"] == 2  # the shared category is named twice, not four times


def test_two_labels_share_one_word_at_most():
    """Two segments with the same distinctive categories and words get labels that differ in all but one."""

    def term(name, kind, score):
        return labels.LabelTerm(name, kind, 2.0, 0.2, score)

    cats = [[term("Sci-Fi", "category", 0.5), term("Action", "category", 0.4), term("Adventure", "category", 0.1)]] * 2
    words = [
        [term("star", "keyword", 0.5), term("trek", "keyword", 0.4), term(f"own{s}", "keyword", 0.1)] for s in (0, 1)
    ]
    (first, a), (second, b) = labels.choose_labels(cats, words)
    shared = set().union(*(labels.label_words(t.term) for t in a)) & set().union(
        *(labels.label_words(t.term) for t in b)
    )
    assert len(shared) == 1, (first, second)
    assert first.startswith("Sci-Fi & Action · star")  # on equal scores the lower segment picks first


def test_equal_labels_get_more_words_or_a_number():
    cat = labels.LabelTerm("Drama", "category", 1.3, 0.4, 0.1)
    chosen = labels.choose_labels([[cat], [cat], []], [[], [], []], max_shared=3)
    got = [label for label, _ in chosen]
    assert got == ["Drama", "Drama (2)", "segment 2"]


def test_keywords_below_the_lift_threshold_never_name_a_segment():
    low = labels.LabelTerm("common", "keyword", 1.05, 0.3, 0.5)
    ((label, terms),) = labels.choose_labels([[]], [[low]])
    assert label == "segment 0" and terms == []


def test_stop_words_per_language_are_in_the_repository():
    en, zh = load_stop_words("en"), load_stop_words("zh")
    assert {"the", "and", "film", "movie"} <= en and {"的", "我们", "推荐"} <= zh
    assert tokenize("The American story of a film") == ["american", "story"]
    assert tokenize("我们喜欢科幻电影") == ["科幻电影"]  # pronoun and "like" left out
    with pytest.raises(ValueError, match="language='xx'"):
        load_stop_words("xx")


def test_sample_labels_are_distinct_and_share_no_word_beyond_two(sample_model):
    got = sample_model.segment_labels
    assert len(set(got)) == len(got)
    uses = Counter(w for p in sample_model.profiles for t in p.label_terms for w in labels.label_words(t.term))
    assert max(uses.values()) <= labels.MAX_SHARED
    for p in sample_model.profiles:
        assert p.label_terms and all(t.lift > labels.MIN_LIFT for t in p.label_terms)
        assert all(t.term in p.label for t in p.label_terms)
