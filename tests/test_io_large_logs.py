"""Large logs take the loader's fast paths (packed sort key, pyarrow time parsing, distinct-id checks);
they must give exactly what the plain pandas recipe gives: same rows kept, same order, same values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mgviz.io import load_dataset
from mgviz.io.convert import text_to_float, to_ids, to_seconds


def _messy_log(n: int, seed: int, sorted_by_user: bool) -> pd.DataFrame:
    """Ties in (user, time), exact repeats with different reviews, unsorted items within ties."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 300, n)
    times = 1_735_689_600 + rng.integers(0, 2_000, n)
    if sorted_by_user:
        order = np.lexsort((times, users))
        users, times = users[order], times[order]
    log = pd.DataFrame(
        {
            "user_id": [f"u{k:03d}" for k in users],
            "item_id": [f"i{k}" for k in rng.integers(0, 50, n)],
            "rating": rng.integers(1, 3, n),
            "timestamp": [str(np.datetime64(int(t), "s")) for t in times],
            "review": rng.choice(["", "great", "meh"], n),
        }
    )
    repeats = log.sample(n // 50, random_state=seed)
    repeats["review"] = "again"
    return pd.concat([log, repeats], ignore_index=True)


def _epoch(text: pd.Series) -> np.ndarray:
    return pd.to_datetime(text, format="ISO8601", utc=True).dt.as_unit("s").astype("int64").to_numpy(np.float64)


def _reference(log: pd.DataFrame) -> pd.DataFrame:
    """The plain recipe: first of each exact repeat kept, stable sort by (user, time, item)."""
    ref = log.assign(timestamp=_epoch(log["timestamp"]))
    ref = ref[~ref.duplicated(["user_id", "item_id", "timestamp", "rating"])]
    ref = ref.sort_values(["user_id", "timestamp", "item_id"], kind="stable").reset_index(drop=True)
    return ref.rename(columns={"review": "text"}).astype({"rating": "float64"})


@pytest.mark.parametrize("sorted_by_user", [True, False])
def test_large_log_loads_like_the_plain_recipe(tmp_path, sorted_by_user):
    log = _messy_log(30_000, seed=3, sorted_by_user=sorted_by_user)
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    dataset, report = load_dataset(path)
    expected = _reference(log)
    pd.testing.assert_frame_equal(dataset.interactions, expected[list(dataset.interactions.columns)])
    dropped = [p for p in report.warnings if "duplicate" in p.message]
    assert dropped and dropped[0].count == len(log) - len(expected)


def test_iso_times_parse_as_pandas_does_and_bad_dates_stay_bad():
    good = pd.Series(["2025-03-04T18:22:10", "1999-12-31 23:59:59", "2025-01-01"] * 5_000, dtype="str")
    seconds, bad = to_seconds(good)
    assert not bad.any()
    np.testing.assert_array_equal(seconds, _epoch(good))
    # pyarrow refuses 30 February as pandas does: the column falls back and only that row is bad
    seconds, bad = to_seconds(pd.Series(["2025-02-30T10:00:00", "2025-03-01T10:00:00"], dtype="str"))
    assert bad.tolist() == [True, False]


def test_numbers_among_dates_are_still_found():
    text = pd.Series(["2025-03-04T18:22:10", "12", " 1e3", "-inf", "3.5", "12:00", "n/a"], dtype="str")
    np.testing.assert_array_equal(
        text_to_float(text), [np.nan, 12.0, 1000.0, -np.inf, 3.5, np.nan, np.nan], strict=False
    )


def test_clean_ids_of_a_long_column_come_back_unchanged_and_dirty_ones_cleaned():
    clean = pd.Series([f"u{k % 500}" for k in range(20_000)], dtype="str")
    assert to_ids(clean).equals(clean)
    dirty = pd.Series([" u1", "nan", "7.0", "8"] * 5_000, dtype="str")
    assert to_ids(dirty)[:4].fillna("<missing>").tolist() == ["u1", "<missing>", "7.0", "8"]
