"""make screenshots (part): a branded client's approval page with its specimen letter, and the specimen PDF's first
page as it prints (poppler's pdftoppm, local only), from a real local campaign over the demo lake, for the README."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach_local.browser import browser  # noqa: E402
from coach_local.lakegen import generate_lake  # noqa: E402
from coach_local.lakegen_branding import BRANDED  # noqa: E402
from tools.interactive_campaign import first_link, start_campaign  # noqa: E402

OUT = ROOT / "docs" / "img"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp) / "lake"
        generate_lake(lake, members=3000, clients=6, seed=5)
        links, _ = start_campaign(lake, Path(tmp) / "out")
        branded = first_link(
            links,
            lambda link: link.client_id in BRANDED,
            90,
            "no approval email arrived for a branded client",
        )
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
