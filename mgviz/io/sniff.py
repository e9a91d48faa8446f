"""Byte-level checks: what a file really is, and how its text is encoded.

Everything here looks at raw bytes *before* any parser touches them, so a
pickle, an archive or a web page saved under a ``.csv`` name is refused with a
message that says what the file looks like – and nothing in mgviz ever
unpickles anything.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer

PARQUET_MAGIC = b"PAR1"

#: (magic prefix, what the file looks like, what to do about it). Checked in order.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one too)", "unzip it, or save the sheet as CSV"),
    (b"PK\x05\x06", "an (empty) zip archive", "unzip it, or save the sheet as CSV"),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract it first"),
    (b"Rar!\x1a\x07", "a RAR archive", "extract it first"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", "decompress it first"),
    (b"\x04\x22\x4d\x18", "an lz4-compressed file", "decompress it first"),
    (b"\x93NUMPY", "a NumPy array file (.npy)", "export the table as CSV or Parquet"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file", "export the table as CSV or Parquet"),
    (b"ARROW1", "an Arrow/Feather file", "save it as Parquet"),
    (b"SQLite format 3\x00", "an SQLite database", "export the table as CSV or Parquet"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "a Microsoft Office file (e.g. an old .xls workbook)",
        "save the sheet as CSV",
    ),
    (b"%PDF", "a PDF document", "export the table as CSV"),
    (b"\x89PNG", "a PNG image", "upload the data table instead"),
    (b"\xff\xd8\xff", "a JPEG image", "upload the data table instead"),
    (b"GIF8", "a GIF image", "upload the data table instead"),
    (b"\x7fELF", "an executable program", "upload the data table instead"),
    (b"MZ\x90\x00", "a Windows executable", "upload the data table instead"),
)

_PICKLE_HINT = "looks like a Python pickle, which mgviz never loads (loading one can run arbitrary code); export the table as CSV or Parquet"
#: Extensions of pickle-based formats; refused by name even before looking inside.
PICKLE_EXTENSIONS = frozenset({".pkl", ".pickle", ".pck", ".joblib", ".jbl", ".npz", ".sav", ".dill"})
#: Valid second bytes of a zlib stream (CMF 0x78): how joblib's compressed pickles start.
_ZLIB_FLG = frozenset({0x01, 0x5E, 0x9C, 0xDA})
#: Protocol 0/1 pickles are (mostly) text; they open with these opcodes and memoise with ``p0``.
_TEXT_PICKLE = re.compile(rb"^(\((d|l|t)p0\n|\((i|c)?[A-Za-z_][\w.]*\n[\w.]+\n|c[A-Za-z_][\w.]*\n[\w.]+\n|[}\]]q\x00)")

#: Guesses charset-normalizer makes for short Western-European text; all read best as Windows-1252.
_WESTERN = frozenset(
    {
        "ascii", "latin_1", "iso8859_1", "cp1252", "iso8859_15", "cp1250", "iso8859_2", "mac_roman",
        "mac_latin2", "cp850", "cp437", "cp1257", "iso8859_4", "iso8859_9", "cp1254", "iso8859_10",
        "iso8859_13", "iso8859_14", "iso8859_16", "iso8859_3", "cp858", "mac_iceland", "mac_turkish",
    }
)  # fmt: skip


def refusal(data: bytes, ext: str) -> str | None:
    """Say what ``data`` looks like when it is clearly not a table mgviz reads, else ``None``.

    Parameters
    ----------
    data : bytes
        The whole file.
    ext : str
        Lower-case extension of the file name (``".csv"``), "" when unknown.

    Returns
    -------
    str or None
        A sentence fragment starting with "looks like ..." / "is named ...".
    """
    if ext in PICKLE_EXTENSIONS:
        return f"is named {ext}, a pickle-based format, which mgviz never loads; export the table as CSV or Parquet"
    if is_pickle(data):
        return _PICKLE_HINT
    for magic, what, todo in _MAGIC:
        if data.startswith(magic):
            return f"looks like {what}, not a table; {todo}"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "looks like a tar archive, not a table; extract it first"
    if len(data) > 1 and data[0] == 0x78 and data[1] in _ZLIB_FLG:
        return "looks like zlib-compressed data (joblib stores pickles this way), which mgviz never loads"
    return None


def is_pickle(data: bytes) -> bool:
    """Whether ``data`` starts like a pickle (any protocol). Only looks; never loads."""
    if len(data) >= 2 and data[0] == 0x80 and data[1] <= 5:
        return True  # PROTO opcode + protocol number: protocols 2-5
    # Protocols 0/1 have no header: they open with a container / global opcode, memoise objects
    # ("p0\n", "q\x00") and end with STOP ('.'). All three together do not happen in a table.
    if not _TEXT_PICKLE.match(data):
        return False  # checked first: the searches below scan the whole file
    memo = b"\np0\n" in data or b"\np1\n" in data or b"q\x00" in data[:64]
    return memo and data.rstrip().endswith(b".")


def decode(data: bytes) -> tuple[str, str]:
    """Decode a text file, detecting its encoding.

    UTF-8 (with or without BOM) and UTF-16/32 with BOM are recognised exactly;
    anything else is guessed with charset-normalizer when it finds a language
    (Cyrillic, Greek, CJK, ...) and read as Windows-1252 – a superset of
    Latin-1 for printable text – otherwise, because short Western files are
    often mis-guessed (as Central-European, Farsi, ...).

    Returns
    -------
    text : str
        The decoded text without BOM.
    encoding : str
        The codec used ("utf-8", "cp1252", ...).

    Raises
    ------
    ValueError
        When the bytes are not text in any encoding we could find.
    """
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError as exc:
                raise ValueError(
                    f"starts with a {codec} byte-order mark but is not valid {codec} ({exc.reason})"
                ) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = charset_normalizer.from_bytes(data).best()
    # Short files give charset-normalizer no language evidence (coherence 0) and it then picks
    # an arbitrary code page; Windows-1252 is by far the likeliest non-UTF-8 encoding of a table.
    codec = "cp1252"
    if guess is not None and guess.coherence > 0 and guess.encoding not in _WESTERN:
        codec = guess.encoding
    try:
        return data.decode(codec), codec
    except (UnicodeDecodeError, LookupError):
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte, so it cannot fail.
        return data.decode("latin-1"), "latin-1"


def binary_reason(data: bytes, text: str | None = None) -> str | None:
    """Say why ``data`` is binary rather than text, else ``None``.

    NUL bytes never occur in text files (UTF-16/32 files carry a BOM and are
    decoded before this check); a high share of control characters in the
    decoded text means bytes that happened to decode but mean nothing.
    """
    if b"\x00" in data:
        return "looks like binary data, not a text table (it contains NUL bytes)"
    if text is not None:
        sample = text[:8192]
        controls = sum(1 for ch in sample if ch not in "\t\n\r\f\v" and unicodedata.category(ch) == "Cc")
        if sample and controls > 0.01 * len(sample):
            return "looks like binary data, not a text table (it is full of control characters)"
    return None


def markup_reason(text: str) -> str | None:
    """Say what a text file is when it is a web page / XML / JSON document rather than a table."""
    head = text[:2048].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<head", "<body")) or (head.startswith("<") and "<html" in head):
        return "looks like an HTML page, not a table (was a web page saved instead of the data file?)"
    if head.startswith("<?xml") or head.startswith("<"):
        return "looks like XML/markup, not a table"
    if head.startswith("{") or head.startswith("[{"):
        return "looks like JSON, not a table; convert it to CSV or Parquet"
    return None


def describe_text(data: bytes) -> str:
    """Short description of what a (non-Parquet) file looks like, for the fake-Parquet message."""
    what = refusal(data, "") or binary_reason(data)
    if what:
        return what
    try:
        text, _ = decode(data[:4096])
    except ValueError:
        return "it is not Parquet"
    return markup_reason(text) or "it looks like a text (CSV-like) file"
