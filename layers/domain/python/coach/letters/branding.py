"""A client's own letterhead (docs/templates.md): plan name, return address, member services phone and hours,
signature line and logo, from optional columns of the lake's clients/ table. A client without them gets the PBM's.

The audience stage snapshots each client's branding (and logo) next to its audience in the data bucket, so the
approval page's specimen and every letter of the campaign use the same letterhead, whatever the lake does later.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from coach import keys
from coach.addresses import has_unsafe_characters
from coach.audience.engine import LakeError
from coach.lake_rules import Problem
from coach.ports import NotFound

if TYPE_CHECKING:
    from coach.ports import ObjectStore

BRANDING_COLUMNS = (
    "plan_name",
    "letterhead_name",
    "return_address_line1",
    "return_address_line2",
    "return_city",
    "return_state",
    "return_postal_code",
    "member_services_phone",
    "member_services_hours",
    "signature",
    "logo",
)
ONE_LINE_COLUMNS = (*BRANDING_COLUMNS[:5], "member_services_hours", "signature")
MAX_LINE = 60  # characters of one letterhead line: the upper window is 3.75 in wide at 9 pt
STATE = re.compile(r"^[A-Za-z]{2}$")
POSTAL_CODE = re.compile(r"^[0-9]{5}(-?[0-9]{4})?$")
PHONE = re.compile(r"^[0-9+][0-9 ().+-]{6,24}$")
# relative to the lake (no way out of it), or an s3:// location (read on AWS only)
LOGO_LOCATION = re.compile(
    r"^(?!/)(?!.*\.\.)(?!s3:)[A-Za-z0-9_./ -]{1,200}\.(png|jpg|jpeg)$|^s3://[a-z0-9.-]{3,63}/[^\s]{1,900}\.(png|jpg|jpeg)$",
    re.IGNORECASE,
)
MAX_LOGO_BYTES = 256 * 1024
MAX_LOGO_PIXELS = 2400  # per side: a print-quality 2 in wide logo needs 600
MIN_LOGO_PIXELS = 32
LOGO_MAGIC = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff"}
LOGO_CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
DEFAULT_PHONE = "1-800-555-0199"


@dataclass(frozen=True)
class Branding:
    """What a letter says about who sends it. `logo` is checked PNG or JPEG bytes (check_logo)."""

    plan_name: str
    letterhead_name: str
    return_address: tuple[str, ...]  # the lines under the letterhead name, the last "City, ST 12345"
    member_services_phone: str
    member_services_hours: str
    signature: str
    logo: bytes | None = field(default=None, repr=False)
    logo_type: str | None = None  # "PNG" or "JPEG"
    client_id: str | None = None  # None: the PBM's own letterhead

    @property
    def letterhead(self) -> tuple[str, ...]:
        """The return address block of the upper window: the letterhead name, then the address lines."""
        return (self.letterhead_name, *self.return_address)

    def variables(self) -> dict[str, Any]:
        """The template variables this branding gives (docs/templates.md)."""
        return {
            "plan_name": self.plan_name,
            "letterhead_name": self.letterhead_name,
            "return_address": list(self.return_address),
            "member_services_phone": self.member_services_phone,
            "member_services_hours": self.member_services_hours,
            "signature": self.signature,
        }


PBM_BRANDING = Branding(
    plan_name="Pharmacy Benefit Services",
    letterhead_name="Pharmacy Benefit Services",
    return_address=("PO Box 1000", "Springfield, IL 62701"),
    member_services_phone=DEFAULT_PHONE,
    member_services_hours="Monday to Friday, 8 a.m. to 8 p.m.",
    signature="Your Pharmacy Benefit Team",
)


class BrandingError(LakeError):
    """A client's branding that cannot be used; the message names the client, the column and the problem."""


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


RETURN_COLUMNS = ("return_address_line1", "return_city", "return_state", "return_postal_code")


def column_problems(row: Mapping[str, object]) -> list[tuple[str, str]]:
    """(column, problem) for each branding cell of one clients/ row that a letter cannot use. Never the value."""
    problems: list[tuple[str, str]] = []
    for column in ONE_LINE_COLUMNS:
        text = _text(row.get(column))
        if len(text) > MAX_LINE:
            problems.append((column, f"longer than {MAX_LINE} characters"))
        elif has_unsafe_characters(text):
            problems.append(
                (column, "not one line of text (a line break, control character or bidi override)")
            )
    state, postal = _text(row.get("return_state")), _text(row.get("return_postal_code"))
    if state and not STATE.match(state):
        problems.append(("return_state", "not a two-letter state code"))
    if postal and not POSTAL_CODE.match(postal):
        problems.append(("return_postal_code", "not a ZIP code (12345 or 12345-6789)"))
    if any(_text(row.get(c)) for c in (*RETURN_COLUMNS, "return_address_line2")):
        missing = [c for c in RETURN_COLUMNS if not _text(row.get(c))]
        if missing:
            problems.append(
                (
                    missing[0],
                    "empty although another return_* column is set (a return address needs "
                    "return_address_line1, return_city, return_state and return_postal_code)",
                )
            )
        if not (_text(row.get("letterhead_name")) or _text(row.get("plan_name"))):
            problems.append(
                ("letterhead_name", "empty, and so is plan_name, although a return address is set")
            )
    phone = _text(row.get("member_services_phone"))
    if phone and not PHONE.match(phone):
        problems.append(("member_services_phone", "not a phone number (digits, spaces, + ( ) . -)"))
    logo = _text(row.get("logo"))
    if logo and not LOGO_LOCATION.match(logo):
        problems.append(("logo", "not a .png, .jpg or .jpeg file inside the lake (or an s3:// location)"))
    return problems


def cell_problems(clients: list[dict[str, Any]], where: str) -> list[Problem]:
    """The lake check's errors for the branding cells of the clients directory (logos are opened elsewhere: the
    local check reads the files, the audience stage on AWS reads them from S3). Names the client, never a value."""
    return [
        Problem("error", where, column, f"client {row.get('client_id')}: {problem}")
        for row in clients
        for column, problem in column_problems(row.get("branding", row))
    ]


def check_logo(data: bytes, path: str) -> str:
    """The logo's type ("PNG" or "JPEG"), or BrandingError saying what is wrong with it (size, type, pixels)."""
    if len(data) > MAX_LOGO_BYTES:
        raise BrandingError(f"logo {path} is {len(data):,} bytes; at most {MAX_LOGO_BYTES:,}")
    kind = next((k for k, magic in LOGO_MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise BrandingError(f"logo {path} is not a PNG or JPEG image")
    extension = path.rsplit(".", 1)[-1].lower()
    if (extension == "png") != (kind == "PNG"):
        raise BrandingError(f"logo {path} is a {kind} image but its name ends .{extension}")
    from PIL import Image, UnidentifiedImageError  # fpdf2's own dependency: it embeds the logo with it

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BrandingError(f"logo {path} is a damaged {kind} image ({type(exc).__name__})") from exc
    if max(width, height) > MAX_LOGO_PIXELS or min(width, height) < MIN_LOGO_PIXELS:
        raise BrandingError(
            f"logo {path} is {width}×{height} pixels; each side must be {MIN_LOGO_PIXELS}–{MAX_LOGO_PIXELS}"
        )
    return kind


def branding_of(client_id: str, row: Mapping[str, object], logo: bytes | None = None) -> Branding:
    """The client's letterhead: its own cells where set, the PBM's elsewhere. BrandingError names the client."""
    problems = column_problems(row)
    if problems:
        raise BrandingError(
            f"client {client_id}: "
            + "; ".join(f"column {column!r}: {problem}" for column, problem in problems)
        )
    if not any(_text(row.get(column)) for column in BRANDING_COLUMNS):
        return PBM_BRANDING
    logo_path = _text(row.get("logo"))
    logo_type = None
    if logo_path:
        if logo is None:
            raise BrandingError(f"client {client_id}: logo {logo_path} does not exist")
        try:
            logo_type = check_logo(logo, logo_path)
        except BrandingError as exc:
            raise BrandingError(f"client {client_id}: {exc}") from None
    plan = _text(row.get("plan_name"))
    line1 = _text(row.get("return_address_line1"))
    address = (
        tuple(
            line
            for line in (
                line1,
                _text(row.get("return_address_line2")),
                f"{_text(row.get('return_city'))}, {_text(row.get('return_state')).upper()} "
                f"{_text(row.get('return_postal_code'))}",
            )
            if line
        )
        if line1
        else PBM_BRANDING.return_address
    )
    return Branding(
        plan_name=plan or PBM_BRANDING.plan_name,
        letterhead_name=_text(row.get("letterhead_name")) or plan or PBM_BRANDING.letterhead_name,
        return_address=address,
        member_services_phone=_text(row.get("member_services_phone")) or PBM_BRANDING.member_services_phone,
        member_services_hours=_text(row.get("member_services_hours")) or PBM_BRANDING.member_services_hours,
        signature=_text(row.get("signature")) or PBM_BRANDING.signature,
        logo=logo if logo_path else None,
        logo_type=logo_type,
        client_id=client_id,
    )


# --- the campaign's snapshot (data bucket, next to the client's audience) ----------------------------------------
def branding_key(campaign_id: str, client_id: str) -> str:
    return f"{keys.client_audience_prefix(campaign_id, client_id)}/branding.json"


def logo_key(campaign_id: str, client_id: str) -> str:
    return f"{keys.client_audience_prefix(campaign_id, client_id)}/logo"


def save_branding(
    store: ObjectStore, bucket: str, campaign_id: str, client_id: str, branding: Branding
) -> None:
    """Write the client's letterhead for this campaign (always: a client without one gets the PBM's, on record)."""
    fields = branding.variables() | {
        "logo_type": branding.logo_type,
        "branded": branding.client_id is not None,
    }
    if branding.logo is not None and branding.logo_type is not None:
        store.put(
            bucket, logo_key(campaign_id, client_id), branding.logo, LOGO_CONTENT_TYPES[branding.logo_type]
        )
    store.put(
        bucket, branding_key(campaign_id, client_id), json.dumps(fields).encode("utf-8"), "application/json"
    )


def load_branding(store: ObjectStore, bucket: str, campaign_id: str, client_id: str) -> Branding:
    """The letterhead the audience stage recorded for this client of this campaign. A campaign started before
    branding existed has none recorded: the PBM's."""
    try:  # one GetObject (no HeadObject first): a missing snapshot is the common NotFound
        fields = json.loads(store.get(bucket, branding_key(campaign_id, client_id)))
    except NotFound:
        return PBM_BRANDING
    if not fields.get("branded"):
        return PBM_BRANDING
    logo_type = fields.get("logo_type")
    branding = Branding(
        plan_name=fields["plan_name"],
        letterhead_name=fields["letterhead_name"],
        return_address=tuple(fields["return_address"]),
        member_services_phone=fields["member_services_phone"],
        member_services_hours=fields["member_services_hours"],
        signature=fields["signature"],
        client_id=client_id,
    )
    if logo_type:
        branding = replace(
            branding, logo=store.get(bucket, logo_key(campaign_id, client_id)), logo_type=logo_type
        )
    return branding
