"""How `coach run` starts (coach_local.runner.check_lake_while_loading): the lake is checked while the modules the
run needs load, and a bad lake is still refused before anything is started or written."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from pathlib import Path

import pytest
from coach.reads import read_each

from coach_local import runner
from coach_local.inputs import BadInput
from coach_local.lakegen import generate_lake

ROOT = Path(__file__).resolve().parents[2]
EVENT = json.loads((ROOT / "coach_local/events/claritin_otc.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lake") / "lake"
    generate_lake(folder, members=300, clients=3, seed=3)
    return folder


def test_a_bad_lake_is_refused_with_the_checks_own_message_and_nothing_written(lake, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(lake, broken)
    shutil.rmtree(broken / "members")
    with pytest.raises(BadInput) as direct:
        runner.check_lake(broken, EVENT)
    out = tmp_path / "out"
    with pytest.raises(BadInput) as refused:
        runner.run_campaign(EVENT, broken, out)
    assert str(refused.value) == str(direct.value)
    assert not out.exists()  # no staging folder, no status file: nothing started


def test_a_good_lake_passes_and_the_modules_are_loaded(lake):
    runner.check_lake_while_loading(lake, EVENT)
    assert "matplotlib.pyplot" in sys.modules and "moto.stepfunctions" in sys.modules
    assert not any(thread.name == "preload" for thread in threading.enumerate())


def test_a_module_that_fails_to_preload_does_not_stop_the_check(lake, monkeypatch, tmp_path):
    def broken_preload() -> None:
        raise RuntimeError("a module failed to load")

    monkeypatch.setattr(runner, "preload", broken_preload)
    runner.check_lake_while_loading(lake, EVENT)  # a good lake: passes
    broken = tmp_path / "broken"
    shutil.copytree(lake, broken)
    shutil.rmtree(broken / "drugs")
    with pytest.raises(BadInput, match="drugs"):  # a bad one: the check's own error, not the preload's
        runner.check_lake_while_loading(broken, EVENT)


def test_reads_keep_their_order_and_raise_the_first_error():
    assert read_each(lambda n: n * n, list(range(40))) == [n * n for n in range(40)]
    assert read_each(str, [1, 2]) == ["1", "2"]
    assert read_each(str, []) == []

    def read(n: int) -> int:
        if n in (5, 30):
            raise KeyError(n)
        return n

    with pytest.raises(KeyError) as first:
        read_each(read, list(range(40)))
    assert first.value.args == (5,)
