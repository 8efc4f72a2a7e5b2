"""One stream of items through a list of steps (the style of datatrove's pipelines).

A run's readers (CLI targets, URL lists, sitemaps and feeds, a sources file, a web archive)
yield `Item`s into one stream: a FetchTask to fetch, a Page in hand to clean, or a Result
already finished (a sitemap read, a page skipped as fresh). Each step takes the stream and
yields it on, turning the items it is for into the next kind and passing the others by, so
nothing travels beside the stream. After the last cleaning step every item is a Result.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from records import FetchTask, Page, Result

Item = FetchTask | Page | Result
Step = Callable[[Iterable[Item]], Iterator[Item]]
T = TypeVar("T")


def only(kind: type[T], stage: Callable[[Iterable[T]], Iterator[Any]]) -> Step:
    """`stage` applied to the items of `kind`; every other item passes by it, yielded right
    after the stage's next output (or at the end), so it is recorded as it comes.

    A stage that reads ahead (the fetcher, a process pool) holds the items of other kinds it
    passes over until its next output: they should be light ones (tasks, finished Results),
    which is why a run without tasks has no fetching step at all."""
    def step(items: Iterable[Item]) -> Iterator[Item]:
        waiting: deque[Item] = deque()

        def mine() -> Iterator[T]:
            for item in items:
                if isinstance(item, kind):
                    yield item
                else:
                    waiting.append(item)

        for out in stage(mine()):
            while waiting:
                yield waiting.popleft()
            yield out
        while waiting:
            yield waiting.popleft()

    step.__name__ = f"only({kind.__name__}, {getattr(stage, '__name__', type(stage).__name__)})"
    return step


def finished(items: Iterable[Item]) -> Iterator[Result]:
    """The stream once every item is a Result (the step before the store)."""
    for item in items:
        if not isinstance(item, Result):  # a plan without the step for this kind of item
            raise TypeError(f"{type(item).__name__} {getattr(item, 'url', '')!r} reached the "
                            f"end of the steps unprocessed")
        yield item


def run_steps(items: Iterable[Item], steps: Sequence[Step]) -> Iterator[Item]:
    """`items` through each step in turn (lazily: nothing runs before it is asked for)."""
    stream: Iterable[Item] = items
    for step in steps:
        stream = step(stream)
    return iter(stream)
