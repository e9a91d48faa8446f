"""Segment names written by a language model: the answer checks, the OpenAI-compatible path against a real
HTTP server on 127.0.0.1 (answers, failures, the cache), ``mgviz name``, the names in the export, the report
and the Macro page, and – slow – the offline SmolLM2 model naming the sample run's segments."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from mgviz import naming
from mgviz.cli import main
from mgviz.export import profiles_frame
from mgviz.labels import LabelTerm
from mgviz.levels.macro import SegmentProfile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def profile(segment=0, cats=("cooking", "gardening"), kws=("recipe", "soil"), items=("Simply Dumplings",)):
    terms = [LabelTerm(c, "category", 2.0, 0.3, 1.0) for c in cats] + [LabelTerm(k, "keyword", 3.0, 0.01, 1.0)
                                                                        for k in kws]  # fmt: skip
    return SegmentProfile(segment, f"{' & '.join(cats)} · {', '.join(kws)}", 10, 0.5,
                          [(c, 0.4) for c in cats], [(k, 1.0) for k in kws],
                          [(f"i{n}", t, 5) for n, t in enumerate(items)], {"age": {"mean": 40.0, "median": 40.0}},
                          terms)  # fmt: skip


# ------------------------------------------------------------------------------------------- answers
def test_parse_answer_reads_name_and_description():
    assert naming.parse_answer(" Gardening Fans\nDescription: They grow things. A lot.") == (
        "Gardening Fans", "They grow things. A lot.")  # fmt: skip
    assert naming.parse_answer('**Name:** "Jazz Fans".\n**Description:** Night owls.') == ("Jazz Fans", "Night owls.")
    assert naming.parse_answer("") == ("", "")


@pytest.mark.parametrize(
    ("name", "description", "why"),
    [
        ("", "These users cook. They garden.", "no name"),
        ("Segment", "These users cook and garden a lot. They love it.", "says nothing"),
        ("Simply Dumplings", "These users cook and garden a lot. They love it.", "item title"),
        ("The Simply Dumpling Club", "These users cook and garden a lot. They love it.", "item title"),
        ("Weekend Warriors", "These users cook and garden a lot. They love it.", "mentions none"),
        ("Home Cooks", "Cooks.", "too short"),
        ("Home Cooks", "cook cook cook cook cook and more cook cook cook cook.", "repeats"),
        ("A Very Long Name For Home Cooks Who Garden", "These users cook and garden a lot. They love it.", "too long"),
    ],
)
def test_check_answer_refuses_what_a_stakeholder_should_not_see(name, description, why):
    facts = naming.segment_facts(profile())
    assert why in naming.check_answer(name, description, facts)


def test_check_answer_takes_a_grounded_name_and_refuses_it_twice():
    facts = naming.segment_facts(profile())
    good = ("Home Cooks and Gardeners", "These users cook at home and garden. They like simple recipes.")
    assert naming.check_answer(*good, facts) == ""
    assert "another segment" in naming.check_answer(*good, facts, taken=["home cooks and gardeners"])


def test_chinese_segments_need_a_chinese_answer():
    facts = naming.segment_facts(profile(cats=("烹饪",), kws=("食谱",), items=("家常菜",)))
    assert "Chinese" in naming.check_answer("Home Cooks", "These users cook at home. They like recipes.", facts)
    assert naming.check_answer("烹饪爱好者", "这些用户喜欢在家做饭。他们收藏很多食谱。", facts) == ""


# ---------------------------------------------------------------------- an OpenAI-compatible server
class FakeLLM(BaseHTTPRequestHandler):
    """``/v1/chat/completions`` as an OpenAI-compatible server answers it; ``server.mode`` picks the behaviour."""

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        mode = server.mode if server.fail_after is None or len(server.requests) <= server.fail_after else "500"
        if mode == "slow":
            server.release.wait(20)  # held until the test is done with the client's timeout
            return self._send(200, b"{}")
        if mode in ("500", "401"):
            return self._send(int(mode), b'{"error": {"message": "model overloaded"}}')
        if mode == "garbage":
            return self._send(200, b"<html>not json</html>")
        user = body["messages"][-1]["content"]
        liked = user.split("They like: ", 1)[1].split(".", 1)[0].split(", ")[0]
        name = "Segment" if mode == "generic" else f"{liked.title()} Enthusiasts"
        content = f"Name: {name}\nDescription: These users like {liked}. They return to it every week."
        self._send(200, json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode())

    def _send(self, code: int, data: bytes):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def llm_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
    server.mode, server.requests, server.fail_after, server.release = "ok", [], None, threading.Event()
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def test_openai_compatible_endpoint_names_every_segment_and_caches(llm_server, tmp_path, monkeypatch):
    monkeypatch.setenv("TEAM_LLM_KEY", "s3cret")
    profiles = [profile(0), profile(1, cats=("jazz",), kws=("piano",), items=("Blue Train",))]
    backend = naming.OpenAICompatible(llm_server.url, "team-model", "TEAM_LLM_KEY", timeout=5)
    store = naming.NameStore(tmp_path / "names.json")
    seen = []
    names = naming.name_segments(profiles, backend, store, seed=0, progress=lambda i, n, w: seen.append((i, n)))
    assert [n.name for n in names] == ["Cooking Enthusiasts", "Jazz Enthusiasts"]
    assert all(n.ok and n.model == "team-model @ " + llm_server.url for n in names)
    assert seen[-1] == (2, 2)
    first = llm_server.requests[0]
    assert first["path"] == "/v1/chat/completions" and first["auth"] == "Bearer s3cret"
    assert first["body"]["model"] == "team-model" and first["body"]["messages"][0]["role"] == "system"
    # stored on disk, keyed by the facts: a new store reads them back, the server is not asked again
    asked = len(llm_server.requests)
    llm_server.mode = "500"
    again = naming.name_segments(profiles, backend, naming.NameStore(tmp_path / "names.json"))
    assert [n.name for n in again] == [n.name for n in names] and len(llm_server.requests) == asked
    named = naming.attach(profiles, naming.NameStore(tmp_path / "names.json"))
    assert [p.display_name for p in named] == ["Cooking Enthusiasts", "Jazz Enthusiasts"]


def test_refused_answers_keep_the_keyword_label_and_say_why(llm_server):
    llm_server.mode = "generic"
    backend = naming.OpenAICompatible(llm_server.url, "m", None, timeout=5)
    (name,) = naming.name_segments([profile()], backend, attempts=3)
    assert not name.ok and "says nothing" in name.reason and "keyword label stays" in name.reason
    assert len(llm_server.requests) == 3
    assert naming.attach([profile()], None)[0].display_name == profile().label


@pytest.mark.parametrize(
    ("mode", "words"),
    [("500", "answered HTTP 500: {\"error\": {\"message\": \"model overloaded\"}}"), ("401", "check the key in K"),
     ("garbage", "did not answer with a chat completion"), ("slow", "did not answer within 0.5 s")],
)  # fmt: skip
def test_a_bad_endpoint_gives_a_clear_message(llm_server, monkeypatch, mode, words):
    monkeypatch.setenv("K", "x")
    llm_server.mode = mode
    backend = naming.OpenAICompatible(llm_server.url, "m", "K", timeout=0.5)
    with pytest.raises(naming.NamingError) as err:
        naming.name_segments([profile()], backend)
    assert words in str(err.value) and "no segment was named, the keyword labels stay" in str(err.value)


def test_an_endpoint_failing_half_way_keeps_the_names_written(llm_server, tmp_path):
    llm_server.fail_after = 1
    store = naming.NameStore(tmp_path / "names.json")
    backend = naming.OpenAICompatible(llm_server.url, "m", None, timeout=5)
    with pytest.raises(naming.NamingError, match="1 of 2 segments were named before it"):
        naming.name_segments([profile(0), profile(1, cats=("jazz",))], backend, store)
    assert len(naming.NameStore(tmp_path / "names.json").entries) == 1


def test_unusable_endpoints_are_refused_before_any_request(tmp_path):
    with socketserver_port() as port:
        closed = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(naming.NamingError, match="refused the connection"):
        naming.OpenAICompatible(closed, "m", None, timeout=2).complete([{"role": "user", "content": "x"}], 0, 0)
    with pytest.raises(naming.NamingError, match="not an http"):
        naming.make_backend("openai", "m", "localhost:8000")
    with pytest.raises(naming.NamingError, match="needs its base URL"):
        naming.make_backend("openai", "m", None)
    with pytest.raises(naming.NamingError, match="NO_SUCH_KEY_VAR"):
        naming.make_backend("openai", "m", "http://127.0.0.1:1/v1", "NO_SUCH_KEY_VAR")
    with pytest.raises(naming.NamingError, match="does not exist"):
        naming.make_backend("local", str(tmp_path / "missing.gguf"))


class socketserver_port:
    """A port that was free a moment ago and has nothing listening on it now."""

    def __enter__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


def test_an_unreadable_names_file_is_rebuilt_not_trusted(tmp_path):
    path = tmp_path / "names.json"
    path.write_text("{not json", encoding="utf-8")
    store = naming.NameStore(path)
    assert store.entries == {}
    store.put(naming.segment_facts(profile()), naming.SegmentName("Home Cooks", "They cook.", "m"), {}, 0)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == naming.NameStore.FORMAT


# --------------------------------------------------------------------- a run: CLI, export, report
@pytest.fixture()
def run_copy(tmp_path):
    from helpers_app import tiny_model

    from mgviz.runs import save_run

    return save_run(tiny_model(), tmp_path / "run")


def test_mgviz_name_writes_names_the_export_report_and_reopened_run_show(llm_server, run_copy, tmp_path, capsys):
    from mgviz.report_html import segment_report_html
    from mgviz.runs import load_run

    args = ["name", "--run", str(run_copy), "--backend", "openai", "--llm-url", llm_server.url, "--llm-model", "m",
            "--llm-key-env", "", "--quiet"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    model = load_run(run_copy)
    assert all(p.name is not None and p.name.ok for p in model.profiles)
    for p in model.profiles:
        assert f"segment {p.segment}: {p.name.name} – " in out
        assert p.name.name.split()[0].lower() in p.label.lower()  # the fake names the first category
    assert model.segment_labels == [p.name.name for p in model.profiles]
    frame = profiles_frame(model)
    assert (frame["segment_name"] != "").all() and (frame["name_model"] == f"m @ {llm_server.url}").all()
    assert (frame["segment_label"] == [model.profiles[s].label for s in frame["segment"]]).all()
    html = segment_report_html(model, include_map=False)
    assert "written by a language model" in html and model.profiles[0].name.description in html
    out_csv = tmp_path / "profiles.csv"
    assert main(["export", "--run", str(run_copy), "--profiles", str(out_csv)]) == 0
    assert pd.read_csv(out_csv)["segment_name"].notna().all()


def test_mgviz_name_with_a_failing_endpoint_exits_2_in_plain_words(llm_server, run_copy, capsys):
    llm_server.mode = "500"
    code = main(["name", "--run", str(run_copy), "--backend", "openai", "--llm-url", llm_server.url,
                 "--llm-model", "m", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: the naming endpoint") and "HTTP 500" in err and "Traceback" not in err
    assert "keyword labels stay" in err


def test_macro_page_names_segments_through_the_endpoint(llm_server, run_copy, monkeypatch):
    from helpers_app import HashEncoder
    from streamlit.testing.v1 import AppTest

    import ui.cache

    monkeypatch.setenv("MGVIZ_RUN", str(run_copy))
    monkeypatch.setattr(ui.cache, "encoder_for", lambda name: HashEncoder())
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/macro.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.radio(key="macro.llm.kind").set_value("openai").run()
    at.text_input(key="macro.llm.url").input(llm_server.url)
    at.text_input(key="macro.llm.model").input("team-model")
    at.text_input(key="macro.llm.env").input("")
    at.button(key="macro.llm.go").click().run()
    job = at.session_state["macro.name_job"]
    assert job.wait(60) and job.error is None
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = "\n".join(str(c.value) for c in at.caption)
    assert "written by a language model (team-model @ " in captions
    headers = "\n".join(str(m.value) for m in at.markdown)
    assert all(f"{n.name}</b>" in headers for n in job.names)
    assert (run_copy / naming.NAMES_FILE).is_file()  # cached with the run
    # the other pages' legends show the names too
    assert at.session_state["mgviz.model"].segment_labels == [n.name for n in job.names]


def test_macro_page_says_why_naming_could_not_start(run_copy, monkeypatch):
    from helpers_app import HashEncoder
    from streamlit.testing.v1 import AppTest

    import ui.cache

    monkeypatch.setenv("MGVIZ_RUN", str(run_copy))
    monkeypatch.setattr(ui.cache, "encoder_for", lambda name: HashEncoder())
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/macro.py").run()
    at.radio(key="macro.llm.kind").set_value("openai").run()
    at.text_input(key="macro.llm.url").input("localhost:8000")
    at.button(key="macro.llm.go").click().run()
    assert not at.exception
    assert any("not an http(s) URL" in str(e.value) for e in at.error)


# ------------------------------------------------------------------------ the offline model (slow)
@pytest.mark.slow
def test_local_model_names_every_sample_segment_from_its_own_words(sample_model):
    """SmolLM2-135M-Instruct, offline: every segment of the sample run gets a checked name, and each name
    mentions a distinctive category or keyword of its own segment (checked here by word stems, apart from
    :func:`mgviz.naming.check_answer`)."""
    backend = naming.LocalModel()
    names = naming.name_segments(sample_model.profiles, backend, seed=0)
    assert len(names) == len(sample_model.profiles) == 6
    for p, n in zip(sample_model.profiles, names, strict=True):
        assert n.ok, (p.label, n.name, n.reason)
        facts = naming.segment_facts(p)
        terms = [t.lower() for t in facts["categories"] + facts["keywords"]]
        words = [w.strip("'’s,.").lower() for w in n.name.replace("-", " ").split()]
        assert any(w[:4] == t[:4] for w in words if len(w) >= 4 for t in terms), (n.name, terms)
        assert len(n.description.split()) >= 5
    assert len({n.name.lower() for n in names}) == len(names)
