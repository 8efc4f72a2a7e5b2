"""The one table of bounds: every option and sources-file field that takes a number is checked
against it, on the command line (an argparse type) and in the sources file alike."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """The values a number option may take: finite, from `lo` (excluded when `above`) to
    `hi`. The same bound checks the command line (`parse`, an argparse type) and the sources
    file (`problem`), so a file cannot ask for what a run could not do."""

    lo: float
    hi: float
    whole: bool = True  # a whole number (int), else any finite number (float)
    above: bool = False  # lo itself excluded
    unit: str = ""  # "seconds", "hours": named in the message

    def range(self) -> str:
        low = f"more than {_number(self.lo)}" if self.above else f"at least {_number(self.lo)}"
        return f"{low} and at most {_number(self.hi)}"

    def kind(self) -> str:
        if self.whole:
            return "a whole number"
        return f"a number of {self.unit}" if self.unit else "a number"

    def problem(self, value: object) -> str | None:
        """What is wrong with `value` (a number as TOML or argparse gives it), or None."""
        allowed = (int,) if self.whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, allowed):
            return f"must be {self.kind()} {self.range()}, not {value!r}"
        number = float(value)  # an int beyond a float's range is inf: refused too
        if (not math.isfinite(number) or not self.lo <= number <= self.hi
                or (self.above and number == self.lo)):
            return f"must be {self.range()}, not {value!r}"
        return None

    def parse(self, text: str) -> int | float:
        """The argparse type: `text` as a number within the bound."""
        shown = text if len(text) <= 40 else text[:39] + "…"
        try:
            value: int | float = int(text) if self.whole else float(text)
        except ValueError:  # also a whole number of more than 4300 digits
            raise argparse.ArgumentTypeError(f"must be {self.kind()}, not {shown!r}") from None
        if self.problem(value) is not None:
            raise argparse.ArgumentTypeError(f"must be {self.range()}, not {shown}")
        return value


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


DAY = 86400.0
# The one table of bounds: every option and sources-file field that takes a number. Beyond
# these a run would start that many processes or tasks, never time out, or crash (an
# OverflowError in islice or a timer) instead of doing what was asked.
BOUNDS: dict[str, Bound] = {
    "workers": Bound(0, 256),  # cleaning processes
    "concurrency": Bound(1, 1024),  # requests in flight, all hosts together
    "per_host": Bound(1, 64),
    "retries": Bound(1, 20),  # attempts per page
    "timeout": Bound(0, DAY, whole=False, above=True, unit="seconds"),
    "delay": Bound(0, DAY, whole=False, unit="seconds"),
    "scheduler_timeout": Bound(0, DAY, whole=False, above=True, unit="seconds"),
    "chunk": Bound(1, 10_000),  # tasks per cluster chunk
    "max_age_hours": Bound(0, 100 * 8766, whole=False, unit="hours"),  # 100 years
    "max_pages": Bound(1, 10**9),  # per source and run
    "max_depth": Bound(0, 50),  # a site crawl's links from its start page
    "count": Bound(1, 10_000),  # positive_int: search --limit, dups --min-size
}


def bounded(name: str) -> Callable[[str], int | float]:
    """The argparse type of an option bounded by BOUNDS[name]."""
    parse = BOUNDS[name].parse

    def option_type(text: str) -> int | float:
        return parse(text)

    option_type.__name__ = name  # argparse names it in "invalid <name> value"
    return option_type


def positive_int(text: str) -> int:
    """A count from 1 to 10000 (BOUNDS["count"])."""
    return int(BOUNDS["count"].parse(text))
