"""The digest page for the README (docs/img/approval-digest.png): one account manager asked about four clients in
one campaign, from a real local run (system Chromium); the second client is marked Decline with its reason."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach_local.approver import DigestEmail  # noqa: E402
from coach_local.browser import browser  # noqa: E402
from coach_local.runtime import digests  # noqa: E402
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake  # noqa: E402
from tools.interactive_campaign import first_link, start_campaign  # noqa: E402

OUT = ROOT / "docs" / "img"
CLIENTS = {
    "C0101": "Alder Health Plan",
    "C0102": "Birch Valley Benefits",
    "C0103": "Cedar County Employees",
    "C0104": "Dogwood Manufacturing",
}


def main() -> None:
    digests.DEFAULT_QUIET_SECONDS, digests.DEFAULT_MAX_SECONDS = 2.0, 20.0
    with tempfile.TemporaryDirectory() as tmp:
        members, fills, rows = [], [], []
        for n, (client_id, name) in enumerate(CLIENTS.items()):
            row = client(client_id, name)
            row["account_team_emails"] = ["pat.morgan@pbm.example"]
            rows.append(row)
            for m in range(3 + 4 * n):
                members.append(member(f"M{n}{m:02d}", client_id, "Sample", f"Member{n}{m}"))
                fills.append(
                    (f"M{n}{m:02d}", CLARITIN_NDC, __import__("datetime").date(2002, 10, 15), "paid")
                )
        lake = write_lake(Path(tmp) / "lake", rows, members, fills)
        links, thread = start_campaign(lake, Path(tmp) / "out", timeout=60)
        digest = first_link(links, lambda link: isinstance(link, DigestEmail), 60, "no digest email arrived")
        with browser() as context:
            page = context.new_page()
            page.set_viewport_size({"width": 1100, "height": 900})
            page.goto(digest.link)
            row = page.locator('section[data-client="C0102"]')
            row.get_by_label("Decline", exact=True).check()
            row.get_by_label("If you decline, why:").select_option("client_communicates")
            page.screenshot(path=str(OUT / "approval-digest.png"), full_page=True)
            page.close()
        thread.join(timeout=120)
        print(f"digest screenshot written to {OUT / 'approval-digest.png'}")


if __name__ == "__main__":
    main()
