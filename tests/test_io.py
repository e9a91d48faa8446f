"""Data intake: every refusal names the file, the column and example lines; every accepted input
comes out in the canonical schema."""

from __future__ import annotations

import io
import math
import os
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgviz.errors import InputError, Problem
from mgviz.io import detect_roles, load_dataset, read_table
from mgviz.schema import INTERACTION_COLS, ITEM_COLS, USER_COLS, Dataset

LOG = "user_id,item_id,rating,timestamp\nu1,i1,5,1600000000\nu2,i2,3,1600000100\nu1,i2,4,1600000200\n"


def _log(n: int, rating=lambda k: str(1 + k % 5)) -> str:
    """A valid log of ``n`` rows (data row k is on line k + 2)."""
    rows = [f"u{k % 7},i{k % 11},{rating(k)},{1_600_000_000 + k}" for k in range(n)]
    return "user_id,item_id,rating,timestamp\n" + "\n".join(rows) + "\n"


def _errors(exc: pytest.ExceptionInfo[InputError]) -> list[Problem]:
    return exc.value.report.errors


def _one_error(exc: pytest.ExceptionInfo[InputError]) -> Problem:
    errors = _errors(exc)
    assert len(errors) == 1, errors
    return errors[0]


def _refused(name: str, data: bytes, **kw) -> Problem:
    """Load ``data`` uploaded as ``name``; it must be refused with exactly one error naming the file."""
    with pytest.raises(InputError) as exc:
        load_dataset((name, data), **kw)
    problem = _one_error(exc)
    assert problem.file == name
    assert name in str(exc.value)
    return problem


@pytest.fixture(autouse=True)
def _never_unpickle(monkeypatch):
    """Any attempt to unpickle during a test fails it, whatever the file looked like."""

    def boom(*args, **kwargs):
        raise AssertionError("mgviz must never unpickle input")

    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pd, "read_pickle", boom)


# --------------------------------------------------------------------------- refusals
def test_empty_file():
    problem = _refused("ratings.csv", b"")
    assert "file is empty" in problem.message


def test_whitespace_only_file_is_empty():
    assert "file is empty" in _refused("ratings.csv", b"\xef\xbb\xbf \n\n  \n").message


def test_header_only():
    problem = _refused("ratings.csv", b"user_id,item_id,rating\n")
    assert "has a header but no data rows" in problem.message


def test_missing_user_column():
    problem = _refused("ratings.csv", b"customer,item_id,rating\na,i1,5\n")
    assert "no user id column" in problem.message
    assert "'customer', 'item_id', 'rating'" in problem.message
    assert "--user-col" in problem.message


def test_headerless_file_gets_a_hint():
    problem = _refused("u.data", b"196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    assert "looks like data, not a header" in problem.message


def test_binary_garbage():
    rng = np.random.default_rng(0)
    data = b"\x01\x02" + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes() + b"\x00"
    problem = _refused("ratings.csv", data)
    assert "binary" in problem.message


def test_text_in_rating_column():
    problem = _refused("ratings.csv", b"user_id,item_id,rating\nu1,i1,great\nu2,i2,5\nu3,i3,five\n")
    assert problem.column == "rating"
    assert "column 'rating' is text, not numbers: 'great' at line 2, 'five' at line 4" in problem.message
    assert problem.rows == [2, 4]
    assert "--rating-col" in problem.message


def test_a_few_bad_ratings_are_dropped_with_a_warning():
    text = _log(40, rating=lambda k: "abc" if k == 5 else ("inf" if k == 9 else "4"))
    ds, report = load_dataset(("ratings.csv", text.encode()))
    assert len(ds.interactions) == 38
    (warning,) = report.warnings
    assert (warning.file, warning.column, warning.count, warning.rows) == ("ratings.csv", "rating", 2, [7, 11])
    assert "'abc' at line 7" in warning.message


def test_unparseable_timestamps():
    problem = _refused("log.csv", b"user_id,item_id,date\nu1,i1,yesterday\nu2,i2,2020-01-01\nu3,i3,soon\n")
    assert problem.column == "date"
    assert "'yesterday' at line 2" in problem.message and problem.rows == [2, 4]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_renamed_csv(protocol):
    data = pickle.dumps({"user_id": ["u1"], "item_id": ["i1"]}, protocol=protocol)  # only dumping
    problem = _refused("ratings.csv", data)
    assert "looks like a Python pickle, which mgviz never loads" in problem.message


def test_pickled_dataframe_renamed_csv():
    data = pickle.dumps(pd.DataFrame({"user_id": ["u1"], "item_id": ["i1"]}))
    assert "pickle" in _refused("ratings.csv", data).message


def test_pickle_extension_is_refused_by_name():
    assert "never loads" in _refused("model.pkl", LOG.encode()).message


def test_zip_renamed_csv():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ratings.csv", LOG)
    assert "looks like a zip archive" in _refused("ratings.csv", buf.getvalue()).message


def test_gzip_renamed_csv():
    import gzip

    assert "gzip" in _refused("ratings.csv", gzip.compress(LOG.encode())).message


def test_html_page():
    page = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>x,y</body></html>\n"
    assert "looks like an HTML page" in _refused("ratings.csv", page).message


def test_fake_parquet():
    problem = _refused("ratings.parquet", LOG.encode())
    assert "is named .parquet but is not a Parquet file" in problem.message
    assert "text" in problem.message


def test_corrupt_parquet():
    problem = _refused("ratings.parquet", b"PAR1" + b"garbage" * 20 + b"PAR1")
    assert "is not a valid Parquet file" in problem.message


def test_file_not_found(tmp_path):
    with pytest.raises(InputError) as exc:
        load_dataset(tmp_path / "nope.csv")
    assert "nope.csv" in str(exc.value) and "not found" in str(exc.value)


def test_max_bytes(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(_log(200))
    problem = _refused("big.csv", path.read_bytes(), max_bytes=1024)
    assert "larger than the 0.000977 MB limit" in problem.message
    with pytest.raises(InputError, match=r"big\.csv.*MB limit"):
        load_dataset(path, max_bytes=1024)
    with pytest.raises(InputError, match="MB limit"):
        read_table(io.BytesIO(path.read_bytes()), name="big.csv", max_bytes=1024)
    ds, _ = load_dataset(path, max_bytes=1 << 20)
    assert len(ds.interactions) == 200


def test_errors_in_every_file_are_reported_together():
    with pytest.raises(InputError) as exc:
        load_dataset(
            ("log.csv", b"user_id,item_id,rating\nu1,i1,bad\nu2,i2,worse\n"),
            ("items.csv", b""),
            ("users.csv", b"name,age\nann,3\n"),
        )
    files = sorted(p.file for p in _errors(exc))
    assert files == ["items.csv", "log.csv", "users.csv"]
    assert "(and 2 more problems)" in str(exc.value)


# --------------------------------------------------------------------------- ragged rows
def test_a_few_ragged_rows_are_skipped_and_reported():
    lines = _log(60).splitlines()
    lines[10] += ",extra"  # line 11
    lines[20] = "u1,i1"  # line 21
    ds, report = load_dataset(("log.csv", ("\n".join(lines) + "\n").encode()))
    assert len(ds.interactions) == 58
    (warning,) = report.warnings
    assert warning.file == "log.csv" and warning.rows == [11, 21] and warning.count == 2
    assert "skipped" in warning.message and "line 11 has 5" in warning.message


def test_many_ragged_rows_are_an_error():
    problem = _refused("log.csv", b"user_id,item_id,rating\nu1,i1,5\nu2,i2,3,x\nu3,i3\nu4,i4,2\n")
    assert problem.rows == [3, 4] and problem.count == 2
    assert "different number of fields than the header's 3" in problem.message


def test_trailing_delimiter_is_not_ragged():
    ds, report = load_dataset(("log.csv", b"user_id,item_id,rating,\nu1,i1,5,\nu2,i2,3,\n"))
    assert report.problems == [] and len(ds.interactions) == 2


def test_line_numbers_follow_blank_lines_and_skipped_rows():
    good = "".join(f"u{k},i{k},4\n" for k in range(30))  # lines 5-34
    text = "user_id,item_id,rating\n\nu1,i1,5\nu2\n" + good + "u9,i9,bad\n"  # blank line 2, ragged line 4
    ds, report = load_dataset(("log.csv", text.encode()))
    assert len(ds.interactions) == 31
    assert [(p.column, p.rows) for p in report.warnings] == [(None, [4]), ("rating", [35])]


def test_read_table_then_load_keeps_line_numbers():
    text = "user_id,item_id,rating\n\nu0,i0,5\nbroken\n" + "".join(f"u{k},i{k},4\n" for k in range(1, 30)) + "u9,,1\n"
    df = read_table(text.encode(), name="log.csv")  # blank line 2, ragged line 4 skipped
    assert len(df) == 31
    _, report = load_dataset(df)
    assert [(p.file, p.column, p.rows) for p in report.warnings] == [("log.csv", "item_id", [34])]


def test_pickle_heuristic_does_not_flag_tables():
    text = b"comment\nhello\n(i) fine\nbye."
    ds, _ = load_dataset(("log.csv", b"(id),user_id,item_id\nx,u,i.\n"))
    assert ds.interactions["item_id"].tolist() == ["i."]
    assert read_table(text, name="c.csv")["comment"].tolist() == ["hello", "(i) fine", "bye."]


# --------------------------------------------------------------------------- encodings & delimiters
def test_latin1_file():
    data = "user_id;item_id;review\nu1;i1;café crème\nu2;i2;naïve\n".encode("latin-1")
    ds, report = load_dataset(("log.csv", data))
    assert ds.interactions["text"].tolist() == ["café crème", "naïve"]
    assert any("not UTF-8" in p.message for p in report.warnings)


def test_cp1252_quotes():
    data = "user_id,item_id,review\nu1,i1,\u201cnice\u201d \u20ac5\n".encode("cp1252")
    ds, _ = load_dataset(("log.csv", data))
    assert ds.interactions["text"].iloc[0] == "\u201cnice\u201d \u20ac5"


def test_utf8_bom():
    df = read_table(b"\xef\xbb\xbfuser_id,item_id\nu1,i1\n", name="log.csv")
    assert list(df.columns) == ["user_id", "item_id"]
    ds, report = load_dataset(("log.csv", b"\xef\xbb\xbfuser_id,item_id\nu1,i1\n"))
    assert ds.interactions["user_id"].tolist() == ["u1"] and report.problems == []


def test_utf16_with_bom():
    ds, _ = load_dataset(("log.txt", "user_id\titem_id\nü1\ti1\n".encode("utf-16")))
    assert ds.interactions["user_id"].tolist() == ["ü1"]


def test_semicolon_delimiter_and_decimal_comma():
    data = b"user_id;item_id;rating;title\nu1;i1;4,5;Heat, the movie\nu2;i2;3;Up\n"
    ds, report = load_dataset(("log.csv", data))
    assert ds.interactions["rating"].tolist() == [4.5, 3.0]
    assert ds.items.set_index("item_id").loc["i1", "title"] == "Heat, the movie"
    assert report.problems == []


def test_tsv():
    data = b"user_id\titem_id\trating\nu1\ti1\t5\nu2\ti2\t3\n"
    ds, _ = load_dataset(("log.tsv", data))
    assert ds.interactions["rating"].tolist() == [5.0, 3.0] and ds.has_rating


def test_pipe_delimiter_with_commas_in_text():
    data = b"user_id|item_id|review\nu1|i1|good, not great\nu2|i2|bad, really\n"
    assert read_table(data, name="x.txt")["review"].tolist() == ["good, not great", "bad, really"]


def test_quoted_fields_with_newlines_keep_line_numbers():
    data = b'user_id,item_id,review\nu1,i1,"two\nlines"\nu2,,fine\n' + b"".join(
        b"u%d,i%d,x\n" % (k, k) for k in range(30)
    )
    _, report = load_dataset(("log.csv", data))
    (warning,) = report.warnings
    assert warning.column == "item_id" and warning.rows == [4]


# --------------------------------------------------------------------------- formats
def test_recbole_atomic_files(tmp_path):
    (tmp_path / "ml.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t4\t881250949\n2\t20\t3\t891717742\n"
    )
    (tmp_path / "ml.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        '10\tToy Story\t1995\tAnimation Children Comedy\n20\t"Great Escape" Cats\t1998\tDrama\n'
    )
    (tmp_path / "ml.user").write_text("user_id:token\tage:token\tgender:token\tzip_code:token\n1\t24\tM\t01234\n")
    assert list(read_table(tmp_path / "ml.inter").columns) == ["user_id", "item_id", "rating", "timestamp"]
    ds, report = load_dataset(tmp_path / "ml.inter", tmp_path / "ml.item", tmp_path / "ml.user")
    items = ds.items.set_index("item_id")
    assert items.loc["10", "title"] == "Toy Story"
    assert items.loc["10", "categories"] == ["Animation", "Children", "Comedy"]
    assert items.loc["20", "title"] == '"Great Escape" Cats'
    assert ds.demographic_cols == ["age", "gender", "zip_code"]
    assert ds.users.set_index("user_id").loc["1", "zip_code"] == "01234"
    assert ds.sources == {"interactions": "ml.inter", "items": "ml.item", "users": "ml.user"}
    assert [p.column for p in report.warnings] == ["user_id"]  # user 2 is not in ml.user


def test_parquet_round_trip(tmp_path):
    log = pd.DataFrame(
        {
            "userId": [12.0, 13.0, 12.0],  # float-typed ids, as pandas writes them after a NaN
            "movieId": [1, 2, 3],
            "rating": [4.0, 3.5, 5.0],
            "time": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]),
            "genres": [["A", "B"], [], ["B", "B"]],
        }
    )
    path = tmp_path / "log.parquet"
    log.to_parquet(path)
    ds, _ = load_dataset(path)
    assert sorted(ds.users["user_id"]) == ["12", "13"]
    assert ds.interactions["timestamp"].tolist() == [1577836800.0, 1578009600.0, 1577923200.0]
    assert ds.items.set_index("item_id")["categories"].to_dict() == {"1": ["A", "B"], "2": [], "3": ["B"]}
    assert ds.has_time and ds.has_rating


def test_parquet_named_csv_is_read_as_parquet(tmp_path):
    buf = io.BytesIO()
    pd.DataFrame({"user_id": ["u1"], "item_id": ["i1"]}).to_parquet(buf)
    ds, _ = load_dataset(("export.csv", buf.getvalue()))
    assert ds.interactions["item_id"].tolist() == ["i1"]


def test_uploaded_file_like_and_dataframe_inputs():
    upload = io.BytesIO(LOG.encode())
    upload.name = "upload.csv"
    ds, _ = load_dataset(upload)
    assert ds.sources == {"interactions": "upload.csv"}
    df = read_table(LOG.encode(), name="again.csv")
    ds2, _ = load_dataset(df)
    assert ds2.sources == {"interactions": "again.csv"}
    pd.testing.assert_frame_equal(ds.interactions, ds2.interactions)


# --------------------------------------------------------------------------- values
def test_epoch_ms_and_iso_timestamps_agree():
    secs = [1_600_000_000, 1_600_000_100]
    iso = pd.to_datetime(secs, unit="s", utc=True).strftime("%Y-%m-%dT%H:%M:%SZ")
    as_s = f"user_id,item_id,ts\nu1,i1,{secs[0]}\nu1,i2,{secs[1]}\n"
    as_ms = f"user_id,item_id,ts\nu1,i1,{secs[0] * 1000}\nu1,i2,{secs[1] * 1000}\n"
    as_iso = f"user_id,item_id,date\nu1,i1,{iso[0]}\nu1,i2,{iso[1]}\n"
    got = [load_dataset((n, t.encode()))[0].interactions["timestamp"].tolist() for n, t in
           (("s.csv", as_s), ("ms.csv", as_ms), ("iso.csv", as_iso))]  # fmt: skip
    assert got == [[float(s) for s in secs]] * 3
    dates = load_dataset(("d.csv", b"user_id,item_id,date\nu1,i1,2020-01-02\n"))[0]
    assert dates.interactions["timestamp"].tolist() == [1577923200.0] and dates.has_time


def test_no_rating_no_time():
    ds, _ = load_dataset(("log.csv", b"user,item\nb,x\na,y\nb,z\n"))
    assert not ds.has_rating and not ds.has_time
    assert ds.interactions["rating"].tolist() == [1.0, 1.0, 1.0]
    # row order becomes the time; interactions are sorted by (user, time, item)
    assert ds.interactions[["user_id", "timestamp", "item_id"]].values.tolist() == [
        ["a", 1.0, "y"], ["b", 0.0, "x"], ["b", 2.0, "z"]
    ]  # fmt: skip


def test_float_ids_in_text_match_int_ids():
    ds, report = load_dataset(
        ("log.csv", b"user_id,item_id\n1.0,12.0\n2.0,13.0\n"), ("items.csv", b"item_id,title\n12,A\n13,B\n")
    )
    assert ds.items["item_id"].tolist() == ["12", "13"] and report.problems == []


def test_leading_zero_ids_kept():
    ds, _ = load_dataset(("log.csv", b"user_id,item_id\n007,0012\n"))
    assert ds.interactions[["user_id", "item_id"]].values.tolist() == [["007", "0012"]]


def test_missing_ids_few_dropped_many_error():
    text = _log(40).replace("\nu3,i3,", "\n,i3,", 1)
    ds, report = load_dataset(("log.csv", text.encode()))
    (warning,) = report.warnings
    assert warning.column == "user_id" and warning.rows == [5] and len(ds.interactions) == 39
    problem = _refused("log.csv", b"user_id,item_id\nu1,i1\nNaN,i2\n,i3\n")
    assert problem.column == "user_id" and problem.rows == [3, 4] and "2 of 3 rows have no user id" in problem.message


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["Action|Comedy", "Drama"], [["Action", "Comedy"], ["Drama"]]),
        (["Action, Comedy", "Science Fiction"], [["Action", "Comedy"], ["Science Fiction"]]),
        (["action comedy action", "drama"], [["action", "comedy"], ["drama"]]),
        (["Sci-Fi; Drama", ""], [["Sci-Fi", "Drama"], []]),
        (["['Action', 'Drama']", "(no genres listed)"], [["Action", "Drama"], []]),
    ],
)
def test_multi_valued_categories(cells, expected):
    items = pd.DataFrame({"item_id": ["a", "b"], "genres": cells})
    buf = io.StringIO()
    items.to_csv(buf, index=False)
    ds, _ = load_dataset(("log.csv", b"user_id,item_id\nu,a\nu,b\n"), ("items.csv", buf.getvalue().encode()))
    assert ds.items["categories"].tolist() == expected


def test_item_text_and_user_profiles():
    items = b"item_id,title,description,tags,year\na,Heat,A heist.,crime thriller,1995\nb,Up,,balloons,2009\n"
    more = b"item_id,title,genres,plot,tags\na,Heat,Crime,A heist,LA|heat\nb,Up,,,\n"
    users = b"user_id,bio,age,country\nu,I like films,31,FR\nv,,n/a,DE\n"
    ds, _ = load_dataset(("log.csv", b"user_id,item_id\nu,a\nv,b\n"), ("items.csv", items), ("users.csv", users))
    assert ds.items["text"].tolist() == ["A heist.", ""]
    assert ds.items["categories"].tolist() == [["crime", "thriller"], ["balloons"]]  # no genres: tags are categories
    assert ds.users["text"].tolist() == ["I like films", ""]
    assert ds.demographic_cols == ["age", "country"]
    assert ds.users["country"].tolist() == ["FR", "DE"]
    assert ds.users["age"].tolist()[0] == 31 and math.isnan(ds.users["age"].tolist()[1])
    ds, _ = load_dataset(("log.csv", b"user_id,item_id\nu,a\n"), users=("users.csv", b"user_id,age,zip\nu,31,02139\n"))
    assert ds.users["age"].dtype == np.int64 and ds.users["zip"].tolist() == ["02139"]
    ds, _ = load_dataset(("log.csv", b"user_id,item_id\nu,a\nv,b\n"), ("items.csv", more))
    assert ds.items["text"].tolist() == ["A heist. LA|heat", ""]  # genres are the categories, tags are text


def test_flat_log_carries_item_metadata():
    log = b"userId,movieId,rating,title,genres\n1,10,4,Heat,Crime|Drama\n2,10,5,Heat,Crime|Drama\n2,20,3,Up,\n"
    ds, _ = load_dataset(("ratings.csv", log))
    assert ds.items[["item_id", "title"]].values.tolist() == [["10", "Heat"], ["20", "Up"]]
    assert ds.items["categories"].tolist() == [["Crime", "Drama"], []]


# --------------------------------------------------------------------------- overrides & roles
def test_column_overrides():
    data = b"who,what,how_much,when,note\nu1,i1,2,1600000000,ok\nu2,i2,5,1600000001,meh\n"
    ds, _ = load_dataset(("log.csv", data), user_col="who", item_col="what", rating_col="how_much",
                         time_col="when", review_col="note")  # fmt: skip
    assert ds.interactions.values.tolist() == [
        ["u1", "i1", 2.0, 1600000000.0, "ok"],
        ["u2", "i2", 5.0, 1600000001.0, "meh"],
    ]


def test_override_wins_over_detection():
    data = b"user_id,customer_id,item_id\na,X,i\n"
    ds, _ = load_dataset(("log.csv", data), user_col="customer_id")
    assert ds.users["user_id"].tolist() == ["X"]


def test_override_naming_a_missing_column():
    with pytest.raises(InputError) as exc:
        load_dataset(("log.csv", LOG.encode()), rating_col="stars", category_col="genre")
    problems = _errors(exc)
    assert [(p.file, p.column) for p in problems] == [("log.csv", "stars"), ("log.csv", "genre")]
    assert "column 'stars'" in problems[0].message and "--rating-col" in problems[0].message
    assert "available columns: 'user_id', 'item_id', 'rating', 'timestamp'" in problems[0].message


def test_user_text_cols_without_users_table():
    with pytest.raises(InputError, match=r"log\.csv: --user-text-cols needs a users table"):
        load_dataset(("log.csv", LOG.encode()), user_text_cols=["bio"])


def test_detect_roles():
    inter = pd.DataFrame(columns=["UserID", "movie_id:token", "Stars", "date", "comment"])
    assert detect_roles(inter, "interactions") == {
        "user": "UserID", "item": "movie_id:token", "rating": "Stars", "timestamp": "date", "review": "comment"
    }  # fmt: skip
    items = pd.DataFrame(columns=["iid", "movie_title", "class", "overview", "tags", "year"])
    assert detect_roles(items, "items") == {"item": "iid", "title": "movie_title", "category": "class",
                                            "text": ["overview", "tags"]}  # fmt: skip
    users = pd.DataFrame(columns=["uid", "bio", "age", "gender"])
    assert detect_roles(users, "users") == {"user": "uid", "text": ["bio"], "demographics": ["age", "gender"]}
    with pytest.raises(ValueError):
        detect_roles(users, "ratings")


# --------------------------------------------------------------------------- table checks
def test_duplicates_warning():
    text = LOG + "u1,i1,5,1600000000\nu1,i1,5,1600000000\n"
    ds, report = load_dataset(("log.csv", text.encode()))
    assert len(ds.interactions) == 3
    (warning,) = report.warnings
    assert "duplicate" in warning.message and warning.count == 2 and warning.rows == [5, 6]


def test_duplicate_ids_in_item_table():
    items = b"item_id,title\ni1,First\ni2,Two\ni1,Second\n"
    ds, report = load_dataset(("log.csv", LOG.encode()), ("items.csv", items))
    assert ds.items.set_index("item_id").loc["i1", "title"] == "First"
    (warning,) = report.warnings
    assert warning.file == "items.csv" and warning.rows == [4] and "repeated item ids" in warning.message


def test_items_missing_from_item_table():
    items = b"item_id,title\ni1,One\ni9,Unseen\n"
    ds, report = load_dataset(("log.csv", LOG.encode()), ("items.csv", items))
    assert ds.items["item_id"].tolist() == ["i1", "i2", "i9"]  # the unseen catalogue item is kept
    assert ds.items.set_index("item_id").loc["i2", "title"] == ""
    (warning,) = report.warnings
    assert (warning.file, warning.column, warning.count, warning.rows) == ("log.csv", "item_id", 1, [3])
    assert "not in items.csv" in warning.message and "'i2'" in warning.message


def test_users_missing_from_user_table():
    ds, report = load_dataset(("log.csv", LOG.encode()), users=("users.csv", b"user_id,age\nu1,30\n"))
    assert ds.users["user_id"].tolist() == ["u1", "u2"]
    assert math.isnan(ds.users.set_index("user_id").loc["u2", "age"])
    assert "not in users.csv" in report.warnings[0].message


def test_sorted_outputs():
    ds, _ = load_dataset(("log.csv", b"user_id,item_id,timestamp\nb,z,3\nb,y,1\na,x,2\n10,x,1\n9,x,1\n"))
    assert ds.users["user_id"].tolist() == ["10", "9", "a", "b"]  # string sort
    assert ds.interactions["item_id"].tolist() == ["x", "x", "x", "y", "z"]


# --------------------------------------------------------------------------- property
def _check_invariants(ds: Dataset) -> None:
    inter, items, users = ds.interactions, ds.items, ds.users
    assert list(inter.columns) == list(INTERACTION_COLS)
    assert list(items.columns[: len(ITEM_COLS)]) == list(ITEM_COLS)
    assert list(users.columns) == [*USER_COLS, *ds.demographic_cols]
    assert len(inter) > 0
    for df in (inter, items, users):
        assert isinstance(df.index, pd.RangeIndex)
    for col in ("user_id", "item_id", "text"):
        assert all(isinstance(v, str) for v in inter[col])
    assert inter["rating"].dtype == np.float64 and np.isfinite(inter["rating"]).all()
    assert inter["timestamp"].dtype == np.float64 and np.isfinite(inter["timestamp"]).all()
    for table, id_col in ((items, "item_id"), (users, "user_id")):
        ids = table[id_col].tolist()
        assert all(isinstance(v, str) and v for v in ids)
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert set(inter[id_col]) <= set(ids)
    assert all(isinstance(c, list) and all(isinstance(x, str) for x in c) for c in items["categories"])
    assert all(isinstance(v, str) for v in items["title"]) and all(isinstance(v, str) for v in items["text"])
    keys = ["user_id", "timestamp", "item_id"]
    assert inter[keys].equals(inter[keys].sort_values(keys, kind="stable").reset_index(drop=True))
    u, i = ds.codes()
    assert (u >= 0).all() and (i >= 0).all()


_NAMES = st.sampled_from(["user_id", "item_id", "rating", "timestamp", "userId", "itemID", "title", "genres",
                          "review", "score", "date", "x", "ü", "", " ", "a,b", 'q"t'])  # fmt: skip
_CELL = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(["1", "12.0", "abc", "", "2020-01-01", "1600000000000", "a|b", "inf", "NaN", "café"]),
    st.booleans(),
)


@st.composite
def _frames(draw) -> pd.DataFrame:
    names = draw(st.lists(_NAMES, min_size=1, max_size=5, unique=True))
    n = draw(st.integers(min_value=0, max_value=8))
    return pd.DataFrame({name: draw(st.lists(_CELL, min_size=n, max_size=n)) for name in names}, dtype=object)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_frames())
def test_property_csv_bytes_load_or_input_error(df):
    data = df.to_csv(index=False).encode("utf-8")
    try:
        ds, _ = load_dataset(("random.csv", data))
    except InputError as exc:
        assert exc.report.errors and all(p.file == "random.csv" for p in exc.report.errors)
        return
    _check_invariants(ds)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_frames())
def test_property_dataframes_load_or_input_error(df):
    try:
        ds, _ = load_dataset(df, items=df)
    except InputError as exc:
        assert exc.report.errors
        return
    _check_invariants(ds)


def test_read_table_raises_with_report_and_collects_warnings(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(os.urandom(10) + b"\x00")
    with pytest.raises(InputError, match=r"x\.csv: looks like binary data"):
        read_table(path)
    from mgviz.errors import ValidationReport

    report = ValidationReport()
    df = read_table("a;b\ncafé;1\n".encode("latin-1"), name="l.csv", report=report)
    assert df["a"].tolist() == ["café"] and report.warnings and report.ok


# --------------------------------------------------------------------------------- the friends file
def _friends(text: str, name: str = "friends.csv", directed: bool = False):
    from mgviz.io.friends import load_friends

    dataset, _ = load_dataset(("log.csv", _log(30).encode()))  # users u0 … u6
    return load_friends((name, text.encode()), dataset, directed=directed)


def test_friends_file_becomes_the_datasets_edges():
    dataset, report = _friends("user_id,friend_id,weight\nu0,u1,2\nu1,u2,1\nu3,u4,0.5\n")
    assert report.ok and not report.warnings
    assert dataset.friends.to_dict("list") == {"user_id": ["u0", "u1", "u3"], "friend_id": ["u1", "u2", "u4"],
                                               "weight": [2.0, 1.0, 0.5]}  # fmt: skip
    assert dataset.sources["friends"] == "friends.csv" and not dataset.friends_directed
    # columns by position when the names say nothing; no weight column: weight 1
    dataset, _ = _friends("a_person\tanother\nu0\tu1\n", name="edges.tsv")
    assert dataset.friends["weight"].tolist() == [1.0] and dataset.friends["friend_id"].tolist() == ["u1"]


def test_friends_file_with_one_column_is_an_error_naming_file_and_column():
    with pytest.raises(InputError) as exc:
        _friends("user_id\nu0\nu1\n")
    problem = _one_error(exc)
    assert problem.file == "friends.csv" and problem.column == "user_id"
    assert "one column" in str(exc.value) and "user_id, friend_id" in str(exc.value)


def test_friends_unknown_users_self_loops_and_duplicates_are_dropped_with_counts_and_lines():
    text = "user_id,friend_id\nu0,u1\nu1,u0\nu2,u2\nu0,nobody\nstranger,u3\nu4,u5\nu0,u1\nu3,u3\n"
    dataset, report = _friends(text)
    warnings = {p.message.split(" (")[0]: p for p in report.warnings}
    unknown = next(p for k, p in warnings.items() if "not in the interactions" in k)
    assert unknown.count == 2 and unknown.rows == [5, 6] and "'nobody'" in unknown.message
    loops = next(p for k, p in warnings.items() if "self-loops" in k)
    assert loops.count == 2 and loops.rows == [4, 9]
    dups = next(p for k, p in warnings.items() if "duplicate" in k)
    assert dups.count == 2 and dups.rows == [3, 8]  # undirected: u1,u0 repeats u0,u1
    assert "2 rows" in str(dups) and "line 3, 8" in str(dups)
    assert dataset.friends[["user_id", "friend_id"]].values.tolist() == [["u0", "u1"], ["u4", "u5"]]
    # directed: u1 → u0 is another edge than u0 → u1
    dataset, report = _friends(text, directed=True)
    assert dataset.friends_directed and len(dataset.friends) == 3
    assert next(p for p in report.warnings if "duplicate" in p.message).count == 1


def test_friends_bad_weights_and_nothing_left():
    dataset, report = _friends("user_id,friend_id,weight\nu0,u1,1\nu1,u2,x\n" + "u2,u3,1\n" * 0 + "".join(
        f"u{k % 7},u{(k + 1) % 7},1\n" for k in range(3, 40)))  # fmt: skip
    bad = next(p for p in report.warnings if p.column == "weight")
    assert bad.count == 1 and bad.rows == [3]
    with pytest.raises(InputError) as exc:
        _friends("user_id,friend_id\nu0,u0\nu1,nobody\n")
    assert "no usable edges" in str(exc.value) and "friends.csv" in str(exc.value)
    with pytest.raises(InputError) as exc:
        _friends("user_id,friend_id,weight\nu0,u1,big\nu1,u2,huge\n")
    assert _one_error(exc).column == "weight"


def test_friends_parquet(tmp_path):
    from mgviz.io.friends import load_friends

    path = tmp_path / "friends.parquet"
    pd.DataFrame({"follower": ["u0", "u2"], "followee": ["u1", "u1"]}).to_parquet(path)
    dataset, _ = load_dataset(("log.csv", _log(30).encode()))
    dataset, report = load_friends(path, dataset, directed=True)
    assert report.ok and dataset.friends["user_id"].tolist() == ["u0", "u2"] and dataset.sources["friends"] == path.name
