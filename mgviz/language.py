"""Which languages a data set's text is in: cheap, offline, good enough to choose a text encoder.

Each text gets one language from the script most of its letters are written in (Unicode ranges:
Han, kana, Hangul, Cyrillic, Arabic, ...). Latin-script text is English unless a small list of
French / German / Spanish / Portuguese / Italian / Dutch function words outnumbers the English
ones (a product title with no function words at all counts as English: the English model is
what mgviz used before it looked). :func:`detect_dataset` looks at a bounded, evenly spread
sample of item texts, users' own text and reviews, so its cost does not grow with the log.

Examples
--------
>>> detect(["A starship crosses the galaxy", "星舰穿越银河系", "Die Reise in den Süden"]).shares
{'en': 0.333, 'latin': 0.333, 'zh': 0.333}
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Language (or script) codes and their names in messages.
NAMES = {
    "en": "English",
    "latin": "Latin-script, not English",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "cyrillic": "Cyrillic-script",
    "greek": "Greek",
    "arabic": "Arabic-script",
    "hebrew": "Hebrew",
    "devanagari": "Devanagari-script",
    "thai": "Thai",
}

# Character classes of the scripts (Han also covers Japanese kanji: kana decides between zh and ja).
_SCRIPTS = {
    "latin": "A-Za-z\u00c0-\u024f",
    "greek": "\u0370-\u03ff",
    "cyrillic": "\u0400-\u052f",
    "hebrew": "\u0590-\u05ff",
    "arabic": "\u0600-\u06ff\u0750-\u077f",
    "devanagari": "\u0900-\u097f",
    "thai": "\u0e00-\u0e7f",
    "hangul": "\u1100-\u11ff\uac00-\ud7af",
    "kana": "\u3040-\u30ff",
    "han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff",
}
_PATTERNS = {script: re.compile(f"[{chars}]") for script, chars in _SCRIPTS.items()}
_ASCII_LETTER = re.compile("[A-Za-z]")
# One CJK character carries about as much as a short word: weigh it like three Latin letters.
_WEIGHT = {"han": 3.0, "kana": 3.0, "hangul": 2.0}

_EN = set(
    "the a an and or of to in on for with is are was were be been this that these those it its from by at as "
    "his her their our your my we you they he she not but about into over after before who which what when "
    "where how all more most very than then there here have has had do does did will would can could".split()
)
# Function words of other Latin-script languages that are not English words too.
_OTHER = (
    set(
        "der die das und ist nicht ein eine einen dem den des mit auf für von zu im sich auch wie "
        "le la les et est une des du au aux pour dans sur avec qui que pas ce cette sont "
        "el los las y es una del por con para como su sus lo al se más "
        "o os um uma não com para pelo pela são dos das em "
        "il di che è della delle gli per non sono con una "
        "het een en van de niet zijn met voor op dat".split()
    )
    - _EN
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

#: Texts looked at by :func:`detect_dataset` per source (items, users, reviews) and characters per text.
SAMPLE_TEXTS, TEXT_CHARS = 1000, 300


def language_of(text: str) -> str | None:
    """The language code of one text (see :data:`NAMES`), ``None`` when it has no letters."""
    text = str(text)[:TEXT_CHARS]
    if text.isascii():  # the common case, without a pass per script
        if not _ASCII_LETTER.search(text):
            return None
        script = "latin"
    else:
        counts = {s: len(p.findall(text)) * _WEIGHT.get(s, 1.0) for s, p in _PATTERNS.items()}
        script = max(counts, key=counts.get)
        if not counts[script]:
            return None
        if script == "han":
            return "ja" if counts["kana"] else "zh"
    if script == "kana":
        return "ja"
    if script == "hangul":
        return "ko"
    if script != "latin":
        return script
    words = [w.lower() for w in _WORD.findall(text)]
    english = sum(w in _EN for w in words)
    other = sum(w in _OTHER for w in words)
    return "latin" if other > english else "en"


@dataclass(frozen=True)
class LanguageReport:
    """Share of the texts (with letters) in each language, rounded to 0.001, largest first."""

    shares: dict = field(default_factory=dict)
    n_texts: int = 0

    @property
    def non_english(self) -> float:
        """Share of the texts that are not English."""
        return round(sum(v for k, v in self.shares.items() if k != "en"), 3)

    def describe(self) -> str:
        """``"Chinese 50%, English 50%"`` (or ``"no text"``)."""
        if not self.n_texts:
            return "no text"
        return ", ".join(f"{NAMES.get(k, k)} {v:.0%}" for k, v in self.shares.items())

    def to_dict(self) -> dict:
        return {"shares": dict(self.shares), "texts": self.n_texts}


def detect(texts: Iterable[str]) -> LanguageReport:
    """The languages of ``texts`` (each text one vote; texts without letters are not counted)."""
    counts = Counter(lang for lang in map(language_of, texts) if lang is not None)
    total = sum(counts.values())
    if not total:
        return LanguageReport({}, 0)
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return LanguageReport({k: round(v / total, 3) for k, v in order}, total)


def _spread(values: pd.Series, n: int) -> list[str]:
    """At most ``n`` non-empty strings of ``values``, evenly spread over it (no randomness)."""
    values = values.fillna("").astype(str)
    values = values[values.str.strip().str.len() > 0]
    if len(values) > n:
        values = values.iloc[np.unique(np.linspace(0, len(values) - 1, n).round().astype(int))]
    return values.tolist()


def dataset_texts(dataset, n: int = SAMPLE_TEXTS) -> list[str]:
    """A bounded sample of the text an encoder will read: item titles and descriptions, users' own text, reviews."""
    items = dataset.items
    docs = (items["title"].fillna("").astype(str) + ". " + items["text"].fillna("").astype(str)).str.strip(". ")
    texts = _spread(docs, n)
    if "text" in dataset.users:
        texts += _spread(dataset.users["text"], n)
    inter = dataset.interactions
    if "text" in inter:  # reviews from the log's first 50 n rows: never a pass over every review of a big log
        texts += _spread(inter["text"].iloc[: 50 * n], n)
    return texts


def detect_dataset(dataset, n: int = SAMPLE_TEXTS) -> LanguageReport:
    """The languages of a :class:`mgviz.schema.Dataset`'s text (see :func:`dataset_texts`)."""
    return detect(dataset_texts(dataset, n))
