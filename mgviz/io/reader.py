"""Read one uploaded or local table (CSV, TSV, Parquet, RecBole atomic file) into a DataFrame.

Text tables come back with every column as strings (missing fields as NA) so
ids keep their leading zeros and a stray word in a numeric column can still be
quoted back to the user; :mod:`mgviz.io.loader` does the typing.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from mgviz import limits
from mgviz.errors import InputError, ValidationReport
from mgviz.io import sniff

#: Share of bad rows that is reported as a warning (rows skipped); more is an error.
TOLERANCE = 0.05

RECBOLE_EXTENSIONS = frozenset({".inter", ".item", ".user"})
PARQUET_EXTENSIONS = frozenset({".parquet", ".pq", ".parq"})
_RECBOLE_FIELD = re.compile(r"^(.*):(token|token_seq|float|float_seq)$")
_DELIMITERS = ",;\t|"
#: Whether bytes are only blanks; a match scans without copying (``bytes.strip`` copies a whole file).
_BLANK = re.compile(rb"[ \t\r\n]*").fullmatch

# Long free-text fields (descriptions, reviews) exceed csv's 128 KB default field limit;
# raising it is process-wide but only ever loosens a limit.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))

Source = str | os.PathLike | bytes | bytearray | BinaryIO


class ReadError(Exception):
    """A file that cannot be read at all; the message is what goes into the report."""


@dataclass
class Table:
    """A table as read from one file.

    Attributes
    ----------
    df : pandas.DataFrame
        The data, default index.
    lines : numpy.ndarray
        1-based line number of each row in the file (header = line 1).
    name : str
        File name used in messages.
    field_types : dict
        RecBole field types (``{"class": "token_seq"}``); empty for other formats.
    """

    df: pd.DataFrame
    lines: np.ndarray
    name: str
    field_types: dict[str, str] = field(default_factory=dict)


def read_table(
    source: Source,
    name: str | None = None,
    max_bytes: int | None = None,
    *,
    report: ValidationReport | None = None,
) -> pd.DataFrame:
    """Read a CSV / TSV / Parquet / RecBole atomic file into a DataFrame.

    Parameters
    ----------
    source : str, path-like, bytes or binary file-like
        A path, or the content of an upload (then ``name`` is its file name).
    name : str, optional
        File name for format detection and messages; defaults to the path's
        name or the file-like's ``name`` attribute.
    max_bytes : int, optional
        Refuse files larger than this.
    report : ValidationReport, optional
        Receives warnings (e.g. skipped ragged rows, non-UTF-8 encoding).

    Returns
    -------
    pandas.DataFrame
        Columns named as in the file (RecBole ``:type`` suffixes stripped;
        ``token_seq`` fields stay space-separated strings). Text formats give
        str columns with NA for empty fields; Parquet keeps its types.
        ``df.attrs`` holds ``"mgviz.source"`` (the file name), for RecBole
        files ``"mgviz.field_types"``, and ``"mgviz.lines"`` when rows were
        skipped, so :func:`mgviz.io.load_dataset` can take the frame later and
        still quote the right line numbers.

    Raises
    ------
    InputError
        When the file cannot be read; the report names the file and says what
        it looks like.
    """
    rep = ValidationReport()
    table = read_into(rep, source, name, max_bytes)
    if report is not None:
        report.extend(rep)
    if table is None or not rep.ok:
        raise InputError(rep)
    df = table.df
    df.attrs["mgviz.source"] = table.name
    if table.field_types:
        df.attrs["mgviz.field_types"] = dict(table.field_types)
    if not np.array_equal(table.lines, np.arange(len(df)) + 2):
        df.attrs["mgviz.lines"] = table.lines
    return df


def read_into(report: ValidationReport, source: Source, name: str | None, max_bytes: int | None) -> Table | None:
    """Read ``source``, adding its problems to ``report``; ``None`` if it cannot be used at all."""
    name = display_name(source, name)
    try:
        data = _read_bytes(source, name, max_bytes)
        return _parse(data, name, report)
    except ReadError as exc:
        report.error(name, None, str(exc))
        return None


def display_name(source: object, name: str | None) -> str:
    """File name shown in messages: the explicit name, a path's name, an upload's ``.name``, or "upload"."""
    if name:
        return Path(str(name)).name or str(name)
    if isinstance(source, str | os.PathLike):
        return Path(source).name or str(source)
    attr = getattr(source, "name", None)
    if isinstance(attr, str) and attr:
        return Path(attr).name
    return "upload"


# --------------------------------------------------------------------------- bytes
def _mb(n: int) -> str:
    return f"{n / 2**20:.3g} MB"


def _read_bytes(source: Source, name: str, max_bytes: int | None) -> bytes:
    """The file's bytes, refusing missing files and files over ``max_bytes`` before reading them whole."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise ReadError(f"file not found ({path})")
        if path.is_dir():
            raise ReadError(f"is a directory, not a file ({path})")
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise ReadError(f"is {_mb(size)}, larger than the {_mb(max_bytes)} limit")
        data = path.read_bytes()
    elif hasattr(source, "read"):
        # Read one byte past the limit: enough to know it is too big without reading it all.
        data = source.read() if max_bytes is None else source.read(max_bytes + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        raise ReadError(f"cannot read a {type(source).__name__}; give a path, bytes or an uploaded file")
    if max_bytes is not None and len(data) > max_bytes:
        size = f"{_mb(len(data))}" if not hasattr(source, "read") else f"more than {_mb(max_bytes)}"
        raise ReadError(f"is {size}, larger than the {_mb(max_bytes)} limit")
    return data


def _parse(data: bytes, name: str, report: ValidationReport) -> Table:
    """Dispatch on content first (magic bytes), then on the extension."""
    ext = _extension(name)
    if _BLANK(data) or data in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        raise ReadError("file is empty")
    if data.startswith(sniff.PARQUET_MAGIC):
        return _read_parquet(data, name)
    what = sniff.refusal(data, ext)
    if what:
        raise ReadError(what)
    if ext in PARQUET_EXTENSIONS:
        raise ReadError(f"is named {ext} but is not a Parquet file (no 'PAR1' marker); {sniff.describe_text(data)}")
    text, encoding = _decode(data, name, report)
    # pyarrow reads UTF-8 bytes: hand it the file's own bytes when they are exactly that (no second copy)
    return _read_delimited(text, name, ext, report, data if encoding == "utf-8" else None)


def _extension(name: str) -> str:
    return Path(name).suffix.lower()


def _decode(data: bytes, name: str, report: ValidationReport) -> tuple[str, str]:
    """The text and the codec it was decoded with."""
    if data[:2] not in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16/32 text legitimately contains NUL bytes
        reason = sniff.binary_reason(data)
        if reason:
            raise ReadError(reason)
    try:
        text, encoding = sniff.decode(data)
    except ValueError as exc:
        raise ReadError(str(exc)) from exc
    reason = sniff.binary_reason(b"", text) or sniff.markup_reason(text)
    if reason:
        raise ReadError(reason)
    if encoding not in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
        report.warn(name, None, f"is not UTF-8; read it as {encoding} – check that accented letters look right")
    if not text or text.isspace():  # what ``not text.strip()`` says, without copying the text
        raise ReadError("file is empty")
    return text, encoding


# --------------------------------------------------------------------------- parquet
def _read_parquet(data: bytes, name: str) -> Table:
    """Read Parquet with pyarrow (no pickle involved: pandas metadata is JSON)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # the footer first: refuse before decompressing anything (a few KB can declare billions of rows)
        footer = pq.ParquetFile(pa.BufferReader(data))
        schema, n_rows = footer.schema_arrow, footer.metadata.num_rows
        pickled = _pickled_fields(schema)
        if pickled:
            raise ReadError(
                f"declares a pickled Python type (arrow.py_extension_type, column {', '.join(pickled)}), "
                "which mgviz never loads (unpickling can run arbitrary code); write the column as plain values"
            )
        problem = limits.table_shape_problem(n_rows, len(schema))
        if problem:
            raise ReadError(problem)
        df = pq.read_table(pa.BufferReader(data)).to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise ReadError(f"is not a valid Parquet file ({exc})") from exc
    # A named or multi-level index (df.set_index("user_id").to_parquet()) holds real columns.
    if not isinstance(df.index, pd.RangeIndex) or any(n is not None for n in df.index.names):
        df = df.reset_index()
    else:
        df = df.reset_index(drop=True)
    if df.shape[1] == 0:
        raise ReadError("file is empty (a Parquet file without columns)")
    if len(df) == 0:
        raise ReadError("has a header but no data rows (a Parquet file with columns but no rows)")
    df.columns = _clean_header([str(c) for c in df.columns], name, None)
    return Table(df, np.arange(len(df)) + 2, name)


def _pickled_fields(schema) -> list[str]:
    """Columns (also nested ones) whose Arrow type is the pickle-based ``arrow.py_extension_type``.

    PyArrow >= 14.0.1 no longer unpickles it and shows the storage type with the
    extension name kept in the field metadata; either way such a file is refused.
    """
    found = []

    def walk(fld, path: str) -> None:
        meta = fld.metadata or {}
        ext = getattr(fld.type, "extension_name", None)
        if meta.get(b"ARROW:extension:name") == b"arrow.py_extension_type" or ext == "arrow.py_extension_type":
            found.append(f"'{path}'")
        for k in range(fld.type.num_fields):
            walk(fld.type.field(k), f"{path}.{fld.type.field(k).name}")

    for fld in schema:
        walk(fld, fld.name)
    return found


# --------------------------------------------------------------------------- delimited text
def _read_delimited(text: str, name: str, ext: str, report: ValidationReport, utf8: bytes | None = None) -> Table:
    """Parse delimited text; ``utf8`` is the same text as UTF-8 bytes when the file was exactly that."""
    recbole = ext in RECBOLE_EXTENSIONS or _looks_recbole(_first_line(text))
    delimiter = "\t" if recbole else sniff_delimiter(text, ext)
    # upper bounds (quoted fields may hold line breaks and delimiters), before anything is parsed
    n_newlines, n_returns = text.count("\n"), text.count("\r")
    problem = limits.table_shape_problem(max(n_newlines, n_returns), _first_line(text).count(delimiter) + 1)
    if problem:
        raise ReadError(problem)
    fast = _read_clean(text, delimiter, recbole, utf8, (n_newlines, n_returns))
    if fast is not None:
        header, df = fast
        df.columns, field_types = _header(header, recbole, name, report)
        return Table(df, np.arange(len(df), dtype=np.int64) + 2, name, field_types)
    # RecBole files are not quoted: a title may start with '"' and must stay as it is.
    header, rows, lines, ragged = _records(text, delimiter, csv.QUOTE_NONE if recbole else csv.QUOTE_MINIMAL)
    header, field_types = _header(header, recbole, name, report)
    if not rows:
        if ragged:
            examples = ", ".join(f"line {line} has {n}" for line, n in ragged[:3])
            raise ReadError(f"no data row has the {len(header)} fields of the header ({examples})")
        raise ReadError("has a header but no data rows")
    _report_ragged(report, name, len(header), ragged, len(rows), delimiter)
    columns = list(zip(*rows, strict=True))
    df = pd.DataFrame({col: _str_column(values) for col, values in zip(header, columns, strict=True)})
    return Table(df, lines, name, field_types)


def _header(header: list[str], recbole: bool, name: str, report: ValidationReport) -> tuple[list[str], dict]:
    """Column names ready for use, and the RecBole field types they declared."""
    field_types: dict[str, str] = {}
    if recbole:
        header, field_types = _strip_recbole_types(header)
    return _clean_header(header, name, report), field_types


def _read_clean(
    text: str, delimiter: str, recbole: bool, utf8: bytes | None = None, counts: tuple[int, int] | None = None
) -> tuple[list[str], pd.DataFrame] | None:
    """Fast path for the common clean file: pyarrow's CSV reader, ~15x faster than the csv module.

    Only taken when line numbers are then trivially row + 2: no blank lines, no
    lone carriage returns, no record spanning lines, no row with the wrong
    number of fields. Anything else returns ``None`` and goes through
    :func:`_records`, which tracks every line. ``utf8`` (the text's UTF-8 bytes) and ``counts``
    (of ``\\n`` and ``\\r``) spare a copy and passes over a large file when the caller has them.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # Blank lines need no search: with ignore_empty_lines=False they are one-field rows, hence invalid.
    n_newlines, n_returns = counts if counts is not None else (text.count("\n"), text.count("\r"))
    if n_returns and n_returns != text.count("\r\n"):
        return None
    newline = text.find("\n")
    first = text if newline < 0 else text[:newline]
    try:
        header = next(csv.reader([first.rstrip("\r")], delimiter=delimiter,
                                 quoting=csv.QUOTE_NONE if recbole else csv.QUOTE_MINIMAL))  # fmt: skip
    except (csv.Error, StopIteration):
        return None
    if len(header) < 2 or not header[-1].strip():
        return None  # one column (blank lines are values) or trailing delimiters: the slow path handles them
    n_lines = n_newlines + (0 if text.endswith("\n") else 1)
    names = [f"c{k}" for k in range(len(header))]
    invalid = []
    try:
        table = pacsv.read_csv(
            pa.BufferReader(utf8) if utf8 is not None else io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char=False if recbole else '"',
                newlines_in_values=not recbole,
                ignore_empty_lines=False,
                invalid_row_handler=lambda row: invalid.append(row) or "skip",
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, UnicodeError):
        return None
    if invalid or table.num_rows != n_lines - 1 or table.num_rows == 0:
        return None
    df = pd.DataFrame({name: table.column(name).to_pandas().astype("str") for name in names})
    return header, df


def _str_column(values: tuple[str, ...]) -> pd.Series:
    """Fields as a str column; empty fields are missing values."""
    s = pd.Series(values, dtype="str")
    return s.where(s != "")


def _first_line(text: str) -> str:
    """First non-blank line (any line ending), without copying the whole text."""
    pos = 0
    while pos < len(text):
        ends = [i for i in (text.find("\n", pos), text.find("\r", pos)) if i >= 0]
        end = min(ends) if ends else len(text)
        if text[pos:end].strip():
            return text[pos:end]
        pos = end + 1
    return ""


def _looks_recbole(header_line: str) -> bool:
    """A tab-separated header whose every field carries a RecBole ``:type`` suffix."""
    fields = header_line.split("\t")
    return len(fields) > 1 and all(_RECBOLE_FIELD.match(f.strip()) for f in fields)


def sniff_delimiter(text: str, ext: str = "") -> str:
    """Pick the delimiter among ``, ; TAB |``.

    Candidates are the delimiters present in the header line; the winner is the
    one whose split gives the same number of fields as the header on most of
    the first records (csv.Sniffer's guess breaks ties), because Sniffer alone
    is easily fooled by commas inside free-text fields.
    """
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]  # no half line at the end
    header = _first_line(sample)
    present = [d for d in _DELIMITERS if d in header]
    if ext in (".tsv", ".tab") and "\t" in present:
        return "\t"
    if len(present) <= 1:
        return present[0] if present else ","
    try:
        sniffed = csv.Sniffer().sniff(sample[:16384], delimiters="".join(present)).delimiter
    except csv.Error:
        sniffed = None
    scores = {d: _consistency(sample, d) for d in present}
    return max(present, key=lambda d: (scores[d], d == sniffed, -present.index(d)))


def _consistency(sample: str, delimiter: str, n: int = 50) -> float:
    """Share of the first ``n`` records with as many fields as the header (0 if the header has one field)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    records = []
    for rec in reader:
        if rec:
            records.append(len(rec))
        if len(records) > n:
            break
    if not records or records[0] < 2:
        return 0.0
    body = records[1:] or [records[0]]
    return sum(r == records[0] for r in body) / len(body)


def _records(text: str, delimiter: str, quoting: int) -> tuple[list[str], list[list[str]], np.ndarray, list]:
    """Split the text into header, good rows, their start lines, and ragged (line, n_fields) pairs.

    Blank lines are skipped. Rows longer than the header only because of
    trailing empty fields (a trailing delimiter) are trimmed, not ragged.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
    try:
        if quoting == csv.QUOTE_NONE or '"' not in text:
            # Without quotes every physical line is one record: record k is line k + 1.
            records = list(reader)
            starts = np.arange(1, len(records) + 1)
        else:
            # Quoted fields may span lines; the reader's line counter tells where each record began.
            records, start_list, prev = [], [], 0
            for rec in reader:
                records.append(rec)
                start_list.append(prev + 1)
                prev = reader.line_num
            starts = np.asarray(start_list, dtype=np.int64)
    except csv.Error as exc:
        raise ReadError(f"cannot be parsed as a table at line {reader.line_num}: {exc}") from exc
    lens = np.fromiter((len(r) for r in records), dtype=np.int64, count=len(records))
    blank = lens == 0
    ones = np.flatnonzero(lens == 1)
    blank[ones] = [not records[k][0].strip() for k in ones]
    used = np.flatnonzero(~blank)
    if not len(used):
        raise ReadError("file is empty")
    header = _trim(records[used[0]], 1)
    width = len(header)
    body = used[1:]
    for k in body[lens[body] > width]:
        records[k] = _trim(records[k], width)
        lens[k] = len(records[k])
    good = body[lens[body] == width]
    bad = body[lens[body] != width]
    rows = records[used[0] + 1 :] if len(good) == len(records) - used[0] - 1 else [records[k] for k in good]
    ragged = list(zip(starts[bad].tolist(), lens[bad].tolist(), strict=True))
    return header, rows, starts[good].astype(np.int64), ragged


def _trim(rec: list[str], width: int) -> list[str]:
    """Drop trailing empty fields beyond ``width``."""
    end = len(rec)
    while end > width and not rec[end - 1].strip():
        end -= 1
    return rec[:end]


def _strip_recbole_types(header: list[str]) -> tuple[list[str], dict[str, str]]:
    names, types = [], {}
    for col in header:
        m = _RECBOLE_FIELD.match(col.strip())
        if m:
            names.append(m.group(1))
            types[m.group(1).strip()] = m.group(2)
        else:
            names.append(col)
    return names, types


def _clean_header(header: list[str], name: str, report: ValidationReport | None) -> list[str]:
    """Strip names, name unnamed columns ``column_<k>`` and make duplicates unique (``rating.1``)."""
    out: list[str] = []
    seen: set[str] = set()
    dups: list[str] = []
    next_suffix: dict[str, int] = {}  # per repeated name: without it, k copies of one name cost O(k²)
    for k, col in enumerate(header, start=1):
        col = col.strip().lstrip("\ufeff") or f"column_{k}"
        if col in seen:
            dups.append(col)
            base, n = col, next_suffix.get(col, 1)
            while f"{base}.{n}" in seen:
                n += 1
            next_suffix[base] = n + 1
            col = f"{base}.{n}"
        seen.add(col)
        out.append(col)
    if dups and report is not None:
        names = ", ".join(f"'{d}'" for d in dict.fromkeys(dups))
        report.warn(
            name, None, f"the header repeats column name(s) {names}; later copies were renamed with .1, .2, ..."
        )
    return out


def _report_ragged(
    report: ValidationReport, name: str, width: int, ragged: list[tuple[int, int]], good: int, delimiter: str
) -> None:
    """Rows with the wrong number of fields: a few are skipped with a warning, many are an error."""
    if not ragged:
        return
    total = good + len(ragged)
    examples = ", ".join(f"line {line} has {n}" for line, n in ragged[:3])
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delimiter, repr(delimiter))
    detail = (
        f"rows with a different number of fields than the header's {width} ({examples}; "
        f"delimiter: {shown}) – often an unquoted {shown} inside a value"
    )
    rows = [line for line, _ in ragged]
    if len(ragged) <= TOLERANCE * total:
        report.warn(name, None, f"skipped {detail}", rows, len(ragged))
    else:
        report.error(name, None, detail, rows, len(ragged))
