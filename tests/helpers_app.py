"""Tiny synthetic data, a fast hashing text encoder and a small built run for the app / plot / report tests.

The data have three planted user groups, each preferring two of six item
categories, so every level has something to find. The run is built once per
test process (UMAP is skipped – its 2-D map is a PCA – and the text encoder is
a hashing stand-in) and saved into a temporary folder with ``save_run``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from mgviz.io import load_dataset
from mgviz.pipeline import BuildConfig, build
from mgviz.runs import save_run

CATEGORIES = {
    "sci-fi": ["space", "alien", "galaxy", "robot", "starship"],
    "fantasy": ["dragon", "quest", "wizard", "sword", "kingdom"],
    "cooking": ["recipe", "pasta", "spice", "kitchen", "bread"],
    "gardening": ["soil", "seeds", "roses", "compost", "garden"],
    "mystery": ["detective", "clue", "murder", "alibi", "suspect"],
    "romance": ["love", "wedding", "kiss", "heart", "letters"],
}
GROUPS = [("sci-fi", "fantasy"), ("cooking", "gardening"), ("mystery", "romance")]
N_USERS, N_ITEMS, PER_USER = 90, 60, 14


class HashEncoder:
    """Deterministic bag-of-words hashing encoder (32 dimensions) standing in for sentence-transformers."""

    model = "hash-test-encoder"
    dimension = 32

    def encode(self, texts, progress=None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", str(text).lower()):
                h = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
                out[i, h % self.dimension] += 1.0 if h & 1 << 20 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out = out / np.where(norms > 0, norms, 1.0)
        if progress:
            progress("encode", len(texts), len(texts))
        return out


def tiny_tables(seed: int = 0) -> dict[str, pd.DataFrame]:
    """The three input tables (interactions, items, users) as DataFrames with source column names."""
    rng = np.random.default_rng(seed)
    cats = list(CATEGORIES)
    items = []
    for i in range(N_ITEMS):
        cat = cats[i % len(cats)]
        words = rng.choice(CATEGORIES[cat], 3, replace=False)
        items.append(
            {
                "item_id": f"i{i:03d}",
                "title": f"The {words[0].title()} {words[1].title()} {i}",
                "description": f"A story about {words[0]}, {words[1]} and {words[2]}.",
                "categories": cat if i % 7 else f"{cat}|{cats[(i + 1) % len(cats)]}",
            }
        )
    users, rows = [], []
    start = np.datetime64("2025-01-01T00:00:00")
    for u in range(N_USERS):
        group = GROUPS[u % len(GROUPS)]
        liked = [i for i in range(N_ITEMS) if cats[i % len(cats)] in group]
        other = [i for i in range(N_ITEMS) if i not in liked]
        chosen = list(rng.choice(liked, PER_USER - 3, replace=False)) + list(rng.choice(other, 3, replace=False))
        days = np.sort(rng.integers(0, 300, len(chosen)))
        for item, day in zip(chosen, days, strict=True):
            rows.append(
                {
                    "user_id": f"u{u:03d}",
                    "item_id": f"i{item:03d}",
                    "rating": int(rng.integers(3, 6)) if item in liked else int(rng.integers(1, 4)),
                    "timestamp": str(start + np.timedelta64(int(day), "D") + np.timedelta64(int(u), "m")),
                }
            )
        users.append(
            {
                "user_id": f"u{u:03d}",
                "age": int(20 + (u * 7) % 50),
                "gender": "FM"[u % 2],
                "bio": f"I love {CATEGORIES[group[0]][u % 5]} and {CATEGORIES[group[1]][(u + 2) % 5]}.",
            }
        )
    return {"interactions": pd.DataFrame(rows), "items": pd.DataFrame(items), "users": pd.DataFrame(users)}


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


def tiny_files() -> dict[str, bytes]:
    """The tables as CSV file contents, keyed by role."""
    return {role: csv_bytes(frame) for role, frame in tiny_tables().items()}


def tiny_friends(seed: int = 0) -> pd.DataFrame:
    """Friend edges of the tiny users: each has 3 friends, mostly in their own group (u % 3), some not,
    and a few users (u % 10 == 9) have none – the social level must leave those out."""
    rng = np.random.default_rng(seed + 7)
    rows, pairs = [], set()
    for u in range(N_USERS):
        if u % 10 == 9:
            continue
        same = [v for v in range(N_USERS) if v % 3 == u % 3 and v != u and v % 10 != 9]
        other = [v for v in range(N_USERS) if v % 3 != u % 3 and v % 10 != 9]
        for v in [*rng.choice(same, 2, replace=False), rng.choice(other)]:
            pair = (min(u, int(v)), max(u, int(v)))
            if pair not in pairs:  # undirected: each friendship once
                pairs.add(pair)
                rows.append({"user_id": f"u{u:03d}", "friend_id": f"u{int(v):03d}", "weight": 1.0 + (u + v) % 2})
    return pd.DataFrame(rows)


def tiny_dataset(friends: bool = False):
    files = tiny_files()
    dataset, _ = load_dataset(
        ("interactions.csv", files["interactions"]), ("items.csv", files["items"]), ("users.csv", files["users"])
    )
    if friends:
        from mgviz.io.friends import load_friends

        dataset, _ = load_friends(("friends.csv", csv_bytes(tiny_friends())), dataset)
    return dataset


def tiny_config(**overrides) -> BuildConfig:
    base = {"k": 3, "seed": 0, "factors": 8, "iterations": 5, "umap": False, "k_range": [2, 3, 4, 5]}
    return BuildConfig(**{**base, **overrides})


@functools.lru_cache(maxsize=2)
def tiny_model(k: int = 3):
    """A built model on the tiny data; its 2-D map is a PCA of the user vectors."""
    from sklearn.decomposition import PCA

    model = build(tiny_dataset(), tiny_config(k=k), HashEncoder())
    model.umap_xy = PCA(n_components=2, random_state=0).fit_transform(model.user_vectors).astype(np.float32)
    return model


@functools.lru_cache(maxsize=1)
def tiny_social_model():
    """:func:`tiny_model` built with :func:`tiny_friends`: it has a social level."""
    from sklearn.decomposition import PCA

    model = build(tiny_dataset(friends=True), tiny_config(), HashEncoder())
    model.umap_xy = PCA(n_components=2, random_state=0).fit_transform(model.user_vectors).astype(np.float32)
    return model


@functools.lru_cache(maxsize=1)
def tiny_social_run_dir() -> Path:
    """:func:`tiny_social_model` saved as a run (once per process)."""
    folder = Path(tempfile.mkdtemp(prefix="mgviz-test-run-")) / "tiny-social"
    save_run(tiny_social_model(), folder)
    return folder


@functools.lru_cache(maxsize=1)
def tiny_run_dir() -> Path:
    """The tiny model saved as a run (once per process)."""
    folder = Path(tempfile.mkdtemp(prefix="mgviz-test-run-")) / "tiny"
    save_run(tiny_model(), folder)
    return folder
