"""What-if and cold-start users: a typed-in user, or an existing one with more items, folded into a built
model without a rebuild – on the tiny model (planted groups of two categories each) and on the sample."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_app import CATEGORIES, HashEncoder, tiny_model  # noqa: E402

from mgviz import whatif  # noqa: E402
from mgviz.levels import meso  # noqa: E402
from mgviz.realtime import update_user  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def context(model):
    return whatif.WhatIfContext(model, HashEncoder())


def only_in(model, category: str, n: int = 5) -> list[str]:
    """``n`` items whose one category is ``category``."""
    items = model.dataset.items
    ids = items.loc[items["categories"].map(lambda c: list(c) == [category]), "item_id"].tolist()
    assert len(ids) >= n
    return ids[:n]


def segment_top(model, segment: int) -> str:
    return model.categories[int(np.argmax(model.segment_category[segment]))]


def fingerprint(model) -> str:
    """A hash of every array of the model a fold-in could touch."""
    h = hashlib.sha1()

    def add(value):
        if value is None:
            return
        if sp.issparse(value):
            value = sp.csr_matrix(value)
            for part in (value.data, value.indices, value.indptr):
                h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(np.ascontiguousarray(value).tobytes())

    def levels(level):
        for key in (*level.user_arrays, *level.item_arrays):
            add(getattr(level, key))
        for part in getattr(level, "parts", []):
            levels(part)

    for level in model.levels.values():
        levels(level)
    for value in (model.seen, model.weighted, model.segments, model.user_vectors, model.user_text_embeddings,
                  model.demographics):  # fmt: skip
        add(value)
    h.update(str(len(model.dataset.interactions)).encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------- new users
def test_five_items_of_a_segments_top_category_put_it_on_top_and_the_user_in_that_segment(model, context):
    for segment in range(len(model.profiles)):
        category = segment_top(model, segment)
        picked = only_in(model, category)
        user = whatif.new_user(model, items=picked, context=context)
        assert user.top_categories(1)[0][0] == category
        assert user.mix_source == "history" and not user.cold
        assert segment_top(model, user.segment) == category, (category, model.profiles[user.segment].label)
        assert float(user.membership[user.segment]) == pytest.approx(float(user.membership.max()))
        recs = whatif.recommend(model, user, n=10)
        assert len(recs) == 10 and not set(recs["item_id"]) & set(picked)
        assert recs["reason"].str.len().gt(0).all()
        levels = [lv for lv in ("macro", "meso", "micro", "semantic", "time") if lv in recs]
        assert recs[levels].sum(axis=1).round(4).equals(recs["score"].round(4))
        # the keywords come from the picked items' text: words of that category
        assert user.keywords and {w for w, _ in user.keywords[:3]} <= set(CATEGORIES[category]), user.keywords


def test_the_list_of_a_new_user_equals_the_list_of_the_same_user_added_as_a_row(model, context):
    """score_state of the folded-in states gives what the levels give for that state as a row."""
    picked = only_in(model, "cooking")
    user = whatif.new_user(model, items=picked, context=context)
    levels = {name: level.with_user(0, user.states[name]) for name, level in model.levels.items()}
    weights = dict(model.config.weights)
    from mgviz.fusion import recommend as fused

    seen = model.seen.tolil()
    seen[0] = user.seen
    as_row = fused(levels, weights, seen.tocsr(), np.array(["what-if"] + list(model.user_ids[1:])), model.item_ids,
                   n=10, rows=[0])  # fmt: skip
    recs = whatif.recommend(model, user, weights, n=10)
    assert recs["item_id"].tolist() == as_row["item_id"].tolist()
    assert np.allclose(recs["score"], as_row["score"])


def test_text_alone_gives_a_cold_start_user_a_sensible_list(model, context):
    words = CATEGORIES["fantasy"]
    user = whatif.new_user(model, text=" ".join(words), context=context)
    assert user.cold and user.mix_source == "cold-start predictor"
    assert "fantasy" in [c for c, _ in user.top_categories(2)]
    assert {w for w, _ in user.keywords} & set(words)
    recs = whatif.recommend(model, user, n=10)
    assert len(recs) == 10
    assert (recs[["micro", "time"]] == 0).all().all()  # they know nothing of a user without items
    top = recs.head(5)["categories"].str.contains("fantasy")
    assert top.mean() >= 0.6, recs[["title", "categories", "reason"]]
    assert recs["reason"].str.contains("semantic|meso|macro").all()


def test_demographics_alone_give_a_list_and_bad_values_warn(model, context):
    user = whatif.new_user(model, {"age": 25, "gender": "F"}, context=context)
    assert user.cold and not user.warnings
    assert user.mix.sum() == pytest.approx(1.0, abs=1e-5)
    assert len(whatif.recommend(model, user, n=5)) == 5
    odd = whatif.new_user(model, {"age": "old", "gender": "X", "shoe": 42, "height": None}, context=context)
    text = " | ".join(odd.warnings)
    assert len(odd.warnings) == 3, odd.warnings
    assert "age: 'old' is not a number" in text
    assert "gender: 'X' is not one of the run's values" in text and "F" in text
    assert "shoe: not a demographic column" in text
    far = whatif.new_user(model, {"age": 300}, context=context)
    assert "outside the run's range" in far.warnings[0]


def test_the_cold_start_predictor_is_the_builds_forest_fitted_again(model, context):
    features, _ = meso.user_features(model.dataset, model.user_text_embeddings)
    has_history = np.diff(model.weighted.indptr) > 0
    built = meso.fit_cold_start(features, model.category_mix, has_history, seed=model.config.seed)
    assert context.predictor is not None and built is not None
    assert np.allclose(context.predictor.predict(features[:10]), built.predict(features[:10]))
    # a user's own features give the mix the predictor gives for that user's row
    row = 4
    demo = model.dataset.users.iloc[row][model.dataset.demographic_cols].to_dict()
    assert np.allclose(context.predict_mix(demo, model.user_text_embeddings[row]), built.predict(features[[row]])[0])
    assert np.allclose(context.demographic_row(demo), model.demographics[row])


def test_the_typed_text_vector_is_the_builds_own_text_vector(model, context):
    """A user's bio typed in gives the vector the build made of it (the tiny users write no reviews)."""
    assert model.dataset.interactions["text"].str.strip().eq("").all()
    for row in (0, 7, 50):
        bio = str(model.dataset.users["text"].iat[row])
        assert bio.strip()
        assert (context.term_counts(bio) != model.text.own_counts[row]).nnz == 0
        assert np.allclose(context.text_vector(bio), model.user_text_embeddings[row], atol=1e-5)


def test_unknown_items_empty_input_and_bad_types_are_clear(model, context):
    with pytest.raises(whatif.WhatIfError, match=r"items nope, zzz are not in this run") as err:
        whatif.new_user(model, items=["i001", "nope", "zzz"], context=context)
    assert err.value.field == "items"
    with pytest.raises(whatif.WhatIfError, match="item nope is not in this run"):
        whatif.new_user(model, items=["nope"], context=context)
    with pytest.raises(whatif.WhatIfError, match="needs demographics, a sentence of text or at least one item"):
        whatif.new_user(model, {}, "   ", [], context=context)
    with pytest.raises(whatif.WhatIfError, match="should be a list of item ids"):
        whatif.new_user(model, items="i001", context=context)
    with pytest.raises(whatif.WhatIfError, match="text: should be a text"):
        whatif.new_user(model, text=42, context=context)
    with pytest.raises(whatif.WhatIfError, match="user: 'nobody' is not in this run"):
        whatif.extend_user(model, "nobody", ["i001"], context=context)
    with pytest.raises(whatif.WhatIfError, match="at least one item"):
        whatif.extend_user(model, "u001", [], context=context)


def test_an_encoder_of_another_width_is_refused(model):
    class Wide(HashEncoder):
        dimension = 48

    with pytest.raises(whatif.WhatIfError, match="48-dimensional vectors, the run's items have 32"):
        whatif.new_user(model, text="space robots", context=whatif.WhatIfContext(model, Wide()))


def test_a_run_whose_encoder_is_not_installed_still_takes_items_and_says_why_text_cannot(model):
    """The tiny run's encoder exists only in the tests: items still place the user (keywords by TF-IDF alone),
    typed text is refused with a message that names the encoder – the page shows it instead of crashing."""
    context = whatif.WhatIfContext(model)  # the run's own encoder, loaded by name: not on this machine
    items = list(model.item_ids[:3])
    user = whatif.new_user(model, items=items, context=context)
    assert user.segment in range(len(model.profiles)) and user.keywords
    with pytest.raises(whatif.WhatIfError, match="typed text cannot be placed.*hash-test-encoder") as err:
        whatif.new_user(model, text="space robots", context=context)
    assert "huggingface" not in str(err.value).lower()


def test_nothing_in_the_model_changes(model, context):
    before_print = fingerprint(model)
    before = model.recommend(n=10)
    user = whatif.new_user(model, {"age": 40}, "robots and galaxies", only_in(model, "sci-fi"), context=context)
    whatif.recommend(model, user, n=10, diversity=0.3)
    more = whatif.extend_user(model, "u003", only_in(model, "romance"), context=context)
    whatif.recommend(model, more, n=10)
    assert fingerprint(model) == before_print
    pd.testing.assert_frame_equal(model.recommend(n=10), before)


# ----------------------------------------------------------------------------------------------- existing users
def test_extending_an_existing_user_moves_only_their_list(model, context):
    uid = "u000"  # a sci-fi & fantasy user
    row = model.user_row(uid)
    added = only_in(model, "cooking", 6)
    before = model.recommend(n=10)
    user = whatif.extend_user(model, uid, added, context=context)
    assert user.row == row and user.items == added
    assert dict(user.top_categories(6))["cooking"] > float(model.category_mix[row][model.categories.index("cooking")])
    recs = whatif.recommend(model, user, n=10)
    mine = before[before["user_id"] == uid]
    assert recs["item_id"].tolist() != mine["item_id"].tolist()
    assert not set(recs["item_id"]) & set(added)
    # the same as folding the items in for real – where every other user's list stays as it was
    updated = update_user(model, uid, pd.DataFrame({"item_id": added, "rating": model.weight_ref["max_rating"]}))
    after = updated.recommend(n=10)
    assert recs["item_id"].tolist() == after.loc[after["user_id"] == uid, "item_id"].tolist()
    others = before["user_id"] != uid
    pd.testing.assert_frame_equal(after[after["user_id"] != uid].reset_index(drop=True),
                                  before[others].reset_index(drop=True))  # fmt: skip
    pd.testing.assert_frame_equal(model.recommend(n=10), before)  # and the what-if changed nothing


# ----------------------------------------------------------------------------------------------- files
def test_a_what_if_file(model, context, tmp_path):
    path = tmp_path / "user.json"
    doc = {"age": 33, "gender": "M", "text": "detective clue", "items": only_in(model, "mystery")}
    path.write_text(json.dumps(doc))
    user = whatif.from_file(model, path, context=context)
    assert user.demographics == {"age": 33.0, "gender": "M"} and user.text == "detective clue"
    assert user.top_categories(1)[0][0] == "mystery"
    path.write_text(json.dumps({"user": "u002", "items": ["i001"]}))
    assert whatif.from_file(model, path, context=context).row == model.user_row("u002")
    for doc, needle in (
        ("{not json", "not a JSON file"),
        ("[1, 2]", "should hold one JSON object"),
        (json.dumps({"items": ["i001", "i999x"]}), "field 'items': item i999x is not in this run"),
        (json.dumps({"items": {"a": 1}}), "field 'items': should be a list of item ids"),
        (json.dumps({"user": "u002", "text": "hi", "items": ["i001"]}), "text: an existing user is extended"),
        (json.dumps({}), "needs demographics"),
    ):
        path.write_text(doc)
        with pytest.raises(whatif.WhatIfError) as err:
            whatif.from_file(model, path, context=context)
        assert str(err.value).startswith(f"{path}: ") and needle in str(err.value), str(err.value)
    with pytest.raises(whatif.WhatIfError, match="no such file"):
        whatif.from_file(model, tmp_path / "missing.json", context=context)


# ----------------------------------------------------------------------------------------------- the sample
@pytest.mark.slow
def test_sample_five_items_of_a_planted_category(sample_model):
    context = whatif.WhatIfContext(sample_model)
    items = sample_model.dataset.items
    for segment in range(len(sample_model.profiles)):
        category = segment_top(sample_model, segment)
        primary = items.loc[items["categories"].map(lambda c, cat=category: len(c) and c[0] == cat), "item_id"]
        picked = primary.tolist()[:5]
        user = whatif.new_user(sample_model, items=picked, context=context)
        assert user.top_categories(1)[0][0] == category
        assert segment_top(sample_model, user.segment) == category, sample_model.profiles[user.segment].label
        recs = whatif.recommend(sample_model, user, n=10)
        assert len(recs) == 10 and not set(recs["item_id"]) & set(picked)
        assert recs["categories"].str.contains(category, regex=False).mean() >= 0.5, recs[["title", "categories"]]


@pytest.mark.slow
def test_sample_text_only_and_extension(sample_model):
    before_print = fingerprint(sample_model)
    context = whatif.WhatIfContext(sample_model)
    user = whatif.new_user(sample_model, {"age": 24, "gender": "M"},
                           "Epic space operas with starships, alien worlds and galactic empires.", context=context)  # fmt: skip
    assert user.cold and user.mix_source == "cold-start predictor"
    recs = whatif.recommend(sample_model, user, n=10)
    assert recs["categories"].str.contains("sci-fi").mean() >= 0.6, recs[["title", "categories", "reason"]]
    uid = str(sample_model.user_ids[0])
    extended = whatif.extend_user(sample_model, uid, recs["item_id"].head(5).tolist(), context=context)
    after = whatif.recommend(sample_model, extended, n=10)
    assert not set(after["item_id"]) & set(recs["item_id"].head(5))
    assert fingerprint(sample_model) == before_print
