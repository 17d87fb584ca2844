"""The project's errors: one base class, a few subclasses that say what to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class BudgetOptError(ValueError):
    """Base of every error budgetopt raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what it holds and how to fix it."""

    row: int | None
    column: str | None
    value: object
    message: str
    fix: str
    file: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        place = ", ".join(where) or "input"
        value = self.value.item() if hasattr(self.value, "item") else self.value  # numpy's scalars as Python's
        shown = "" if value is None or value == "" else f" (value: {value!r})"
        return f"{place}: {self.message}{shown}. Fix: {self.fix}"


class InputError(BudgetOptError):
    """The touchpoint table cannot be used; carries every problem found, not just the first.

    `notices` says what was done to the file before the problems were found (rows skipped, ...).
    """

    def __init__(self, problems: list[Problem], source: str | None = None, notices: Sequence[str] = ()):
        self.problems = list(problems)
        self.source = source
        self.notices = list(notices)
        head = f"{len(self.problems)} problem(s) in {source or 'the touchpoint table'}:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))

    def as_table(self):
        """The problems as a pandas DataFrame (file, row, column, value, problem, fix)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "file": p.file or self.source,
                    "row": p.row,
                    "column": p.column,
                    "value": "" if p.value is None else str(p.value),
                    "problem": p.message,
                    "fix": p.fix,
                }
                for p in self.problems
            ],
            columns=["file", "row", "column", "value", "problem", "fix"],
        )


class ScenarioError(BudgetOptError):
    """A scenario (budget, rules, overrides) refers to something that does not exist or cannot hold."""


class SolverError(BudgetOptError):
    """The chosen solver is not available; the message says how to install or pick another."""
