"""make screenshots (the brief's part): the account team's approval page with the pharmacist's brief, from a real
local campaign, and the client's one-page PDF brief as the approval API serves it, for the README."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.brief.pdf import brief_pdf  # noqa: E402
from coach.brief.service import compute_briefs  # noqa: E402
from coach.brief.views import view  # noqa: E402
from coach.intake import plan_campaign  # noqa: E402
from coach.models import ClientWork  # noqa: E402

from coach_local.browser import browser  # noqa: E402
from coach_local.claims.duckdb_engine import DuckDbClaimsEngine  # noqa: E402
from coach_local.inputs import load_event  # noqa: E402
from coach_local.lakegen import generate_lake  # noqa: E402
from tools.interactive_campaign import EVENT, first_link, start_campaign  # noqa: E402

OUT = ROOT / "docs" / "img"


def approval_page(lake: Path, tmp: Path) -> None:
    links, thread = start_campaign(lake, tmp / "out")
    first = first_link(links, lambda _: True, 60, "no approval email arrived")
    with browser() as context:
        page = context.new_page()
        page.set_viewport_size({"width": 1100, "height": 900})
        page.goto(first.link)
        page.screenshot(path=str(OUT / "brief-approval.png"), full_page=True)
        page.close()
    thread.join(timeout=180)


def client_pdf(lake: Path, tmp: Path) -> None:
    """The largest client's brief as its client sees it (the PDF the approval API serves at /a/<link>/brief.pdf)."""
    campaign = plan_campaign(load_event(EVENT)).campaign
    engine = DuckDbClaimsEngine(lake)
    work = [
        ClientWork(
            client_id=c.client_id,
            client_name=c.name,
            affected=0,
            reachable=0,
            election="ask",
            batches_key="-",
            batch_count=0,
            contacts_key="-",
        )
        for c in engine.clients().values()
    ]
    briefs = compute_briefs(campaign, work, engine=engine)
    largest = max(briefs.values(), key=lambda b: b.figures.affected)
    pdf = tmp / "brief.pdf"
    pdf.write_bytes(brief_pdf(view(largest, client=True)))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(OUT / "brief-pdf")], check=True
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp) / "lake"
        generate_lake(lake, members=3000, clients=6, seed=5)
        approval_page(lake, Path(tmp))
        client_pdf(lake, Path(tmp))
    print(f"brief screenshots written to {OUT}")


if __name__ == "__main__":
    main()
