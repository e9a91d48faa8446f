"""Tests of the committed sample data (``sample_data/``) and of the script that generates it.

They check the promises made in ``sample_data/README.md``: shapes and columns, clean ids and
values, byte-for-byte reproducibility, and a planted ground truth that the interactions really
carry (preferred share, top-2 coverage, K-means recovers the segments).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
FILES = ("interactions.csv", "items.csv", "users.csv", "ground_truth.csv")
COLUMNS = {
    "interactions.csv": ["user_id", "item_id", "rating", "timestamp", "review"],
    "items.csv": ["item_id", "title", "description", "categories"],
    "users.csv": ["user_id", "age", "gender", "occupation", "city", "bio"],
    "ground_truth.csv": ["user_id", "segment", "segment_name", "preferred_categories", "later_categories"],
}
# locale -> (folder, users, items, interactions, segments)
SPEC = {
    "en": (SAMPLE, 1500, 800, 60000, 6),
    "zh": (SAMPLE / "zh", 200, 120, 6000, 4),
}
CJK = re.compile(r"[\u4e00-\u9fff]")
ISO = re.compile(r"^2025-\d\d-\d\dT\d\d:\d\d:\d\d$")


def _generator():
    """The generator script as a module (``sample_data`` is a folder of data, not a package)."""
    name = "mgviz_sample_data_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SAMPLE / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is created
        spec.loader.exec_module(module)
    return sys.modules[name]


def _read(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(folder / name, dtype=str, keep_default_na=False) for name in FILES}


@pytest.fixture(scope="module", params=sorted(SPEC))
def sample(request):
    """(locale, tables, joined interactions with primary category and planted preference)."""
    locale = request.param
    tables = _read(SPEC[locale][0])
    items, truth = tables["items.csv"], tables["ground_truth.csv"]
    inter = tables["interactions.csv"].copy()
    inter["rating"] = inter["rating"].astype(int)
    primary = items.set_index("item_id")["categories"].str.split("|").str[0]
    inter["primary"] = inter["item_id"].map(primary)
    prefs = _preferred(truth).set_axis(truth["user_id"])
    inter["preferred"] = [p in prefs[u] for u, p in zip(inter["user_id"], inter["primary"], strict=True)]
    return locale, tables, inter


def _preferred(truth: pd.DataFrame) -> pd.Series:
    """Each user's planted categories, with the later ones of a drifting user."""
    later = truth["later_categories"].str.split("|").map(lambda c: [x for x in c if x])
    return truth["preferred_categories"].str.split("|") + later


def _category_share(inter: pd.DataFrame, users) -> pd.DataFrame:
    counts = pd.crosstab(inter["user_id"], inter["primary"]).reindex(users)
    return counts.div(counts.sum(axis=1), axis=0)


# ------------------------------------------------------------------------------------------ files
def test_files_exist_and_stay_small():
    paths = [SPEC[loc][0] / name for loc in SPEC for name in FILES]
    missing = [str(p) for p in paths if not p.is_file()]
    assert not missing, f"missing sample files: {missing}"
    total = sum(p.stat().st_size for p in paths)
    assert total < 6_000_000, f"sample data is {total:,} bytes, keep it under ~6 MB"
    for p in paths:
        raw = p.read_bytes()
        assert b"\r\n" not in raw, f"{p.name}: use \\n line ends"
        raw.decode("utf-8")  # raises if not UTF-8


def test_generate_is_byte_identical(tmp_path):
    """Regenerating into a fresh folder reproduces every committed file exactly."""
    written = _generator().generate(tmp_path)
    expected = [*FILES, "friends.csv", *(f"zh/{f}" for f in FILES)]  # friends: the English sample only
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(expected)
    for loc in SPEC:
        folder = SPEC[loc][0]
        for name in (*FILES, "friends.csv") if loc == "en" else FILES:
            new = (tmp_path / folder.relative_to(SAMPLE) / name).read_bytes()
            assert new == (folder / name).read_bytes(), (
                f"{folder.relative_to(ROOT)}/{name} differs from a fresh run: rerun `python sample_data/generate.py`"
            )


# ------------------------------------------------------------------------------------------ shape and values
def test_columns_and_shapes(sample):
    locale, tables, _ = sample
    _, n_users, n_items, n_inter, _ = SPEC[locale]
    for name, cols in COLUMNS.items():
        assert list(tables[name].columns) == cols, name
    assert len(tables["users.csv"]) == n_users
    assert len(tables["ground_truth.csv"]) == n_users
    assert len(tables["items.csv"]) == n_items
    assert abs(len(tables["interactions.csv"]) - n_inter) <= 0.05 * n_inter


def test_ids_are_unique_sorted_and_consistent(sample):
    _, tables, inter = sample
    users, items, truth = tables["users.csv"], tables["items.csv"], tables["ground_truth.csv"]
    for df, col, prefix in ((users, "user_id", "u"), (items, "item_id", "i"), (truth, "user_id", "u")):
        ids = df[col]
        assert ids.is_unique and ids.is_monotonic_increasing, col
        assert ids.str.fullmatch(prefix + r"\d{4}").all(), col
    assert list(truth["user_id"]) == list(users["user_id"])
    assert set(inter["user_id"]) == set(users["user_id"]), "every user has interactions and no unknown users"
    assert set(inter["item_id"]) == set(items["item_id"]), "every item is used and no unknown items"
    resorted = inter.sort_values(["user_id", "timestamp"], kind="stable")
    assert resorted.index.equals(inter.index), "interactions are sorted by user, then time"


def test_interaction_values(sample):
    locale, _, inter = sample
    assert inter["rating"].between(1, 5).all()
    assert inter["timestamp"].str.fullmatch(ISO).all()
    ts = pd.to_datetime(inter["timestamp"], format="%Y-%m-%dT%H:%M:%S")
    assert ts.min() >= pd.Timestamp("2025-01-01") and ts.max() < pd.Timestamp("2026-01-01")
    assert ts.dt.month.nunique() == 12, "spread over the whole year"
    assert not inter.duplicated(["user_id", "item_id", "timestamp"]).any()
    repeats = inter.duplicated(["user_id", "item_id"]).mean()
    assert 0 < repeats < (0.03 if locale == "en" else 0.15), f"re-consumption should be rare, is {repeats:.1%}"
    reviewed = (inter["review"] != "").mean()
    assert 0.15 <= reviewed <= 0.25, f"{reviewed:.1%} of rows have a review"


def test_activity_per_user(sample):
    locale, _, inter = sample
    n = inter.groupby("user_id").size()
    if locale == "en":
        assert n.min() >= 8 and n.max() <= 120
        assert 36 <= n.mean() <= 44
    else:
        assert n.min() >= 8 and n.max() <= 60
    assert n.mean() > n.median(), "activity should be right-skewed"


def test_items_have_one_to_three_categories(sample):
    locale, tables, _ = sample
    cats = tables["items.csv"]["categories"].str.split("|")
    assert cats.map(len).between(1, 3).all()
    assert cats.map(lambda c: len(set(c)) == len(c)).all(), "no category twice on one item"
    vocabulary = {c for cs in cats for c in cs}
    if locale == "en":
        assert 12 <= len(vocabulary) <= 16
    else:
        assert all(CJK.search(c) for c in vocabulary), "zh categories are Chinese"
    primaries = cats.str[0].value_counts()
    assert primaries.min() >= 5, "every category is the primary one of several items"


def test_users_demographics_and_bios(sample):
    locale, tables, _ = sample
    users = tables["users.csv"]
    age = users["age"].astype(int)
    assert age.between(16, 85).all()
    assert set(users["gender"]) <= {"F", "M", "other"}
    assert (users["occupation"] != "").all() and (users["city"] != "").all()
    with_bio = (users["bio"] != "").mean()
    assert 0.5 <= with_bio <= 0.7, f"{with_bio:.0%} of users have a bio"
    truth = tables["ground_truth.csv"]
    mean_age = age.groupby(truth["segment"].to_numpy()).mean()
    assert mean_age.max() - mean_age.min() >= 8, "age should differ between segments"


def test_text_reads_as_text(sample):
    locale, tables, inter = sample
    items, users = tables["items.csv"], tables["users.csv"]
    texts = pd.concat([items["title"], items["description"], users["bio"], inter["review"]])
    texts = texts[texts != ""]
    assert not texts.str.contains(r"[{}]").any(), "unfilled template slot"
    assert not texts.str.contains("  ").any()
    assert items["title"].is_unique
    if locale == "en":
        n_sentences = items["description"].str.count(r"[.!?](?: |$)")
        assert n_sentences.between(1, 3).all()
        assert not texts.str.contains(r"\b[Aa] (?:[aei]|o(?!ne)|u(?!ni))", regex=True).any(), "'a' before a vowel"
        assert texts.str.match(r"[A-Z0-9#]").all(), "sentences start with a capital"
    else:
        for col in (items["title"], items["description"]):
            assert col.map(lambda t: bool(CJK.search(t))).all()
        assert inter.loc[inter["review"] != "", "review"].map(lambda t: bool(CJK.search(t))).all()
        n_sentences = items["description"].str.count("[。！？]")
        assert n_sentences.between(1, 3).all()


def test_text_carries_category_words(sample):
    """Descriptions and reviews use their category's vocabulary, which is what keyword extraction should find."""
    locale, tables, inter = sample
    gen = _generator()
    categories = {c.name: c for c in (gen.EN if locale == "en" else gen.ZH).categories}
    items = tables["items.csv"]
    text = (items["title"] + " " + items["description"]).str.lower()
    primary = items["categories"].str.split("|").str[0]
    for name, cat in categories.items():
        words = [w.lower() for w in (*cat.nouns, *cat.people, *cat.places)]
        docs = text[primary == name]
        hit = docs.map(lambda t, words=words: any(w in t for w in words)).mean()
        assert hit >= 0.6, f"only {hit:.0%} of {name} items mention a {name} word"
    reviews = inter[inter["review"] != ""]
    assert len(reviews) > 0


# ------------------------------------------------------------------------------------------ planted truth
def test_ground_truth_is_well_formed(sample):
    locale, tables, _ = sample
    n_segments = SPEC[locale][4]
    truth = tables["ground_truth.csv"]
    segment = truth["segment"].astype(int)
    assert sorted(segment.unique()) == list(range(n_segments))
    assert truth.groupby("segment")["segment_name"].nunique().eq(1).all(), "one name per segment"
    assert truth["segment_name"].nunique() == n_segments
    categories = {c for cs in tables["items.csv"]["categories"].str.split("|") for c in cs}
    prefs = truth["preferred_categories"].str.split("|")
    assert prefs.map(len).between(2, 3).all()
    assert prefs.map(lambda p: set(p) <= categories).all()
    pairs = {}
    for seg, p in zip(segment, prefs, strict=True):
        pairs.setdefault(seg, set()).add(tuple(p[:2]))
    assert all(len(v) == 1 for v in pairs.values()), "all users of a segment share its two categories"
    flat = [c for v in pairs.values() for c in next(iter(v))]
    assert len(flat) == len(set(flat)), "segments' preferred pairs are disjoint"
    later = truth["later_categories"]
    drifting = later != ""
    assert drifting.sum() == (45 if locale == "en" else 0)
    for seg, new in zip(segment[drifting], later[drifting], strict=True):
        owner = [s for s, v in pairs.items() if "|".join(next(iter(v))) == new]
        assert owner and owner[0] != seg, "a drifting user moves to another segment's two categories"
    if locale == "en":
        shares = segment.value_counts(normalize=True)
        assert shares.between(0.10, 0.25).all() and shares.nunique() > 1, "unequal segments of 10–25 %"


def test_each_user_mostly_consumes_preferred_categories(sample):
    _, _, inter = sample
    share = inter.groupby("user_id")["preferred"].mean()
    assert share.min() >= 0.7, f"{(share < 0.7).sum()} users have < 70 % preferred interactions"
    assert 0.75 <= share.mean() <= 0.9, "about 80 % signal, 20 % noise"


def test_top_two_categories_contain_a_preferred_one(sample):
    _, tables, inter = sample
    truth = tables["ground_truth.csv"]
    share = _category_share(inter, truth["user_id"])
    top2 = np.argsort(-share.to_numpy(), axis=1, kind="stable")[:, :2]
    names = share.columns.to_numpy()
    prefs = _preferred(truth)
    covered = np.mean([bool(set(names[t]) & set(p)) for t, p in zip(top2, prefs, strict=True)])
    assert covered >= 0.95, f"top-2 categories contain a preferred one for only {covered:.1%} of users"


def test_ratings_are_higher_on_preferred_categories(sample):
    _, _, inter = sample
    gap = inter.loc[inter["preferred"], "rating"].mean() - inter.loc[~inter["preferred"], "rating"].mean()
    assert gap >= 0.5, f"preferred ratings only {gap:.2f} higher"


def test_kmeans_recovers_the_segments(sample):
    """K-means at the planted K on users' category-share vectors finds the planted segments."""
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    metrics = pytest.importorskip("sklearn.metrics")
    locale, tables, inter = sample
    truth = tables["ground_truth.csv"]
    vectors = np.sqrt(_category_share(inter, truth["user_id"]).to_numpy())  # Hellinger geometry
    labels = sklearn_cluster.KMeans(SPEC[locale][4], n_init=10, random_state=0).fit_predict(vectors)
    ari = metrics.adjusted_rand_score(truth["segment"].astype(int), labels)
    assert ari >= 0.9, f"adjusted Rand index {ari:.3f}"


def test_friends_have_planted_homophily_and_are_clean():
    """sample_data/friends.csv: undirected friendships among known users, no self-loops or repeats, about 85 %
    inside the planted segment (random mixing would give about 1/6), every user with a friend."""
    friends = pd.read_csv(SAMPLE / "friends.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(SAMPLE / "ground_truth.csv", dtype=str, keep_default_na=False).set_index("user_id")
    assert list(friends.columns) == ["user_id", "friend_id", "weight"]
    assert friends["user_id"].isin(truth.index).all() and friends["friend_id"].isin(truth.index).all()
    assert (friends["user_id"] < friends["friend_id"]).all()  # each pair once, in order: no self-loops
    assert not friends.duplicated(["user_id", "friend_id"]).any()
    assert set(friends["weight"]) <= {"1", "2", "3"}
    seg = truth["segment"]
    inside = (seg[friends["user_id"]].to_numpy() == seg[friends["friend_id"]].to_numpy()).mean()
    assert 0.80 <= inside <= 0.90, inside
    assert set(friends["user_id"]) | set(friends["friend_id"]) == set(truth.index)
