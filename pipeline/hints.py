"""What a user can do about a refusal, in the command line's words.

The stages' messages say what happened and name no option (a library caller has none); the
commands add the way out as a Result is recorded, so the `fetches` row, the run's line and
`scrape clean` all carry it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from records import Result
from records.outcomes import FETCH_PRIVATE_ADDRESS, FETCH_ROBOTS, INPUT_REFUSED
from scraper.sources import LOCAL_FILE_REFUSED


def hint_for(outcome: str, error: str) -> str | None:
    """The option that would have let this input through, or None."""
    if outcome == FETCH_ROBOTS:
        return "use --no-robots to ignore robots.txt"
    if outcome == FETCH_PRIVATE_ADDRESS:
        return "use --allow-private to allow"
    if outcome == INPUT_REFUSED and error.startswith(LOCAL_FILE_REFUSED):
        return ("read only with --allow-local-files, or allow_local_files = true in a "
                "sources file")
    return None


def hinted(results: Iterable[Result]) -> Iterator[Result]:
    """Step: each failed Result's error followed by its hint, when it has one."""
    for result in results:
        error = result.error or result.page.error
        if error is not None and (hint := hint_for(result.outcome, error)) is not None:
            result.error = f"{error} ({hint})"
        yield result
