"""Column converters: raw source columns -> canonical values plus a mask of bad rows.

Every converter is total: whatever the column holds (strings, mixed Python
objects, NaN, inf, huge integers), it returns the converted values and a
boolean mask of the rows it could not convert, and never raises. Policy –
drop with a warning or fail – is the loader's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types as ptypes

#: Spellings of "no value" that are never a real user / item id.
NA_TOKENS = frozenset({"", "nan", "na", "n/a", "null", "none", "<na>", "nat"})
#: MovieLens writes this instead of leaving the genres empty.
NO_CATEGORY = frozenset({"(no genres listed)"})

_INT_FLOAT = re.compile(r"^([+-]?\d+)\.0*$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
#: A superset of what ``pd.to_numeric`` parses (sign, digits, point, exponent, inf / infinity, blanks
#: around): text that does not match is certainly not a number, so dates need not go through it.
#: Whole-second ISO 8601 times without a zone, years 1900–2099: what pyarrow parses exactly as pandas does.
_ISO_SECONDS = r"^(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}:[0-9]{2})?$"
_MAYBE_NUMBER = r"^[ \t\n\v\f\r]*[+-]*([0-9.]*([eE][+-]*[0-9.]*)*|(?i:inf|infinity))[ \t\n\v\f\r]*$"


# --------------------------------------------------------------------------- ids
def to_ids(s: pd.Series) -> pd.Series:
    """Ids as stripped strings, NA where missing.

    Integral floats print as integers (``12.0`` -> ``"12"``) so the same id
    written by a float-typed column in one file and an int column in another
    still matches; in text columns ``"12.0"`` gets the same treatment when the
    whole column is numeric.
    """
    if ptypes.is_float_dtype(s.dtype):
        return pd.Series(_float_ids(s.to_numpy(dtype=np.float64, na_value=np.nan)), index=s.index, dtype="str")
    if ptypes.is_integer_dtype(s.dtype) or ptypes.is_bool_dtype(s.dtype):
        out = s.astype("str")
        return out.where(s.notna())
    if ptypes.is_string_dtype(s.dtype) and not ptypes.is_object_dtype(s.dtype):
        return _text_ids(s.astype("str"))
    # object (mixed Python values, e.g. a DataFrame built in code) or anything exotic: one by one.
    return _text_ids(pd.Series([_one_id(v) for v in s.tolist()], index=s.index, dtype="str"))


def _float_ids(vals: np.ndarray) -> np.ndarray:
    out = np.full(len(vals), None, dtype=object)
    finite = np.isfinite(vals)
    integral = finite & (np.floor(vals) == vals) & (np.abs(vals) < 2**63)
    out[integral] = vals[integral].astype(np.int64).astype(str)
    rest = finite & ~integral
    out[rest] = [repr(float(v)) for v in vals[rest]]
    return out


def _one_id(v: object) -> str | None:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating):
        return _float_ids(np.array([v], dtype=np.float64))[0]
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def _text_ids(s: pd.Series) -> pd.Series:
    if len(s) > 10_000:
        # Every step is per value (the column-wide tests give the same answer on the distinct
        # values): when the distinct ids come through unchanged, so does the column. A 10M log
        # has ~200,000 distinct user ids, and clean ids are the rule.
        distinct = pd.Series(pd.unique(s), dtype=s.dtype)
        if _clean_ids(distinct).equals(distinct):
            return s
    return _clean_ids(s)


def _clean_ids(s: pd.Series) -> pd.Series:
    s = s.str.strip()
    s = s.where(~s.str.lower().isin(NA_TOKENS) & s.notna())
    if not s.str.contains(".", regex=False).any():
        return s
    present = s.dropna()
    if np.isfinite(text_to_float(present)).all():
        s = s.str.replace(_INT_FLOAT.pattern, r"\1", regex=True)  # a str pattern runs vectorised in pyarrow
    return s


# --------------------------------------------------------------------------- numbers
def to_float(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers as float64 and the mask of rows that are missing, not numbers, NaN or inf.

    Text columns accept surrounding spaces and a decimal comma (``3,5``), which
    spreadsheets in many locales write.
    """
    if ptypes.is_bool_dtype(s.dtype):
        vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
    elif ptypes.is_numeric_dtype(s.dtype):
        vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        vals = _parse_numbers(s)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(vals)
    return vals, bad


def _parse_numbers(s: pd.Series) -> np.ndarray:
    text = _as_text(s).str.strip()
    vals = text_to_float(text)
    comma = np.isnan(vals)
    if comma.any():  # only the values that are no number yet can be ones with a decimal comma
        comma[comma] = text[comma].str.match(_DECIMAL_COMMA.pattern).fillna(False).astype(bool).to_numpy()
    if comma.any():
        vals[comma] = text_to_float(text[comma].str.replace(",", ".", regex=False))
    return vals


def text_to_float(text: pd.Series) -> np.ndarray:
    """Parse a text column as float64, NaN where it is not a number.

    Tries pyarrow's cast first (about 15x faster than ``pd.to_numeric`` on a
    clean column), and falls back to ``pd.to_numeric`` when any value fails –
    only on the values that can be numbers at all: a column of 10M date strings
    took 12 s in ``pd.to_numeric`` to learn that none is one.
    """
    try:
        arr = pa.array(text, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return _to_float64(pd.to_numeric(text, errors="coerce"))
    try:
        out = pc.cast(pc.utf8_trim_whitespace(arr), pa.float64()).to_numpy(zero_copy_only=False)
        return np.array(out, dtype=np.float64)
    except (pa.ArrowException, TypeError, ValueError):
        pass
    maybe = pc.fill_null(pc.match_substring_regex(arr, _MAYBE_NUMBER), False).to_numpy(zero_copy_only=False)
    if maybe.all():
        return _to_float64(pd.to_numeric(text, errors="coerce"))
    out = np.full(len(text), np.nan)
    if maybe.any():
        # One value that is no number keeps pd.to_numeric on the path it takes for the whole column
        # (floats, NaN for the rest) instead of returning integers that would round differently.
        subset = pd.concat([text[maybe], pd.Series(["x"], dtype=text.dtype)], ignore_index=True)
        out[maybe] = _to_float64(pd.to_numeric(subset, errors="coerce"))[:-1]
    return out


def _to_float64(num: pd.Series) -> np.ndarray:
    try:
        return np.array(num.to_numpy(dtype=np.float64, na_value=np.nan))  # a writable copy
    except (TypeError, ValueError, OverflowError):
        # to_numeric can return an object column (ints beyond uint64); go value by value.
        return np.array([_safe_float(v) for v in num.tolist()], dtype=np.float64)


def _safe_float(v: object) -> float:
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):
        return np.nan


def _as_text(s: pd.Series) -> pd.Series:
    """Any column as the str dtype, missing kept as NA (objects go through ``str``)."""
    if ptypes.is_object_dtype(s.dtype):
        s = pd.Series([None if is_missing(v) else str(v) for v in s.tolist()], index=s.index, dtype=object)
    return s.astype("str")


def is_missing(v: object) -> bool:
    """None, NA, NaT or a float NaN."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float | np.floating) and np.isnan(v)


# --------------------------------------------------------------------------- time
def to_seconds(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since the epoch (float64) and the mask of rows that are not a time.

    Accepts datetimes, epoch numbers and date strings (ISO 8601 first, other
    common formats as a fallback). Epoch numbers are scaled by magnitude:
    a median above 1e11 means milliseconds (1e11 s is the year 5138), above
    1e14 microseconds, above 1e17 nanoseconds. Times without a zone are UTC.
    """
    if ptypes.is_datetime64_any_dtype(s.dtype):
        vals = _datetime_seconds(s)
    elif ptypes.is_numeric_dtype(s.dtype) and not ptypes.is_bool_dtype(s.dtype):
        vals = _scale_epoch(s.to_numpy(dtype=np.float64, na_value=np.nan))
    else:
        vals = _parse_times(s)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(vals)
    return vals, bad


def _scale_epoch(vals: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        finite = vals[np.isfinite(vals)]
        if not len(finite):
            return vals
        med = float(np.median(np.abs(finite)))
        for limit, divisor in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
            if med > limit:
                return vals / divisor
    return vals


def _datetime_seconds(s: pd.Series) -> np.ndarray:
    """Datetimes -> epoch seconds from the raw integers, so no unit conversion can overflow (year -1, 9999)."""
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    arr = s.to_numpy()
    unit, count = np.datetime_data(arr.dtype)
    per_second = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}.get(unit)
    if per_second is None:  # D, h, m ... : let numpy convert to seconds
        arr, per_second, count = arr.astype("datetime64[s]"), 1.0, 1
    out = arr.view(np.int64).astype(np.float64) * count / per_second
    out[np.isnat(arr)] = np.nan
    return out


def _parse_times(s: pd.Series) -> np.ndarray:
    text = _as_text(s).str.strip()
    present = text.notna() & (text != "")
    nums = text_to_float(text)
    # Mostly numbers: an epoch column with a few bad values, not dates with a few numbers.
    if np.isfinite(nums).sum() * 2 >= present.sum():
        return _scale_epoch(nums)
    out = _to_datetime(text, "ISO8601")
    retry = np.isnan(out) & present.to_numpy()
    if retry.any():
        out[retry] = _to_datetime(text[retry], "mixed")
    return out


def _to_datetime(text: pd.Series, fmt: str) -> np.ndarray:
    if fmt == "ISO8601":
        fast = _iso_seconds(text)
        if fast is not None:
            return fast
    try:
        dt = pd.to_datetime(text, errors="coerce", utc=True, format=fmt)
    except (ValueError, TypeError, OverflowError):
        return np.full(len(text), np.nan)
    if not ptypes.is_datetime64_any_dtype(dt.dtype):
        return np.full(len(text), np.nan)
    return _datetime_seconds(dt)


def _iso_seconds(text: pd.Series) -> np.ndarray | None:
    """Epoch seconds of a column of plain ISO 8601 times (``2025-03-04T18:22:10``), else ``None``.

    pyarrow parses 10M of them in well under a second; ``pd.to_datetime`` first turns them into
    Python strings (about 5 s). Taken only when every value matches :data:`_ISO_SECONDS` and
    pyarrow accepts all of them: pyarrow refuses every date pandas refuses (30 February, hour
    24), and whole seconds of those years are exact in any unit pandas may pick.
    """
    try:
        arr = pa.array(text, type=pa.large_string(), from_pandas=True)
        if arr.null_count == len(arr) or not pc.all(pc.match_substring_regex(arr, _ISO_SECONDS)).as_py():
            return None
        stamps = pc.cast(arr, pa.timestamp("s")).to_numpy(zero_copy_only=False)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    out = stamps.view(np.int64).astype(np.float64)
    out[np.isnat(stamps)] = np.nan
    return out


# --------------------------------------------------------------------------- text
def to_text(s: pd.Series | None, n: int | None = None) -> pd.Series:
    """Free text as str, missing -> ""; ``None`` gives ``n`` empty strings."""
    if s is None:
        return pd.Series([""] * int(n or 0), dtype="str")
    return _as_text(s).fillna("").str.strip()


def join_text(df: pd.DataFrame, columns: Iterable[str]) -> pd.Series:
    """Join several text columns row by row with ". ", skipping empty parts.

    A part that already ends a sentence (``.``, ``!``, ``?``) is followed by a
    plain space, so "Great film." and "Fun" give "Great film. Fun".
    """
    parts = [to_text(df[c]).tolist() for c in columns]
    if not parts:
        return pd.Series([""] * len(df), index=df.index, dtype="str")
    return pd.Series([_join(row) for row in zip(*parts, strict=True)], index=df.index, dtype="str")


def _join(parts: Iterable[str]) -> str:
    out = ""
    for part in parts:
        if not part:
            continue
        if out:
            out += " " if out.endswith((".", "!", "?")) else ". "
        out += part
    return out


# --------------------------------------------------------------------------- categories
def to_categories(s: pd.Series, token_seq: bool = False) -> list[list[str]]:
    """Multi-valued category cells as lists of stripped, de-duplicated strings.

    The separator is chosen once for the column: RecBole ``token_seq`` fields
    are space-separated; otherwise ``|`` if any cell has one, else ``,``, else
    ``;``, else whitespace. List cells (Parquet) and list literals
    (``"['Action', 'Drama']"``) are taken element by element.
    """
    values = s.tolist()
    sep = None if token_seq else _category_separator(v for v in values if isinstance(v, str))
    return [_categories(v, sep) for v in values]


def _category_separator(values: Iterable[str]) -> str | None:
    seen = set()
    for v in values:
        seen.update(ch for ch in "|,;" if ch in v)
        if "|" in seen:
            return "|"
    for ch in ",;":
        if ch in seen:
            return ch
    return None


def _categories(v: object, sep: str | None) -> list[str]:
    if isinstance(v, list | tuple | np.ndarray):
        tokens = [str(x) for x in v if not is_missing(x)]
    elif is_missing(v):
        return []
    else:
        text = str(v).strip()
        if text.startswith("[") and text.endswith("]"):
            quoted = [a or b for a, b in _QUOTED.findall(text)]
            tokens = quoted if quoted else text[1:-1].split(",")
        else:
            tokens = text.split(sep)
    clean = (t.strip() for t in tokens)
    return list(dict.fromkeys(t for t in clean if t and t not in NO_CATEGORY))


# --------------------------------------------------------------------------- demographics
def demographic(s: pd.Series, field_type: str | None = None) -> pd.Series:
    """A user attribute kept as it came: numeric columns stay numeric; text columns become numbers
    only when every value is one and none has a leading zero (zip codes, phone numbers stay text);
    RecBole ``token`` fields stay text."""
    if ptypes.is_numeric_dtype(s.dtype) or ptypes.is_datetime64_any_dtype(s.dtype):
        return s
    text = _as_text(s).str.strip()
    text = text.where(~text.str.lower().isin(NA_TOKENS))
    if field_type in ("token", "token_seq"):
        return text
    present = text.dropna()
    if not len(present) or present.str.match(_LEADING_ZERO).any():
        return text
    if not np.isfinite(text_to_float(present)).all():
        return text
    vals = text_to_float(text)
    # Like pd.read_csv: whole numbers without gaps are int64 (age 47, not 47.0).
    if not np.isnan(vals).any() and (np.floor(vals) == vals).all() and (np.abs(vals) < 2**53).all():
        return pd.Series(vals.astype(np.int64), index=text.index)
    return pd.Series(vals, index=text.index)
