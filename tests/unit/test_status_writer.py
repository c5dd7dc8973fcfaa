"""The status writer keeps `coach status` live without re-reading the approvals table every few seconds: a costly
snapshot is taken again only after 19 times its cost, and meanwhile the last one is stamped again."""

import json
import threading
import time

from coach_local import status
from coach_local.status import StatusWriter


def test_a_costly_snapshot_is_stamped_again_instead_of_taken_again(tmp_path, monkeypatch):
    monkeypatch.setattr(status, "STALE_SECONDS", 0.2)  # stamped at least every 0.1 s
    taken: list[float] = []

    def take() -> dict:
        time.sleep(0.2)  # a snapshot costing 0.2 s: the next one is due 3.8 s later
        taken.append(time.time())
        return {"written_at": time.time(), "campaigns": [{"campaign_id": "c"}]}

    writer = StatusWriter(tmp_path / "status.json", take, interval=0.0)
    writer.start()
    busy = threading.Event()

    def runtime_busy() -> None:  # every function invocation says the runtime changed something
        while not busy.is_set():
            writer.changed()
            time.sleep(0.01)

    threading.Thread(target=runtime_busy, daemon=True).start()
    deadline = time.time() + 10
    while not (tmp_path / "status.json").exists() and time.time() < deadline:
        time.sleep(0.01)
    first = json.loads((tmp_path / "status.json").read_text())["written_at"]
    time.sleep(1.0)
    stamped = json.loads((tmp_path / "status.json").read_text())
    busy.set()
    writer._stop.set()
    writer._changed.set()
    writer._thread.join(timeout=5)
    assert len(taken) == 1, "a second snapshot came before 19 times the first one's cost"
    assert stamped["written_at"] > first and stamped["campaigns"] == [{"campaign_id": "c"}]
    assert stamped["final"] is False
