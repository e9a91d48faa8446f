"""Small, odd and degenerate logs, as a new user brings them: each one either builds with a clear
warning or stops with exit code 2 and one line that names the file and says what to do – never a
traceback, an empty message or a library's own words (solvers, numpy scalars, warnings classes)."""

from __future__ import annotations

import pytest

from mgviz.cli import main

#: Words that belong to a library's internals, never to a message for an analyst.
LIBRARY_WORDS = ("Traceback", "np.float64", "numpy", "sklearn", "scikit", "solver", "ConvergenceWarning",
                 "UserWarning", "RuntimeWarning", "scipy", "implicit.", "torch", "samples of at least",
                 "learn_weights_stacking", "KeyError", "IndexError", "ValueError")  # fmt: skip

ITEMS = "item_id,title,genres\na,Red apple,fruit\nb,Blue berry,fruit\nc,Carrot cake,baking|sweet\nd,Dark bread,baking\n"


def _rows(n_users: int, per_user: int, n_items: int = 4, rating=None) -> str:
    lines = ["user_id,item_id,rating,timestamp"]
    items = "abcd"[:n_items] if n_items <= 4 else [f"i{j}" for j in range(n_items)]
    for u in range(n_users):
        for j in range(per_user):
            r = rating if rating is not None else 1 + (u + j) % 5
            lines.append(f"u{u},{items[(u + j) % len(items)]},{r},{1_600_000_000 + 3600 * (u * per_user + j)}")
    return "\n".join(lines) + "\n"


LOGS = {
    # name: (interactions text or bytes, items text or None, what must happen)
    "latin-1 file of a few rows": (
        "user_id,item_id,rating\nJosé,café,5\nJosé,crème,4\nZoë,café,3\nZoë,brûlée,5\n".encode("latin-1"),
        None,
        "build",
    ),
    "one interaction per user": (_rows(8, 1), ITEMS, "build"),
    "a single user": (_rows(1, 4), ITEMS, "build"),
    "constant ratings": (_rows(12, 3, rating=4), ITEMS, "build"),
    "ids that look like formulas": (
        "user_id,item_id\n=1+1,+cmd\n=1+1,-x\n@sum,+cmd\n@sum,@item\n-u,-x\n-u,@item\n",
        None,
        "build",
    ),
    "a single item": ("user_id,item_id\nu1,a\nu2,a\nu3,a\nu4,a\n", None, "build"),
    "two users two items": ("user_id,item_id\nu1,a\nu2,b\n", None, "build"),
    "all timestamps equal": (_rows(10, 3).replace(",1600", ",1500").replace("0000000", "0000000"), ITEMS, "build"),
    "no ratings, no time": (
        "user_id,item_id\n" + "".join(f"u{u},{'abcd'[u % 4]}\nu{u},{'abcd'[(u + 1) % 4]}\n" for u in range(10)),
        ITEMS,
        "build",
    ),  # fmt: skip
    "all ratings zero": (_rows(10, 3, rating=0), ITEMS, "build"),
    "every user saw every item": (_rows(6, 4), ITEMS, "build"),
    "items without titles or categories": (_rows(10, 3), "item_id\na\nb\nc\nd\n", "build"),
    "one category only": (_rows(10, 3), "item_id,title,genres\na,A,x\nb,B,x\nc,C,x\nd,D,x\n", "build"),
    "unicode and emoji ids": ("user_id,item_id\n🙂,☕\n🙂,茶\n用户,☕\n用户,🍰\nü,茶\nü,🍰\n", None, "build"),
    "one heavy user among single ones": (
        "user_id,item_id\n" + "".join(f"heavy,{c}\n" for c in "abcd") + "".join(f"s{j},a\n" for j in range(6)),
        ITEMS,
        "build",
    ),
    "duplicated rows only": ("user_id,item_id\nu1,a\nu1,a\nu1,a\nu2,b\nu2,b\n", None, "build"),
    "header only": ("user_id,item_id,rating\n", None, "refuse"),
    "no item column": ("user_id,rating\nu1,5\nu2,4\n", None, "refuse"),
    "every rating missing": ("user_id,item_id,rating\nu1,a,\nu2,b,\n", None, "refuse"),
    "a binary file": (b"\x00\x01\x02\x03garbage\xff\xfe" * 20, None, "refuse"),
    "items table unrelated to the log": (_rows(6, 2), "item_id,title\nzz,Zed\nyy,Why\n", "build"),
}


@pytest.mark.parametrize("name", sorted(LOGS))
def test_degenerate_log_builds_with_a_warning_or_is_refused_clearly(name, tmp_path, capsys):
    data, items, expected = LOGS[name]
    log = tmp_path / "log.csv"
    log.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    args = ["build", "--interactions", str(log), "--out", str(tmp_path / "run"), "--no-umap", "--cache-dir",
            str(tmp_path / "cache")]  # fmt: skip
    if items:
        (tmp_path / "items.csv").write_text(items, encoding="utf-8")
        args += ["--items", str(tmp_path / "items.csv")]
    code = main(args)
    err = capsys.readouterr().err
    for word in LIBRARY_WORDS:
        assert word not in err, (word, err)
    if expected == "build":
        assert code == 0, err
        assert (tmp_path / "run" / "manifest.json").is_file()
        rec = main(["recommend", "--run", str(tmp_path / "run"), "--all-users", "--n", "3"])
        assert rec == 0, capsys.readouterr().err
    else:
        assert code == 2
        lines = [ln for ln in err.strip().splitlines() if ln.startswith("error:")]
        assert len(lines) == 1 and "log.csv" in lines[0] and len(lines[0]) > 30, err


def test_auto_weights_on_a_log_too_small_to_tune_fall_back_with_the_reason(tmp_path, capsys):
    log = tmp_path / "log.csv"
    log.write_text(_rows(8, 1), encoding="utf-8")
    code = main(["build", "--interactions", str(log), "--out", str(tmp_path / "run"), "--no-umap"])
    err = capsys.readouterr().err
    assert code == 0
    assert "to tune weights" in err and "using the default weights" in err, err


def test_k_lowered_for_few_users_or_few_distinct_profiles_is_said(tmp_path, capsys):
    log = tmp_path / "log.csv"
    log.write_text("user_id,item_id\nu1,a\nu2,b\nu3,a\n", encoding="utf-8")
    # EASE alone (no ALS factors): u1 and u3 have exactly the same interest vector
    (tmp_path / "items.csv").write_text(ITEMS, encoding="utf-8")
    args = ["build", "--interactions", str(log), "--items", str(tmp_path / "items.csv"), "--out", str(tmp_path / "run"),
            "--no-umap", "--micro-model", "ease"]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "K = 6 segments asked for, but the log has 3 users: K = 3" in err, err
    assert "distinct interest profiles, so K = 2 segments instead of 3" in err, err
    assert "(3 users, 4 items, 2 segments)" in err
    manifest = (tmp_path / "run" / "manifest.json").read_text()
    assert "distinct interest profiles" in manifest
