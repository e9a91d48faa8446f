"""Hostile, odd, random and too-large inputs.

Whatever a user uploads, the outcome is a :class:`~mgviz.schema.Dataset` and a
model, or an :class:`~mgviz.errors.InputError` / clear ``ValueError`` – never
another exception, never a hang, never code run from the file, never an
out-of-memory kill. tests/test_io.py already fuzzes the loader with random
frames; here the random inputs go through the whole build, through every text
encoding, and the files are hostile on purpose.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import pickle
import signal
import struct
import tarfile
import time
import zipfile
import zlib
from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.extra import pandas as hpd
from packaging.version import Version

from mgviz import limits
from mgviz.errors import InputError
from mgviz.io import load_dataset
from mgviz.pipeline import BuildConfig, build
from mgviz.schema import Dataset

TINY = {"k": 2, "umap": False, "k_range": [], "iterations": 2, "factors": 4}
LOG = b"user_id,item_id,rating\nu1,i1,5\nu2,i2,3\nu1,i2,4\n"


# --------------------------------------------------------------------------- guards
class Hang(BaseException):
    """Raised by :func:`within` (a BaseException, so no ``except Exception`` in the library swallows it)."""


@contextlib.contextmanager
def within(seconds: float):
    """Fail with :class:`Hang` if the block runs longer than ``seconds`` (real time, interrupts the block)."""

    def alarm(_signum, _frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def tiny_encoder(encoder):
    """The session's model without the disk cache: random fuzz texts must not pile up in ~/.cache/mgviz."""
    from mgviz.encoder import DEFAULT_MODEL, Encoder

    session = encoder.for_model(DEFAULT_MODEL) if encoder.is_auto else encoder
    session._load_model()  # loaded before the unpickling guard is set
    enc = Encoder(session.model, cache_dir=False)
    enc.backend = session.backend  # share the loaded model
    enc.encode(["warm up"])
    return enc


@pytest.fixture(autouse=True)
def _never_unpickle(monkeypatch):
    """Any attempt to unpickle anything while a test runs fails it – whatever the file looked like."""

    def boom(*_args, **_kwargs):
        raise AssertionError("mgviz must never unpickle user input")

    class NoUnpickler:
        def __init__(self, *_args, **_kwargs):
            boom()

    for name in ("loads", "load"):
        monkeypatch.setattr(pickle, name, boom)
    monkeypatch.setattr(pickle, "Unpickler", NoUnpickler)
    monkeypatch.setattr(pickle, "_Unpickler", NoUnpickler)  # the pure-Python one (joblib subclasses it)
    monkeypatch.setattr(pd, "read_pickle", boom)


@pytest.fixture
def sentinel(tmp_path):
    """A file that only a payload's ``os.system`` call would create; checked after the test."""
    path = tmp_path / "PAYLOAD_RAN"
    yield path
    assert not path.exists(), "a payload from an input file was executed"


class Payload:
    """Pickles to ``os.system(command)``: what a malicious pickle/joblib upload does when loaded."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _event(label: str) -> None:
    """Count outcomes in ``--hypothesis-show-statistics`` (only inside a Hypothesis test)."""
    if currently_in_test_context():
        event(label)


def _outcome(*sources, **kw) -> Dataset | None:
    """Load; an InputError must name a file in every problem; anything else propagates (and fails)."""
    try:
        dataset, _ = load_dataset(*sources, **kw)
    except InputError as exc:
        assert exc.report.errors, "InputError without an error in its report"
        assert all(p.file and p.message for p in exc.report.errors)
        assert str(exc).startswith(exc.report.errors[0].file)
        _event("refused by the loader (InputError)")
        return None
    _event("loaded")
    return dataset


def _refused(name: str, data: bytes) -> str:
    """``data`` uploaded as ``name`` must be refused with one error naming the file; returns the message."""
    with pytest.raises(InputError) as exc:
        load_dataset((name, data))
    errors = exc.value.report.errors
    assert len(errors) == 1 and errors[0].file == name, errors
    return errors[0].message


def _check_model(dataset: Dataset, model) -> None:
    shape = (len(dataset.users), len(dataset.items))
    assert set(model.levels) == {"macro", "meso", "micro", "semantic", "time"}
    for level, scores in model.scores(np.arange(shape[0])).items():
        assert scores.shape == shape, level
        assert np.isfinite(scores).all(), level
    assert len(model.segments) == shape[0] and len(model.profiles) >= 1
    recs = model.recommend(n=3)
    assert np.isfinite(recs["score"]).all()
    assert set(recs["user_id"]) <= set(dataset.user_ids) and set(recs["item_id"]) <= set(dataset.item_ids)


def _build_or_clear_error(dataset: Dataset, config: BuildConfig, encoder) -> None:
    try:
        model = build(dataset, config, encoder)
    except ValueError as exc:  # InputError is not a ValueError: only the pipeline's own clear refusals
        assert type(exc) is ValueError and str(exc) and "Traceback" not in str(exc)
        _event("refused by the build (ValueError)")
        return
    _check_model(dataset, model)
    _event("built")


# --------------------------------------------------------------------------- whole build path
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=25)
_UID = st.one_of(
    st.sampled_from(["u1", "u2", "ü", "用户", "😀 x", "0012", "12", "12.0", "-3", "=cmd|' /C calc'!A0", "NaN"]),
    st.integers(-(2**70), 2**70).map(str),
    st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=6),
)
_IID = st.one_of(
    st.sampled_from(["i1", "i2", "é", "商品", "9" * 40, "+x", "@a", " i3 "]),
    st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=6),
)
_RATING = st.one_of(
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1e-320, 1e308, "4,5", "nan", "inf", "five", ""]),
)
_TIME = st.one_of(
    st.integers(-(2**40), 2**62),
    st.sampled_from(["2020-01-01", "1970-01-01T00:00:00Z", "9999-12-31", "1600000000000", "0", "yesterday"]),
)
_PROSE = st.one_of(
    _TEXT, st.sampled_from(["great space film", "好看的电影，很好看", "café crème brûlée", "a b c d e f"])
)
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-32")


def _column(draw, strategy, n):
    return draw(st.lists(strategy, min_size=n, max_size=n))


@st.composite
def _inputs(draw):
    """A log (random optional columns, duplicates, conflicts) with optional items / users tables."""
    users = draw(st.lists(_UID, min_size=1, max_size=4, unique=True))
    items = draw(st.lists(_IID, min_size=1, max_size=5, unique=True))
    n = draw(st.integers(1, 10))
    log = pd.DataFrame({"user_id": _column(draw, st.sampled_from(users), n),
                        "item_id": _column(draw, st.sampled_from(items), n)})  # fmt: skip
    for name, strategy in (("rating", _RATING), ("timestamp", _TIME), ("review", _PROSE)):
        if draw(st.booleans()):
            log[name] = _column(draw, strategy, n)
    if draw(st.booleans()):  # repeated rows and conflicting repeats (same pair, other values)
        log = pd.concat([log, log.sample(frac=1.0, random_state=draw(st.integers(0, 9)))], ignore_index=True)
    item_table = user_table = None
    if draw(st.booleans()):
        item_table = pd.DataFrame({
            "item_id": items, "title": _column(draw, _PROSE, len(items)),
            "genres": _column(draw, st.sampled_from(["", "a|b", "Drama", "喜剧|动作", "x"]), len(items)),
        })  # fmt: skip
        if draw(st.booleans()):  # the same item twice with another title
            item_table = pd.concat([item_table, item_table.iloc[:1].assign(title="conflict")], ignore_index=True)
    if draw(st.booleans()):
        user_table = pd.DataFrame({
            "user_id": users, "age": _column(draw, st.one_of(st.integers(0, 120), st.none(), st.just("x")), len(users)),
            "bio": _column(draw, _PROSE, len(users)),
        })  # fmt: skip
    config = BuildConfig(
        **{**TINY, "k": draw(st.integers(1, 3)), "k_range": draw(st.sampled_from([[], [2, 3]]))},
        micro_model=draw(st.sampled_from(["als", "ease", "als+ease"])),
        half_life_days=draw(st.sampled_from([None, 180.0, 1e-9])),
        use_user_text=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31 - 1)),
    )
    return log, item_table, user_table, config, draw(st.sampled_from((*ENCODINGS, None)))


@pytest.mark.slow
@settings(max_examples=25, deadline=timedelta(seconds=60), suppress_health_check=list(HealthCheck))
@given(_inputs())
def test_property_random_files_in_any_encoding_load_and_build(tiny_encoder, case):
    """Random logs (+ items / users), written as CSV in a random encoding or passed as frames, end in a
    validated model or a clear refusal."""
    log, item_table, user_table, config, encoding = case

    def source(df, name):
        if df is None or encoding is None:
            return df
        return name, df.to_csv(index=False).encode(encoding, errors="replace")

    with within(120):
        dataset = _outcome(source(log, "log.csv"), source(item_table, "items.csv"), source(user_table, "users.csv"))
        if dataset is not None:
            _build_or_clear_error(dataset, config, tiny_encoder)


_ID_ELEMENTS = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5)
)


@pytest.mark.slow
@settings(max_examples=25, deadline=timedelta(seconds=60), suppress_health_check=list(HealthCheck))
@given(
    hpd.data_frames(
        [
            hpd.column("user", elements=_ID_ELEMENTS, dtype=object),
            hpd.column("item", elements=st.one_of(st.integers(0, 3), st.integers(2**62, 2**63 - 1)), dtype=object),
            hpd.column("score", elements=st.floats(allow_nan=True, allow_infinity=True, width=64), dtype=float),
            hpd.column("when", elements=st.integers(0, 2**53), dtype=np.int64),
        ],
        index=hpd.range_indexes(min_size=0, max_size=8),
    )
)
def test_property_typed_frames_build(tiny_encoder, frame):
    """Typed frames from code (huge ints, NaN / inf scores, empty and one-row tables) through the build."""
    with within(120):
        dataset = _outcome(frame, user_col="user", item_col="item", rating_col="score", time_col="when")
        if dataset is not None:
            assert dataset.interactions["rating"].map(np.isfinite).all()
            _build_or_clear_error(dataset, BuildConfig(**TINY), tiny_encoder)


def test_identical_users_and_a_k_range_build(tiny_encoder):
    """Regression (found by the property test above): users with identical histories made K-means find
    fewer segments than K and ``silhouette_score`` raise from inside the build."""
    log = b"user_id,item_id\na,x\nb,x\nc,x\n"
    dataset, _ = load_dataset(("same.csv", log))
    model = build(dataset, BuildConfig(**{**TINY, "k_range": [2, 3]}), tiny_encoder)
    _check_model(dataset, model)
    assert model.k_scores is not None and list(model.k_scores.columns) == ["k", "inertia", "silhouette"]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"user_id,item_id\nu,i\n", id="one-row"),
        pytest.param(b"user_id,item_id,rating,timestamp\nu,i,5,1\nu,i,1,1\nu,i,5,1\n", id="conflicting-repeats"),
        pytest.param(f"user_id,item_id\n{2**70},{-(2**70)}\n{'9' * 300},i\n".encode(), id="huge-ids"),
        pytest.param("user_id,item_id,review\n😀,商品,très bien\n\u202eevil,\u0301i,ok\n".encode(), id="unicode-ids"),
        pytest.param(b"user_id,item_id,rating\nu,i,-5\nv,i,0\n", id="non-positive-ratings"),
    ],
)
def test_odd_but_valid_logs_build(tiny_encoder, data):
    dataset, _ = load_dataset(("odd.csv", data))
    model = build(dataset, BuildConfig(**TINY), tiny_encoder)
    _check_model(dataset, model)


# --------------------------------------------------------------------------- encodings
_PRINTABLE = ("L", "M", "N", "P", "S", "Zs")


def _words(max_codepoint: int | None = None, extra: str = ""):
    chars = st.characters(categories=_PRINTABLE, max_codepoint=max_codepoint)
    if extra:
        chars = chars | st.sampled_from(extra)
    return st.text(chars, min_size=1, max_size=12).map(str.strip).filter(bool)


_ALPHABETS = {"latin-1": _words(0xFF), "cp1252": _words(0xFF, "€‚„…‘’“”–—™š")}


@settings(max_examples=80, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(ENCODINGS))
def test_property_every_encoding_is_read_or_refused_clearly(data, encoding):
    """UTF-8 (± BOM) and UTF-16/32 (with BOM) give back exactly the text written; Latin-1 / cp1252 are
    read with a warning that they are not UTF-8 (or refused clearly); nothing else happens."""
    words = _ALPHABETS.get(encoding, _words())
    rows = data.draw(st.lists(st.tuples(words, words), min_size=1, max_size=6))
    frame = pd.DataFrame({"user_id": [f"u{k}" for k in range(len(rows))],
                          "item_id": [f"i{k}" for k in range(len(rows))],
                          "title": [title for title, _ in rows], "review": [review for _, review in rows]})  # fmt: skip
    text = frame.to_csv(index=False)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    with within(30):
        dataset = _outcome(("log.csv", data))
        report = None if dataset is None else load_dataset(("log.csv", data))[1]
    if encoding.startswith(("utf-8", "utf-16", "utf-32")):
        assert dataset is not None
        got = dataset.interactions.set_index("item_id")["text"].to_dict()
        assert got == {f"i{k}": review.strip() for k, (_, review) in enumerate(rows)}
        assert dataset.items.set_index("item_id")["title"].to_dict() == {
            f"i{k}": title.strip() for k, (title, _) in enumerate(rows)
        }
    elif dataset is not None and not text.isascii():
        assert any("not UTF-8" in p.message for p in report.warnings)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        pytest.param("user_id,item_id\nü,i\n".encode("utf-16-le"), "NUL", id="utf-16-le-without-BOM"),
        pytest.param("user_id,item_id\nü,i\n".encode("utf-16-be"), "NUL", id="utf-16-be-without-BOM"),
        pytest.param("user_id,item_id\nü,i\n".encode("utf-32-le"), "NUL", id="utf-32-without-BOM"),
        pytest.param(b"\xef\xbb\xbfuser_id,item_id\n\xff\xfe,i\n", "utf-8-sig", id="utf-8-BOM-then-invalid"),
        pytest.param(b"\xff\xfe" + "user_id,item_id\nu,i\n".encode("utf-16-le")[:-1], "utf-16", id="utf-16-truncated"),
    ],
)
def test_broken_encodings_are_clear_errors(data, needle):
    assert needle in _refused("enc.csv", data)


def test_utf32_with_bom_and_mixed_encodings():
    ds, _ = load_dataset(("u32.csv", "user_id,item_id\nü,商品\n".encode("utf-32")))
    assert ds.interactions[["user_id", "item_id"]].values.tolist() == [["ü", "商品"]]
    # UTF-8 text with one stray cp1252 byte (an edit in another program): read, with a warning
    mixed = "user_id,item_id,title\nu,i,naïve\n".encode() + b"v,j,caf\xe9\n"
    ds, report = load_dataset(("mixed.csv", mixed))
    assert len(ds.interactions) == 2 and any("not UTF-8" in p.message for p in report.warnings)


# --------------------------------------------------------------------------- hostile files
NAMES = ("log.csv", "log.tsv", "log.parquet", "log.inter", "log.pkl", "log")


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("name", NAMES)
def test_pickle_payloads_are_refused_and_never_run(protocol, name, sentinel):
    data = pickle.dumps(Payload(f"touch {sentinel}"), protocol=protocol)
    message = _refused(name, data)
    assert "pickle" in message


def test_pickle_text_inside_a_csv_is_only_text(sentinel):
    """A protocol-0 pickle pasted under a CSV header is at most odd text: loaded as cells, never unpickled."""
    data = b"user_id,item_id\n" + pickle.dumps(Payload(f"touch {sentinel}"), protocol=0)
    _outcome(("log.csv", data))


@pytest.mark.parametrize(
    "compress",
    [0, 3, ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3)],
    ids=["raw", "zlib", "gzip", "bz2", "lzma", "xz"],
)
@pytest.mark.parametrize("name", ["model.joblib", "log.csv"])
def test_joblib_payloads_are_refused(compress, name, sentinel, tmp_path):
    joblib = pytest.importorskip("joblib")
    path = tmp_path / "payload.bin"
    joblib.dump({"model": Payload(f"touch {sentinel}"), "weights": np.arange(3)}, path, compress=compress)
    _refused(name, path.read_bytes())


def test_numpy_object_arrays_are_refused(sentinel):
    arr = np.array([Payload(f"touch {sentinel}")], dtype=object)
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    assert "NumPy" in _refused("arr.csv", buf.getvalue())
    buf = io.BytesIO()
    np.savez(buf, a=arr)
    assert "zip archive" in _refused("arr.csv", buf.getvalue())
    assert "pickle" in _refused("arr.npz", buf.getvalue())


@pytest.fixture
def _no_decompression(monkeypatch):
    """Archives are refused by their first bytes; nothing may even start decompressing them."""

    def boom(*_args, **_kwargs):
        raise AssertionError("mgviz must not decompress an uploaded archive")

    for module, names in ((zlib, ["decompress", "decompressobj"]), (gzip, ["decompress", "GzipFile", "open"]),
                          (bz2, ["decompress", "BZ2File"]), (lzma, ["decompress", "LZMAFile"]),
                          (zipfile, ["ZipFile"]), (tarfile, ["open"])):  # fmt: skip
        for name in names:
            monkeypatch.setattr(module, name, boom)


def _bombs() -> dict[str, bytes]:
    """Small files that expand to ~100 MB of zeros (a real 'zip bomb' just nests more of these)."""
    zeros = bytes(100 * 2**20)
    some = zeros[: 20 * 2**20]  # bz2 / xz are slow to write; 20 MB still packs into a few hundred bytes
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("interactions.csv", zeros)
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w") as t:
        info = tarfile.TarInfo("interactions.csv")
        info.size = 4
        t.addfile(info, io.BytesIO(b"a,b\n"))
    return {
        "zip": zbuf.getvalue(),
        "gzip": gzip.compress(zeros, 9),
        "bz2": bz2.compress(some, 9),
        "xz": lzma.compress(some),
        "zlib": zlib.compress(zeros, 9),
        "tar": tbuf.getvalue(),
    }


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return _bombs()


@pytest.mark.parametrize("kind", ["zip", "gzip", "bz2", "xz", "zlib", "tar"])
@pytest.mark.parametrize("name", ["log.csv", "log.csv.gz", "log.parquet"])
def test_archives_and_bombs_are_refused_without_decompressing(bombs, kind, name, _no_decompression):
    data = bombs[kind]
    if kind != "tar":
        assert len(data) < 2**20, "the bomb should be small on disk"
    t = time.perf_counter()
    with within(10):
        message = _refused(name, data)
    assert time.perf_counter() - t < 5
    assert "looks like" in message, message


@pytest.fixture(scope="module")
def parquet_bomb() -> bytes:
    """~70 KB of Parquet declaring 11 million rows (all null): decoded it would be hundreds of MB."""
    n = limits.max_table_rows() + 1
    table = pa.table({"user_id": pa.nulls(n, pa.string()), "item_id": pa.nulls(n, pa.string())})
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=n)
    return buf.getvalue()


def test_parquet_bomb_is_refused_from_its_footer(parquet_bomb, monkeypatch):
    assert len(parquet_bomb) < 2**20
    read = pq.read_table
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: pytest.fail("the rows were decoded") or read(*a, **k))
    message = _refused("bomb.parquet", parquet_bomb)
    assert f"{limits.max_table_rows() + 1:,} rows" in message and "GiB" in message


@settings(max_examples=100, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_property_fake_parquet_is_always_a_clear_error(body):
    with within(30):
        message = _refused("fake.parquet", b"PAR1" + body + b"PAR1")
    assert "Parquet" in message or "empty" in message


def _real_parquet() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["i1", "i2"]}).to_parquet(buf, index=False)
    return buf.getvalue()


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d[: len(d) // 2] + b"PAR1", id="truncated"),
        pytest.param(lambda d: d[:-8] + struct.pack("<I", 2**31 - 1) + b"PAR1", id="footer-length-2GB"),
        pytest.param(lambda d: d[:-8] + struct.pack("<I", len(d) - 12) + b"PAR1", id="footer-length-whole-file"),
        pytest.param(lambda d: d[:8] + os.urandom(len(d) - 16) + d[-8:], id="random-body"),
    ],
)
def test_damaged_parquet_is_a_clear_error(mutate):
    assert "Parquet" in _refused("damaged.parquet", mutate(_real_parquet()))


def _parquet_with_pickled_type(sentinel, nested: bool) -> bytes:
    """A real Parquet file whose schema declares ``arrow.py_extension_type`` carrying a pickled payload.

    PyArrow < 14.0.1 unpickled that metadata on read (CVE-2023-47248): reading the file ran the payload.
    """
    meta = {b"ARROW:extension:name": b"arrow.py_extension_type",
            b"ARROW:extension:metadata": pickle.dumps(Payload(f"touch {sentinel}"))}  # fmt: skip
    evil = pa.field("profile", pa.binary(), metadata=meta)
    if nested:
        evil = pa.field("extra", pa.struct([evil]))
        values = pa.array([{"profile": b"x"}, {"profile": b"y"}], type=evil.type)
    else:
        values = pa.array([b"x", b"y"])
    schema = pa.schema([pa.field("user_id", pa.string()), pa.field("item_id", pa.string()), evil])
    table = pa.table([pa.array(["u1", "u2"]), pa.array(["i1", "i2"]), values], schema=schema)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


@pytest.mark.parametrize("nested", [False, True], ids=["column", "nested-field"])
def test_parquet_with_a_pickled_extension_type_is_refused(sentinel, nested):
    assert Version(pa.__version__) >= Version("14.0.1"), "PyArrow < 14.0.1 unpickles extension types on read"
    data = _parquet_with_pickled_type(sentinel, nested)
    message = _refused("evil.parquet", data)
    assert "arrow.py_extension_type" in message and "never loads" in message
    assert ("'extra.profile'" if nested else "'profile'") in message


HOSTILE = {
    "html": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "xml-entities": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>',
    "json": b'[{"user_id": "u1", "item_id": "i1"}]',
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
    "png": b"\x89PNG\r\n\x1a\n" + bytes(64),
    "elf": b"\x7fELF\x02\x01\x01" + bytes(64),
    "windows-exe": b"MZ\x90\x00" + bytes(64),
    "sqlite": b"SQLite format 3\x00" + bytes(100),
    "xlsx": b"PK\x03\x04" + bytes(64),
    "old-xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64),
    "hdf5": b"\x89HDF\r\n\x1a\n" + bytes(64),
    "feather": b"ARROW1\x00\x00" + bytes(64),
    "nul-in-csv": b"user_id,item_id\nu1,i\x001\n",
    "control-chars": bytes(range(1, 32)) * 40,
    "empty": b"",
    "only-bom": b"\xef\xbb\xbf",
    "only-newlines": b"\n\r\n\n",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_kinds_are_refused(kind):
    with within(10):
        assert _refused(f"{kind}.csv", HOSTILE[kind])


# CSV-ish text: random cells, delimiters, quotes and line ends (random bytes alone are nearly always refused)
_CSVISH = st.lists(
    st.lists(st.text(st.sampled_from('ab1.-é,;\t|" \r'), max_size=6), min_size=1, max_size=5),
    min_size=1, max_size=8,
).map(lambda rows: "\n".join(",".join(r) for r in [["user_id", "item_id"], *rows]).encode())  # fmt: skip


@settings(max_examples=150, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2048), _CSVISH), st.sampled_from(["x.csv", "x.tsv", "x.parquet", "x.inter", "x"]))
def test_property_random_bytes_load_or_clear_error(data, name):
    with within(30):
        _outcome((name, data))


# --------------------------------------------------------------------------- size limits
def test_upload_limit_states_the_limit_in_mb():
    limits.check_upload_size(limits.MAX_UPLOAD_BYTES, "ok.csv")
    with pytest.raises(InputError) as exc:
        limits.check_upload_size(limits.MAX_UPLOAD_BYTES + 1, "big.csv")
    assert str(exc.value).startswith("big.csv: ") and f"{limits.MAX_UPLOAD_MB} MB upload limit" in str(exc.value)
    with pytest.raises(InputError, match=r"log\.csv: is 3\.0 MB, larger than the 2 MB upload limit"):
        limits.check_upload_size(3 * 2**20, "log.csv", limit_mb=2)


def test_upload_over_the_limit_is_refused_before_it_is_read():
    class Upload(io.BytesIO):
        name = "big.csv"

        def read(self, size=-1):
            assert size != -1, "read the whole upload instead of one byte past the limit"
            return super().read(size)

    upload = Upload(LOG * 1000)
    with pytest.raises(InputError, match="big.csv: is more than"):
        load_dataset(upload, max_bytes=1024)


def test_wide_header_is_refused_fast():
    header = ",".join(f"c{k}" for k in range(limits.MAX_COLUMNS + 1))
    with within(10):
        message = _refused("wide.csv", f"{header}\n{header}\n".encode())
    assert f"{limits.MAX_COLUMNS + 1:,} columns" in message


def test_repeated_header_names_are_renamed_in_linear_time():
    """Regression: k copies of one column name took O(k²) to rename (8,000 took 13 s; 50,000 would hang)."""
    n = limits.MAX_COLUMNS
    data = ",".join(["user_id", "item_id"] + ["x"] * (n - 2)) + "\n" + ",".join(["u", "i"] + ["1"] * (n - 2)) + "\n"
    from mgviz.io.reader import _clean_header

    t = time.perf_counter()
    names = _clean_header(["x"] * 50_000, "wide.csv", None)
    assert time.perf_counter() - t < 2
    assert names[:3] == ["x", "x.1", "x.2"] and len(set(names)) == 50_000
    assert _clean_header(["a", "a.1", "a", "a"], "f", None) == ["a", "a.1", "a.2", "a.3"]
    with within(30):
        ds, report = load_dataset(("dups.csv", data.encode()))
    assert len(ds.interactions) == 1 and any("repeats column name" in p.message for p in report.warnings)


def test_too_many_rows_are_refused_before_parsing(monkeypatch):
    monkeypatch.setenv(limits.MODEL_GB_ENV, "0.0001")  # ~179 rows
    rows = limits.max_table_rows()
    data = b"user_id,item_id\n" + b"u,i\n" * (rows + 5)
    message = _refused("long.csv", data)
    assert f"{rows:,} that fit" in message and limits.MODEL_GB_ENV in message
    load_dataset(("short.csv", b"user_id,item_id\n" + b"u,i\n" * (rows - 5)))


def test_model_guard_names_the_figures_and_the_limit(monkeypatch):
    monkeypatch.delenv(limits.MODEL_GB_ENV, raising=False)
    with pytest.raises(InputError) as exc:
        limits.check_model_size(2_000_000, 400_000, 40_000_000, "log_40m.csv", ease=False)
    message = str(exc.value)
    for needle in ("log_40m.csv: ", "2,000,000 users × 400,000 items", "40,000,000 interactions", "12 GiB limit",
                   limits.MODEL_GB_ENV, "the log 22.4 GiB", "shorter log"):  # fmt: skip
        assert needle in message, (needle, message)
    # no users × items term any more: a shop of 33k × 6.7k (1.2M interactions) and 200k × 40k (10M) fit
    assert limits.check_model_size(33_333, 6_666, 1_200_000, ease=False) < 2 * 2**30
    assert limits.check_model_size(200_000, 40_000, 10_000_000, ease=False) < limits.model_budget_bytes()
    # EASE's items × items inverse is what refuses a big catalogue, and the message says what to change
    with pytest.raises(InputError, match="ease_max_items"):
        limits.check_model_size(10_000, 30_000, 1_000_000, ease=True)
    monkeypatch.setenv(limits.MODEL_GB_ENV, "128")
    assert limits.check_model_size(2_000_000, 400_000, 40_000_000, ease=False) > 12 * 2**30
    for bad in ("lots", "-1", "0", "nan", "inf"):
        monkeypatch.setenv(limits.MODEL_GB_ENV, bad)
        with pytest.raises(ValueError, match=limits.MODEL_GB_ENV):
            limits.model_budget_bytes()


def test_build_refuses_up_front(monkeypatch):
    """Over the budget, build() stops before its first stage: no progress, no encoder, no arrays."""
    dataset, _ = load_dataset(("log.csv", LOG))
    monkeypatch.setenv(limits.MODEL_GB_ENV, "1e-7")

    class NoEncoder:
        def encode(self, *_args, **_kwargs):
            raise AssertionError("the encoder ran before the size check")

    stages = []
    with pytest.raises(InputError, match=r"log\.csv: 2 users × 2 items \(3 interactions\) is too large"):
        build(dataset, BuildConfig(**TINY), NoEncoder(), progress=lambda *a: stages.append(a))
    assert stages == []
