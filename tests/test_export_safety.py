"""CSV exports never carry a formula into a spreadsheet (OWASP "CSV injection").

A text cell whose first character is ``= + - @``, a tab, CR, LF or any other
control character – or whose first non-blank character is one of ``= + - @`` –
gets a leading apostrophe; everything else is left exactly as it was.
"""

from __future__ import annotations

import csv
import io
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import pandas as hpd

from mgviz.export import neutralise_cell, safe_csv_frame

FORMULA = "=+-@"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def dangerous(text: str) -> bool:
    """The rule, written independently of mgviz.export."""
    if not text:
        return False
    if unicodedata.category(text[0]) == "Cc":
        return True
    stripped = text.lstrip()
    while stripped and (stripped[0] in ZERO_WIDTH or stripped[0].isspace()):
        stripped = stripped[1:]
    return stripped[:1] in tuple(FORMULA)


# Texts that hit the rules often: a risky first character (or blank run + risky character) + any text.
_RISKY_START = st.one_of(
    st.sampled_from(list(FORMULA) + ["\t", "\r", "\n", "\x00", "\x1b", "\x7f", "\x85"]),
    st.tuples(st.text(" \t\u00a0\u3000" + ZERO_WIDTH, min_size=1, max_size=3), st.sampled_from(FORMULA)).map("".join),
)
TEXTS = st.one_of(
    st.text(),
    st.tuples(_RISKY_START, st.text(max_size=20)).map("".join),
    st.sampled_from(["=1+1", "=HYPERLINK(\"http://x\",\"y\")", "+41 79 123", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0",
                     " =1", "\u00a0+1", "\ufeff=1", "'=already", "a=1", "", "é=1", "＝1", "1-2"]),
)  # fmt: skip
NON_TEXT = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.binary(max_size=5)
)


@settings(max_examples=500, deadline=None)
@given(TEXTS)
def test_text_cells_are_neutralised_exactly_when_dangerous(text):
    out = neutralise_cell(text)
    assert out == ("'" + text if dangerous(text) else text)
    assert not dangerous(out)
    assert neutralise_cell(out) == out  # idempotent: safe output is left alone


@settings(max_examples=200, deadline=None)
@given(NON_TEXT)
def test_other_values_are_left_unchanged(value):
    out = neutralise_cell(value)
    assert out is value or (isinstance(value, float) and np.isnan(value) and np.isnan(out))


def expected(text: str) -> str:
    """What a text cell reads as after the safe export: CR line breaks as LF, then the prefix rule."""
    return neutralise_cell(text.replace("\r\n", "\n").replace("\r", "\n"))


def _raw_csv(frame: pd.DataFrame) -> list[list[str]]:
    """Write with pandas as the exports do, read back the raw cells as a spreadsheet would see them."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return list(csv.reader(io.StringIO(buf.getvalue(), newline="")))


_FRAMES = hpd.data_frames(
    [
        hpd.column("text", elements=TEXTS, dtype=object),
        hpd.column("mixed", elements=st.one_of(TEXTS, st.integers(-5, 5), st.none()), dtype=object),
        hpd.column("number", elements=st.floats(-1e6, 1e6), dtype=float),
        hpd.column("count", elements=st.integers(-1000, 1000), dtype=np.int64),
    ],
    index=hpd.range_indexes(max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_FRAMES, st.sampled_from(["object", "str", "string", "category"]), st.lists(TEXTS, min_size=4, max_size=4))
def test_csv_round_trip_never_yields_a_dangerous_cell(frame, text_dtype, names):
    """Whatever the text dtype and the column names, no cell (header included) that came from text
    starts dangerously once written; numbers and the original frame are untouched."""
    frame = frame.assign(text=frame["text"].astype(text_dtype))
    before = frame.copy()
    safe = safe_csv_frame(frame.set_axis(names, axis=1))
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not modified
    header, *rows = _raw_csv(safe)
    assert not any(dangerous(h) for h in header)
    assert header == [expected(n) for n in names]
    assert len(rows) == len(frame), "a line break inside a cell started a new row"
    for row, (_, original) in zip(rows, frame.iterrows(), strict=True):
        text, mixed, number, count = row
        assert not dangerous(text) and text == expected(original["text"])
        if isinstance(original["mixed"], str):
            assert not dangerous(mixed) and mixed == expected(original["mixed"])
        assert float(number) == original["number"]  # negative numbers stay numbers
        assert int(count) == original["count"]


def test_known_payloads():
    frame = pd.DataFrame(
        {
            "user_id": ["=1+1", "+SUM(1)", "-1", "@x", "\tA", "\rB", "\nC", " =1", "ok", "'=q"],
            "score": [-1.0, 0.5, -2, 3, 4, 5, 6, 7, 8, 9],
        }
    )
    safe = safe_csv_frame(frame)
    assert safe["user_id"].tolist() == ["'=1+1", "'+SUM(1)", "'-1", "'@x", "'\tA", "'\nB", "'\nC", "' =1", "ok", "'=q"]
    assert safe["score"].tolist() == frame["score"].tolist()


@pytest.mark.parametrize("cell", ["x\r=1+1", "x\r\n@SUM(A1)", "\r-2", "ok\r"])
def test_carriage_returns_cannot_start_a_new_row(cell):
    """Regression: pandas leaves a field with a lone CR unquoted, so "x\\r=1+1" became two rows in a
    spreadsheet, the second one a formula."""
    rows = _raw_csv(safe_csv_frame(pd.DataFrame({"name": [cell], "n": [1]})))
    assert len(rows) == 2 and rows[1][1] == "1"
    assert not dangerous(rows[1][0]) and "\r" not in rows[1][0]


@pytest.mark.parametrize("names", [["a", "a"], ["=a", "'=a"]], ids=["repeated", "repeated-after-neutralising"])
def test_repeated_column_names(names):
    """Regression: columns with the same name (or the same name once neutralised) crashed safe_csv_frame."""
    safe = safe_csv_frame(pd.DataFrame([["=1", "-2"]], columns=names))
    assert safe.iloc[0].tolist() == ["'=1", "'-2"]


def test_exports_from_a_run_with_hostile_ids(tmp_path, encoder):
    """End to end: ids and titles that are formulas come out of `mgviz export` / `recommend --out` as text."""
    from mgviz.cli import main
    from mgviz.io import load_dataset
    from mgviz.pipeline import BuildConfig, build
    from mgviz.runs import save_run

    log = (
        "user_id,item_id,rating\n"
        '"=HYPERLINK(""http://evil"",""x"")",@SUM(A1),5\n+41 79,-2+3,4\n"\tTAB",=1+1,3\n'
        '"=HYPERLINK(""http://evil"",""x"")",-2+3,1\nplain,@SUM(A1),2\n'
    )
    dataset, _ = load_dataset(("log.csv", log.encode()))
    model = build(dataset, BuildConfig(k=2, umap=False, k_range=[], iterations=2, factors=4), encoder)
    run = save_run(model, tmp_path / "run")
    profiles, recs = tmp_path / "profiles.csv", tmp_path / "recs.csv"
    assert main(["export", "--run", str(run), "--profiles", str(profiles)]) == 0
    assert main(["recommend", "--run", str(run), "--all-users", "--n", "3", "--out", str(recs)]) == 0
    for path in (profiles, recs):
        rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
        cells = [c for row in rows for c in row]
        numeric = {c for c in cells if _is_number(c)}
        assert not any(dangerous(c) for c in cells if c not in numeric), path.name
        assert any(c.startswith("'=HYPERLINK") for c in cells) or path == recs


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
