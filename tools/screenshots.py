"""make screenshots: the approval page (desktop and phone) and the campaign report (report.html) from real local
campaigns, for the README."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach_local.browser import browser  # noqa: E402
from coach_local.inputs import load_event  # noqa: E402
from coach_local.lakegen import generate_lake  # noqa: E402
from coach_local.outcomes_local import DEMO_MEASUREMENT, demo_behaviour  # noqa: E402
from coach_local.runner import run_campaign  # noqa: E402
from tools.interactive_campaign import first_link, start_campaign  # noqa: E402

OUT = ROOT / "docs" / "img"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp) / "lake"
        generate_lake(lake, members=3000, clients=6, seed=5)
        links, thread = start_campaign(lake, Path(tmp) / "out")
        first = first_link(links, lambda _: True, 60, "no approval email arrived")
        with browser() as context:
            for name, viewport in (
                ("desktop", {"width": 1280, "height": 900}),
                ("phone", {"width": 390, "height": 844}),
            ):
                page = context.new_page()
                page.set_viewport_size(viewport)
                page.goto(first.link)
                page.screenshot(path=str(OUT / f"approval-{name}.png"), full_page=True)
                page.close()
        thread.join(timeout=180)
        # the report of a campaign like the demo's, answered by the demo's auto-approver (a dozen clients keep the
        # per-client tables of the picture readable)
        report_lake = Path(tmp) / "report-lake"
        demo_event = load_event(ROOT / "coach_local/events/claritin_otc.json")
        # as `coach demo`: members act after the event, and the OTC switch holds a fifth out (the outcome section)
        generate_lake(report_lake, members=6_000, clients=12, seed=7, behaviour=demo_behaviour(demo_event))
        result = run_campaign(
            demo_event,
            report_lake,
            Path(tmp) / "report-out",
            decisions={"C0003": {"account_team": "decline"}, "C0009": {"client": "decline"}},
            measurement_overrides=DEMO_MEASUREMENT,
        )
        if result.status != "SUCCEEDED":
            raise SystemExit(f"the report campaign did not succeed: {result.error}")
        with browser() as context:
            page = context.new_page()
            page.set_viewport_size({"width": 1100, "height": 900})
            page.goto((result.out_dir / "report.html").resolve().as_uri())
            page.screenshot(path=str(OUT / "report.png"), full_page=True)
            page.close()
        print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
