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

# (first, last code point, script); Han also covers Japanese kanji: kana decides between zh and ja.
_RANGES = (
    (0x0041, 0x005A, "latin"),
    (0x0061, 0x007A, "latin"),
    (0x00C0, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"),
    (0x3040, 0x30FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
)
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
SAMPLE_TEXTS, TEXT_CHARS = 2000, 400


def _script_of(ch: str) -> str | None:
    code = ord(ch)
    for low, high, script in _RANGES:
        if low <= code <= high:
            return script
    return None


def language_of(text: str) -> str | None:
    """The language code of one text (see :data:`NAMES`), ``None`` when it has no letters."""
    counts: Counter = Counter()
    for ch in str(text)[:TEXT_CHARS]:
        script = _script_of(ch)
        if script is not None:
            counts[script] += _WEIGHT.get(script, 1.0)
    if not counts:
        return None
    script = counts.most_common(1)[0][0]
    if script == "han":
        return "ja" if counts["kana"] else "zh"
    if script == "kana":
        return "ja"
    if script == "hangul":
        return "ko"
    if script != "latin":
        return script
    words = [w.lower() for w in _WORD.findall(str(text)[:TEXT_CHARS])]
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


def _spread(values, n: int) -> list[str]:
    """At most ``n`` non-empty strings of ``values``, evenly spread over it (no randomness)."""
    values = [v for v in (str(x) if x is not None else "" for x in values) if v.strip()]
    if len(values) <= n:
        return values
    picks = np.linspace(0, len(values) - 1, n).round().astype(int)
    return [values[i] for i in picks]


def dataset_texts(dataset, n: int = SAMPLE_TEXTS) -> list[str]:
    """A bounded sample of the text an encoder will read: item titles and descriptions, users' own text, reviews."""
    items = dataset.items
    docs = (items["title"].fillna("").astype(str) + ". " + items["text"].fillna("").astype(str)).str.strip(". ")
    texts = _spread(docs, n)
    if "text" in dataset.users:
        texts += _spread(dataset.users["text"].fillna(""), n)
    inter = dataset.interactions
    if "text" in inter:
        # the first rows with text, then an even spread: never a pass over every review of a big log
        reviews = inter["text"].iloc[: 50 * n].fillna("")
        texts += _spread(reviews, n)
    return texts


def detect_dataset(dataset, n: int = SAMPLE_TEXTS) -> LanguageReport:
    """The languages of a :class:`mgviz.schema.Dataset`'s text (see :func:`dataset_texts`)."""
    return detect(dataset_texts(dataset, n))
