"""coach.memo: a key asked for by many threads at once is computed once; the memo stays bounded."""

import threading
import time

import pytest
from coach.memo import memo_once


def test_a_key_asked_for_by_many_threads_at_once_is_computed_once():
    calls: list[str] = []

    @memo_once(maxsize=4)
    def slow(key: str) -> str:
        calls.append(key)
        time.sleep(0.05)  # long enough that every thread asks before the first answer is stored
        return key.upper()

    start = threading.Barrier(16)
    answers: list[str] = []

    def ask(key: str) -> None:
        start.wait()
        answers.append(slow(key))

    threads = [threading.Thread(target=ask, args=("ab" if i % 2 else "cd",)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == ["ab", "cd"]
    assert sorted(answers) == ["AB"] * 8 + ["CD"] * 8


def test_the_least_recently_used_key_is_forgotten_beyond_maxsize():
    calls: list[int] = []

    @memo_once(maxsize=2)
    def double(n: int) -> int:
        calls.append(n)
        return 2 * n

    assert [double(1), double(2), double(1), double(3), double(2)] == [2, 4, 2, 6, 4]
    assert calls == [1, 2, 3, 2]  # 2 was the least recently used when 3 came in


def test_an_error_is_not_remembered():
    attempts: list[int] = []

    @memo_once(maxsize=2)
    def flaky(n: int) -> int:
        attempts.append(n)
        if len(attempts) == 1:
            raise RuntimeError("first time fails")
        return n

    with pytest.raises(RuntimeError):
        flaky(5)
    assert flaky(5) == 5 and attempts == [5, 5]
