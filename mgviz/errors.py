"""Problems with user input, collected and reported all at once."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Problem:
    """One problem found in an input file.

    ``rows`` are 1-based line numbers of the data rows in the file as a
    spreadsheet shows them (header = line 1), at most a handful of examples.
    """

    severity: str  # "error" or "warning"
    file: str
    column: str | None
    message: str
    rows: list[int] = field(default_factory=list)
    count: int = 0

    def __str__(self) -> str:
        where = self.file
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.count:
            text += f" ({self.count} row{'s' if self.count != 1 else ''})"
        if self.rows:
            text += " e.g. line " + ", ".join(str(r) for r in self.rows[:5])
        return text


@dataclass
class ValidationReport:
    """Every problem found while loading, errors and warnings together."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, file, column, message, rows=(), count=0) -> None:
        self.problems.append(Problem("error", file, column, message, list(rows)[:5], int(count)))

    def warn(self, file, column, message, rows=(), count=0) -> None:
        self.problems.append(Problem("warning", file, column, message, list(rows)[:5], int(count)))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def extend(self, other: ValidationReport) -> None:
        self.problems.extend(other.problems)

    def to_frame(self) -> pd.DataFrame:
        """A table the app can show: severity, file, column, message, count, example lines."""
        return pd.DataFrame(
            [
                {
                    "severity": p.severity,
                    "file": p.file,
                    "column": p.column or "",
                    "message": p.message,
                    "count": p.count,
                    "example lines": ", ".join(map(str, p.rows)),
                }
                for p in self.problems
            ],
            columns=["severity", "file", "column", "message", "count", "example lines"],
        )


class InputError(Exception):
    """Input that cannot be used; carries the full report.

    ``str(err)`` is a one-line summary naming file, column and example rows.
    """

    def __init__(self, report: ValidationReport | str, file: str = "", column: str | None = None):
        if isinstance(report, str):
            rep = ValidationReport()
            rep.error(file, column, report)
            report = rep
        self.report = report
        first = report.errors[0] if report.errors else None
        msg = str(first) if first else "invalid input"
        more = len(report.errors) - 1
        if more > 0:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        super().__init__(msg)
