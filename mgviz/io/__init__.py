"""Data intake: read input files, check them, and normalise them to the canonical tables.

``read_table`` reads one file (CSV / TSV / Parquet / RecBole atomic file),
``detect_roles`` guesses which columns are ids, ratings, times and texts, and
``load_dataset`` does both for all files and returns a validated
:class:`~mgviz.schema.Dataset` with a :class:`~mgviz.errors.ValidationReport`.
Nothing here ever unpickles anything.
"""

from mgviz.io.loader import load_dataset
from mgviz.io.reader import read_table, sniff_delimiter
from mgviz.io.roles import detect_roles

__all__ = ["detect_roles", "load_dataset", "read_table", "sniff_delimiter"]
