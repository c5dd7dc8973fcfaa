"""The demo lake's branded clients: a few clients with their own letterhead and a logo in logos/ (the rest get the
PBM's). Deterministic and drawing nothing from the generator's random streams, so every other value stays put."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# client_id → its branding columns (docs/data-contract.md); logos are drawn here, not downloaded
BRANDED: dict[str, dict[str, str]] = {
    "C0001": {
        "plan_name": "Lakeshore Health Plan",
        "letterhead_name": "Lakeshore Health Plan Pharmacy Services",
        "return_address_line1": "PO Box 4410",
        "return_city": "Chicago",
        "return_state": "IL",
        "return_postal_code": "60680",
        "member_services_phone": "1-888-555-0142",
        "member_services_hours": "7 days a week, 8 a.m. to 8 p.m. Central",
        "signature": "The Lakeshore Pharmacy Team",
    },
    "C0002": {
        "plan_name": "Prairie Mutual Rx",
        "return_address_line1": "2200 Harvest Way",
        "return_address_line2": "Suite 300",
        "return_city": "Des Moines",
        "return_state": "IA",
        "return_postal_code": "50309",
        "member_services_phone": "1-877-555-0117",
        "member_services_hours": "Monday to Saturday, 7 a.m. to 7 p.m.",
        "signature": "Prairie Mutual Member Services",
    },
    "C0003": {"plan_name": "Summit Benefits"},  # a plan name and a logo; the PBM's address and phone
}
COLOURS = {"C0001": (18, 84, 136), "C0002": (46, 125, 50), "C0003": (120, 40, 110)}


def _logo(name: str, colour: tuple[int, int, int], jpeg: bool) -> bytes:
    image = Image.new("RGB", (720, 240), colour)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=64)
    draw.ellipse((30, 40, 190, 200), outline=(255, 255, 255), width=12)
    draw.text((230, 82), name.split()[0], fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.save(out, "JPEG" if jpeg else "PNG", quality=85)
    return out.getvalue()


def brand_clients(rows: list[dict], lake: Path) -> None:
    """Add the branding columns to the demo's branded clients and write their logos under lake/logos/."""
    logos = lake / "logos"
    logos.mkdir(parents=True, exist_ok=True)
    for row in rows:
        brand = BRANDED.get(row["client_id"])
        if brand is None:
            continue
        jpeg = row["client_id"] == "C0002"  # one JPEG, to show both accepted types
        name = f"{row['client_id'].lower()}.{'jpg' if jpeg else 'png'}"
        (logos / name).write_bytes(_logo(brand["plan_name"], COLOURS[row["client_id"]], jpeg))
        row.update(brand, logo=f"logos/{name}")
