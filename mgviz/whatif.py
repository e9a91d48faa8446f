"""What-if and cold-start users: a user typed in, or an existing user with a few more items, answered
by a built model without a rebuild and without changing it.

A new user is whatever is known of them – demographics, a sentence of their own words (any language
the run's encoder reads), a few items picked from the catalogue – turned into the fold-in evidence
every level takes (:class:`~mgviz.levels.base.UserEvidence`): each level folds them in from its own
state (:meth:`~mgviz.levels.base.Level.fold_in`), and the list scores that state
(:func:`mgviz.fusion.recommend_state`), so no level gains a row and every other user's list stays
exactly as it was. A user without items is a cold start: the meso level takes the category mix the
cold-start predictor gives for their demographics and text (the build's forest, fitted again on the
same users, :func:`mgviz.levels.meso.refit_cold_start`), the semantic level matches items against
their text, the macro level places them in the nearest segment – and the micro and time levels,
which know nothing of them yet, are left out of their list.

Picked items count as liked now: the log's top rating at its newest time.

Example::

    context = WhatIfContext(model)                # per model: encoder, predictor, keyword weights
    user = new_user(model, {"age": 30, "gender": "F"}, "I love space operas", ["i0001"], context=context)
    user.segment, user.top_categories(3), user.keywords
    recommend(model, user, n=10)                  # the list, each level's contribution, a reason per item
    more = extend_user(model, "u0042", ["i0007", "i0100"], context=context)
"""

from __future__ import annotations

import dataclasses
import json
import math
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mgviz.config import DEFAULT_ALPHA
from mgviz.levels import meso, micro
from mgviz.levels.base import UserEvidence
from mgviz.levels.common import interaction_weights, l2_normalise
from mgviz.levels.textvec import split_sentences
from mgviz.pipeline import InterestModel
from mgviz.realtime import new_events
from mgviz.text import count_matrix

#: The id a new user's list carries.
WHATIF_USER = "what-if"
#: Levels that know nothing of a user without items (their scores would be everyone's): a cold user's
#: list leaves them out.
HISTORY_LEVELS = ("micro", "time")
#: Fields of a what-if file besides the run's demographic columns.
FILE_FIELDS = ("text", "items", "user")


class WhatIfError(ValueError):
    """What a what-if user cannot be made of; ``field`` names the input that was wrong."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclasses.dataclass
class WhatIf:
    """A user folded into a model without being added to it, and what the levels make of them.

    ``states`` maps each level to the user-side row its fold-in gave; ``evidence`` is what they were
    folded in from (its ``derived`` holds the mix, ALS factors, profile embedding, user vector and
    segment). ``row`` is the existing user this one extends (None: a new user).
    """

    user_id: str
    items: list[str]
    text: str
    demographics: dict
    evidence: UserEvidence
    states: dict[str, dict]
    categories: list[str]
    keywords: list[tuple[str, float]]
    #: Where the category mix comes from: "history", "cold-start predictor" or "population prior".
    mix_source: str
    warnings: list[str] = dataclasses.field(default_factory=list)
    row: int | None = None

    @property
    def mix(self) -> np.ndarray:
        """P(category | user), in the model's category order."""
        return np.asarray(self.evidence.derived["mix"], dtype=np.float32)

    @property
    def membership(self) -> np.ndarray:
        """Soft segment membership P(segment | user)."""
        return np.asarray(self.states["macro"]["user_side"], dtype=np.float32).ravel()

    @property
    def segment(self) -> int:
        """The nearest segment."""
        return int(self.evidence.derived["segment"])

    @property
    def seen(self) -> sp.csr_matrix:
        return sp.csr_matrix(self.evidence.seen)

    @property
    def cold(self) -> bool:
        """No history at all: the list leaves :data:`HISTORY_LEVELS` out."""
        return self.seen.nnz == 0

    def top_categories(self, n: int = 3) -> list[tuple[str, float]]:
        order = np.argsort(-self.mix, kind="stable")[:n]
        return [(self.categories[j], float(self.mix[j])) for j in order]


class WhatIfContext:
    """What answering what-if users needs besides the model, computed once per model and on first use:
    the run's text encoder, the cold-start predictor, the demographic encoding and the keyword weights.

    ``encoder`` defaults to the encoder the run was built with (``model.encoder_model``); its vectors must
    have the width of the run's item embeddings.
    """

    def __init__(self, model: InterestModel, encoder=None):
        self.model = model
        self._encoder = encoder

    # ------------------------------------------------------------------ text
    @property
    def encoder(self):
        if self._encoder is None:
            from mgviz.encoder import Encoder

            self._encoder = Encoder(self.model.encoder_model)
        return self._encoder

    def encode(self, texts: list[str]) -> np.ndarray:
        from mgviz.encoder import EncoderUnavailable

        try:
            vectors = np.asarray(self.encoder.encode(list(texts)), dtype=np.float32)
        except EncoderUnavailable as exc:
            raise WhatIfError(
                f"typed text cannot be placed: {exc} (the run was built with {self.model.encoder_model!r}; "
                "items alone still work)",
                field="text",
            ) from exc
        width = self.model.item_embeddings.shape[1]
        if vectors.shape[1] != width:
            raise WhatIfError(
                f"text encoder {getattr(self.encoder, 'model', '?')!r} gives {vectors.shape[1]}-dimensional vectors, "
                f"the run's items have {width} (the run was built with {self.model.encoder_model!r})",
                field="text",
            )
        return vectors

    @property
    def term_embeddings(self) -> _TermEmbeddings:
        return _TermEmbeddings(self, self.model.text.vocabulary)

    @cached_property
    def encoder_fits(self) -> bool:
        """Whether this encoder gives vectors of the run's width (a run built with another encoder:
        typed text is refused with a message, keywords are ranked by TF-IDF alone)."""
        try:
            self.encode(["interest"])
        except WhatIfError:
            return False
        return True

    def term_counts(self, text: str) -> sp.csr_matrix:
        """1 × vocabulary counts of ``text``'s words (the build's vocabulary)."""
        vocab = self.model.text.vocabulary
        if not text or not len(vocab):
            return sp.csr_matrix((1, len(vocab)), dtype=np.float32)
        counts, _ = count_matrix([text], vocabulary=vocab)
        return sp.csr_matrix(counts)

    @cached_property
    def own_idf(self):
        """The word-granularity TF-IDF of users' own words (None when nobody in the run wrote any)."""
        own = self.model.text.own_counts
        if own.nnz == 0:
            return None
        from sklearn.feature_extraction.text import TfidfTransformer

        return TfidfTransformer(sublinear_tf=True).fit(own)

    def text_vector(self, text: str) -> np.ndarray:
        """The user's own-text vector as the build makes it: document, sentence and word vectors fused with
        the run's ``text_alpha`` (:func:`mgviz.levels.textvec.own_text_vectors`)."""
        alpha = {**DEFAULT_ALPHA, **(self.model.config.text_alpha or {})}
        parts = {"document": self.encode([text])}
        sentences = split_sentences(text)
        if sentences:
            parts["sentence"] = self.encode(sentences).sum(axis=0, keepdims=True)
        counts = self.term_counts(text)
        if self.own_idf is not None and counts.nnz:
            weights = sp.csr_matrix(self.own_idf.transform(counts))
            parts["word"] = (weights.data[:, None] * self.term_embeddings[weights.indices]).sum(axis=0, keepdims=True)
        out = np.zeros((1, self.model.item_embeddings.shape[1]), np.float32)
        for name, vec in parts.items():
            out += np.float32(alpha.get(name, 0.0)) * l2_normalise(vec)
        return l2_normalise(out)[0]

    # ------------------------------------------------------------------ demographics and cold start
    @cached_property
    def demographic_columns(self) -> list[meso.DemographicColumn]:
        ds = self.model.dataset
        return meso.demographic_columns(ds.users, ds.demographic_cols)

    def demographic_row(self, values: dict) -> np.ndarray:
        """The features of one user's demographic ``values`` (column -> value; missing = unknown)."""
        if not self.demographic_columns:
            return np.zeros(0, np.float32)
        row = pd.DataFrame({spec.name: [values.get(spec.name)] for spec in self.demographic_columns})
        return np.hstack([spec.encode(row[spec.name])[0] for spec in self.demographic_columns]).astype(np.float32)

    @cached_property
    def _text_features(self) -> bool:
        """Whether the predictor's features end with the users' own-text vectors (as the build's did)."""
        emb = self.model.user_text_embeddings
        return bool(self.model.config.use_user_text and np.abs(emb).sum() > 0)

    @cached_property
    def predictor(self) -> meso.ColdStartModel | None:
        """The build's cold-start predictor, fitted again on the same users (None: the build had none)."""
        model = self.model
        features, _ = meso.user_features(model.dataset, model.user_text_embeddings if self._text_features else None)
        has_history = np.diff(sp.csr_matrix(model.weighted).indptr) > 0
        return meso.refit_cold_start(features, np.asarray(model.category_mix), has_history, seed=model.config.seed)

    def predict_mix(self, demographics: dict, text_vector: np.ndarray) -> np.ndarray | None:
        """The cold-start predictor's category mix for these demographics and text (None without a predictor)."""
        if self.predictor is None:
            return None
        parts = [self.demographic_row(demographics)]
        if self._text_features:
            parts.append(np.asarray(text_vector, np.float32))
        return self.predictor.predict(np.hstack(parts)[None, :])[0]

    # ------------------------------------------------------------------ keywords
    @cached_property
    def keyword_idf(self):
        """The TF-IDF weighting the build's keywords had (fitted on every user's term counts)."""
        text = self.model.text
        return micro.keyword_idf(text.term_counts(self.model.weighted)) if len(text.vocabulary) else None

    def keywords(self, weighted: sp.csr_matrix, own_counts: sp.csr_matrix, profile: np.ndarray):
        """Interest keywords of one user from the text of their items and their own words."""
        text = self.model.text
        if not len(text.vocabulary):
            return []
        counts = micro.user_term_counts(sp.csr_matrix(weighted), text.item_counts, sp.csr_matrix(own_counts))
        embeddings = self.term_embeddings if self.encoder_fits else None
        per_user, _ = micro.keywords(counts, text.vocabulary, np.atleast_2d(profile), embeddings,
                                     n=self.model.config.n_keywords, idf=self.keyword_idf)  # fmt: skip
        return [(str(word), float(weight)) for word, weight in per_user[0]]


class _TermEmbeddings:
    """The vocabulary's embeddings, encoded when indexed (keywords need a few dozen terms, not all)."""

    def __init__(self, context: WhatIfContext, vocabulary: np.ndarray):
        self.context = context
        self.vocabulary = np.asarray(vocabulary).astype(str)

    def __getitem__(self, terms) -> np.ndarray:
        terms = np.atleast_1d(np.asarray(terms, dtype=np.int64))
        if not len(terms):
            return np.zeros((0, self.context.model.item_embeddings.shape[1]), np.float32)
        return self.context.encode(self.vocabulary[terms].tolist())


# ----------------------------------------------------------------------------------------------- input checks
def demographic_choices(model: InterestModel) -> dict[str, dict]:
    """Per demographic column of the run: ``{"numeric": True, "min", "max", "median"}`` or
    ``{"numeric": False, "values": [...]}`` (most frequent first) – what a form offers."""
    users = model.dataset.users
    out = {}
    for spec in meso.demographic_columns(users, model.dataset.demographic_cols):
        if spec.numeric:
            values = pd.to_numeric(users[spec.name], errors="coerce").dropna()
            out[spec.name] = {"numeric": True, "min": float(values.min()), "max": float(values.max()),
                              "median": float(spec.median)}  # fmt: skip
        else:
            out[spec.name] = {"numeric": False, "values": [v for v in spec.values if v != "?"]}
    return out


def check_demographics(model: InterestModel, values: dict | None) -> tuple[dict, list[str]]:
    """The demographic values the run knows a column for, and a warning per value it cannot use
    (an unknown column, a category the run never saw, a number outside the run's range)."""
    if values is None:
        return {}, []
    if not isinstance(values, dict):
        raise WhatIfError(f"demographics should be an object of column: value, not {type(values).__name__}")
    choices = demographic_choices(model)
    kept, warnings = {}, []
    for col, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if col not in choices:
            known = ", ".join(choices) or "none"
            warnings.append(f"{col}: not a demographic column of this run (it has: {known}); ignored")
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise WhatIfError(f"{col}: should be a text or a number, not {type(value).__name__}", field=col)
        spec = choices[col]
        if spec["numeric"]:
            number = _number(value)
            if number is None:
                warnings.append(f"{col}: {value!r} is not a number; taken as unknown (the run's median, "
                                f"{spec['median']:g})")  # fmt: skip
                continue
            if not spec["min"] <= number <= spec["max"]:
                warnings.append(f"{col}: {number:g} is outside the run's range {spec['min']:g}–{spec['max']:g}")
            kept[col] = number
        else:
            text = str(value).strip()
            if text not in spec["values"]:
                shown = ", ".join(spec["values"][:12]) + (" …" if len(spec["values"]) > 12 else "")
                warnings.append(f"{col}: {text!r} is not one of the run's values ({shown}); it counts as none of them")
            kept[col] = text
    return kept, warnings


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def check_items(model: InterestModel, items, field: str = "items") -> list[str]:
    """``items`` as a list of the run's item ids (repeats dropped, order kept); ``WhatIfError`` naming the
    ids the run does not have."""
    if items is None:
        return []
    if isinstance(items, str) or not isinstance(items, list | tuple | np.ndarray | pd.Series):
        raise WhatIfError(f"{field}: should be a list of item ids, not {type(items).__name__}", field=field)
    ids = [str(i).strip() for i in items if i is not None and str(i).strip()]
    known = model.dataset.item_index()
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    if unknown:
        shown = ", ".join(unknown[:8]) + (f" and {len(unknown) - 8} more" if len(unknown) > 8 else "")
        raise WhatIfError(f"{field}: {'item' if len(unknown) == 1 else 'items'} {shown} "
                          f"{'is' if len(unknown) == 1 else 'are'} not in this run", field=field)  # fmt: skip
    return list(dict.fromkeys(ids))


def _check_text(text) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise WhatIfError(f"text: should be a text, not {type(text).__name__}", field="text")
    return text.strip()


def _liked(model: InterestModel, user_id: str, items: list[str]) -> pd.DataFrame:
    """``items`` as interaction rows of ``user_id``: liked (the log's top rating), now (after its newest time)."""
    rating = float(model.weight_ref.get("max_rating", 1.0) or 1.0)
    return new_events(model, user_id, pd.DataFrame({"item_id": items, "rating": rating}))


# ----------------------------------------------------------------------------------------------- what-if users
def new_user(
    model: InterestModel,
    demographics: dict | None = None,
    text: str | None = None,
    items: list[str] | None = None,
    *,
    context: WhatIfContext | None = None,
    user_id: str = WHATIF_USER,
) -> WhatIf:
    """A user who is not in the run: their ``demographics`` (column -> value), a ``text`` in their own words and
    the ``items`` they picked, folded into every level. The model is not changed.

    Raises :class:`WhatIfError` for unknown item ids and when nothing at all is given; demographic values the run
    cannot use are listed in ``warnings``.
    """
    context = context or WhatIfContext(model)
    demo, warnings = check_demographics(model, demographics)
    text = _check_text(text)
    picked = check_items(model, items)
    if not demo and not text and not picked:
        raise WhatIfError("a what-if user needs demographics, a sentence of text or at least one item")
    ds = model.dataset
    events = _liked(model, user_id, picked)
    _, idx = ds.codes(events)
    weights = interaction_weights(ds, model.config.half_life_days, model.weight_ref, interactions=events)
    shape = (1, len(ds.items))
    weighted = sp.csr_matrix((weights, (np.zeros(len(idx), int), idx)), shape=shape, dtype=np.float32)
    seen = (weighted > 0).astype(np.float32).tocsr()
    text_vector = context.text_vector(text) if text else np.zeros(model.item_embeddings.shape[1], np.float32)
    demo_row = context.demographic_row(demo) if model.demographics is not None else None
    predicted = None if picked else context.predict_mix(demo, text_vector)
    days = (events["timestamp"].to_numpy(np.float64) / 86400.0).astype(np.float32)
    recent = (np.asarray(idx, np.int64), days) if "time" in model.levels else None
    evidence = UserEvidence(weighted, seen, text_vector, demo_row, recent=recent, predicted_mix=predicted)
    states = model.fold_in(evidence)
    source = "history" if picked else "cold-start predictor" if predicted is not None else "population prior"
    keywords = context.keywords(weighted, context.term_counts(text), evidence.derived["profile"])
    return WhatIf(user_id, picked, text, demo, evidence, states, list(model.categories), keywords, source, warnings)


def extend_user(
    model: InterestModel, user_id: str, items: list[str], *, context: WhatIfContext | None = None
) -> WhatIf:
    """An existing user with ``items`` added to their history (liked, now), folded into every level as
    :func:`mgviz.realtime.update_user` would – but the model is not changed, and neither is anyone's list.

    Raises :class:`WhatIfError` for an unknown user, unknown item ids or no items.
    """
    context = context or WhatIfContext(model)
    try:
        row = model.user_row(user_id)
    except KeyError:
        raise WhatIfError(f"user: {user_id!r} is not in this run", field="user") from None
    added = check_items(model, items)
    if not added:
        raise WhatIfError("items: give at least one item to add to the user's history", field="items")
    uid = str(model.user_ids[row])
    evidence = model.evidence(row, _liked(model, uid, added))
    states = model.fold_in(evidence)
    keywords = context.keywords(evidence.weighted, model.text.own_counts[row], evidence.derived["profile"])
    return WhatIf(uid, added, "", {}, evidence, states, list(model.categories), keywords, "history", [], row=row)


def list_weights(model: InterestModel, user: WhatIf, weights: dict[str, float] | None = None) -> dict[str, float]:
    """The fusion weights of ``user``'s list: ``weights`` (default the run's), without :data:`HISTORY_LEVELS` for a
    cold user (unless no other level has a weight)."""
    weights = {lv: float(w) for lv, w in (weights or model.config.weights).items()}
    if user.cold:
        rest = {lv: (0.0 if lv in HISTORY_LEVELS else w) for lv, w in weights.items()}
        if sum(w for lv, w in rest.items() if lv in model.levels) > 0:
            return rest
    return weights


def recommend(
    model: InterestModel,
    user: WhatIf,
    weights: dict[str, float] | None = None,
    n: int = 10,
    diversity: float = 0.0,
    similarity: str = "categories",
) -> pd.DataFrame:
    """``user``'s top-``n`` list: ``user_id, rank, item_id, score``, one contribution column per level (as
    :meth:`InterestModel.recommend`), then ``title, categories, reason``. Their own items are never listed."""
    from mgviz.explore import UserFacts, user_reasons
    from mgviz.fusion import recommend_state
    from mgviz.rerank import check_diversity, check_similarity, item_vectors

    check_similarity(similarity)
    vectors = item_vectors(model, similarity) if check_diversity(diversity) > 0 else None
    recs = recommend_state(model.levels, user.states, list_weights(model, user, weights), user.seen, user.user_id,
                           model.item_ids, n=n, strategy=model.config.fusion_strategy, diversity=diversity,
                           item_vectors=vectors)  # fmt: skip
    items = model.dataset.items.set_index("item_id")
    recs["title"] = items["title"].reindex(recs["item_id"]).fillna("").to_numpy()
    recs["categories"] = [", ".join(c) for c in items["categories"].reindex(recs["item_id"])]
    time_state = user.states.get("time")
    history = None
    if time_state is not None:
        from mgviz.levels.time import TimeLevel

        history = TimeLevel.history_of(time_state)
    facts = UserFacts(user.mix, user.segment, [w for w, _ in user.keywords], user.seen.indices, history, user.row)
    recs["reason"] = user_reasons(model, facts, recs)
    return recs


# ----------------------------------------------------------------------------------------------- a what-if file
def read_user_file(path) -> dict:
    """A what-if user from a JSON file: ``{"age": 30, "gender": "F", "text": "...", "items": ["i0001", ...]}``
    (any of the run's demographic columns), or ``{"user": "u0042", "items": [...]}`` to extend an existing user.

    Raises :class:`WhatIfError` naming the file (and the field) when it cannot be read.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WhatIfError(f"{path}: no such file") from None
    except OSError as exc:
        raise WhatIfError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WhatIfError(f"{path}: not a JSON file ({exc})") from None
    if not isinstance(doc, dict):
        raise WhatIfError(f"{path}: should hold one JSON object, e.g. {{\"age\": 30, \"text\": \"...\", "
                          f"\"items\": [\"i0001\"]}}")  # fmt: skip
    return doc


def from_file(model: InterestModel, path, *, context: WhatIfContext | None = None) -> WhatIf:
    """The what-if user a JSON file describes (:func:`read_user_file`); errors name the file and the field."""
    doc = read_user_file(path)
    try:
        if doc.get("user") not in (None, ""):
            if any(k not in ("user", "items") for k in doc):
                extra = ", ".join(k for k in doc if k not in ("user", "items"))
                raise WhatIfError(f"{extra}: an existing user is extended with items only", field="user")
            return extend_user(model, str(doc["user"]), doc.get("items"), context=context)
        demographics = {k: v for k, v in doc.items() if k not in FILE_FIELDS}
        return new_user(model, demographics, doc.get("text"), doc.get("items"), context=context)
    except WhatIfError as exc:
        message = str(exc)
        if exc.field and message.startswith(f"{exc.field}: "):
            message = f"field {exc.field!r}: " + message[len(exc.field) + 2 :]
        raise WhatIfError(f"{path}: {message}", field=exc.field) from None
