"""make screenshots (part): a branded client's approval page with its specimen letter, and the specimen PDF's first
page as it prints (poppler's pdftoppm, local only), from a real local campaign over the demo lake, for the README."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach_local.browser import browser  # noqa: E402
from coach_local.inputs import load_event  # noqa: E402
from coach_local.lakegen import generate_lake  # noqa: E402
from coach_local.lakegen_branding import BRANDED  # noqa: E402
from coach_local.runner import run_campaign  # noqa: E402

OUT = ROOT / "docs" / "img"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp) / "lake"
        generate_lake(lake, members=3000, clients=6, seed=5)
        links: list = []
        thread = threading.Thread(
            target=run_campaign,
            kwargs={
                "event": load_event(ROOT / "coach_local/events/claritin_otc.json"),
                "lake_dir": lake,
                "out_dir": Path(tmp) / "out",
                "interactive": True,
                "on_link": links.append,
                "time_scale": 1 / 8640,
                "timeout": 120,
            },
            daemon=True,
        )
        thread.start()
        deadline = time.monotonic() + 90
        branded = None
        while branded is None and time.monotonic() < deadline:
            branded = next((link for link in links if link.client_id in BRANDED), None)
            time.sleep(0.1)
        if branded is None:
            raise SystemExit("no approval email arrived for a branded client")
        with browser() as context:
            page = context.new_page()
            page.set_viewport_size({"width": 1000, "height": 900})
            page.goto(branded.link)
            page.locator("section.specimen").first.screenshot(path=str(OUT / "specimen-page.png"))
            href = page.locator("section.specimen a").first.get_attribute("href") or ""
            pdf = page.request.get(branded.link.rsplit("/", 1)[0] + "/" + href)  # the page's link is relative
            specimen = Path(tmp) / "specimen.pdf"
            specimen.write_bytes(pdf.body())
            page.close()
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "70",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(specimen),
                str(OUT / "specimen-letter"),
            ],
            check=True,
        )
        print(f"specimen screenshots written to {OUT}")


if __name__ == "__main__":
    main()
