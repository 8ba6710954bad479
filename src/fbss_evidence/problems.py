"""A located problem in an input file: `file:line: column: message`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int  # 1-based physical line of the CSV record (0 = the file as a whole)
    column: str  # column name, or "-" when the problem is not in one column
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


def _order(problem: Problem) -> tuple:
    """File, line, then column: "column 9" before "column 13" (a page's text is located by number)."""
    number = problem.column[7:] if problem.column.startswith("column ") else ""
    return (problem.file, problem.line, int(number) if number.isdigit() else -1, problem.column, problem.message)


class InputError(Exception):
    """Raised when an input file cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem], note: str = ""):
        self.problems = sorted(problems, key=_order)
        self.note = note  # what was not checked because of these problems
        super().__init__("\n".join(str(p) for p in self.problems))


def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory if possible."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
