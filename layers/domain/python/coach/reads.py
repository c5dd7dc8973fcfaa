"""Independent reads, a few at a time: a handler that reads one object or query per client of a campaign waits on
the network for each in turn otherwise (the summary's 400 reads at 100 clients). Results keep the items' order and
the first read's error is raised, as a plain loop would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

READS_IN_FLIGHT = 8

Item = TypeVar("Item")
Result = TypeVar("Result")


def read_each(read: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
    if len(items) <= 2:  # a client's two questions: not worth a thread
        return [read(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(READS_IN_FLIGHT, len(items)), thread_name_prefix="read") as pool:
        return list(pool.map(read, items))
