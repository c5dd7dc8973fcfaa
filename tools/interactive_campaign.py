"""The screenshot tools' shared step: the Claritin event run interactively over a lake in a thread, each approval
link appended to a list as its email is sent, and the first link a tool wants waited for."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coach_local.inputs import load_event
from coach_local.runner import run_campaign

ROOT = Path(__file__).resolve().parent.parent
EVENT = ROOT / "coach_local/events/claritin_otc.json"


def start_campaign(lake: Path, out: Path, timeout: float = 120) -> tuple[list[Any], threading.Thread]:
    """The campaign running (a day a tenth of a second, as the demo), and the list its links arrive in."""
    links: list[Any] = []
    thread = threading.Thread(
        target=run_campaign,
        kwargs={
            "event": load_event(EVENT),
            "lake_dir": lake,
            "out_dir": out,
            "interactive": True,
            "on_link": links.append,
            "time_scale": 1 / 8640,
            "timeout": timeout,
        },
        daemon=True,
    )
    thread.start()
    return links, thread


def first_link(links: list[Any], wanted: Callable[[Any], bool], seconds: float, missing: str) -> Any:
    """The first link `wanted` accepts, once it arrives; SystemExit(`missing`) after `seconds` without one."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = next((link for link in list(links) if wanted(link)), None)
        if found is not None:
            return found
        time.sleep(0.1)
    raise SystemExit(missing)
