"""The clients' letterheads in a local lake folder: each branding cell and each logo file checked as the letters
stage will use them (coach.letters.branding); problems name the clients/ folder, the column and the client."""

from __future__ import annotations

from pathlib import Path

from coach.lake_rules import Problem
from coach.letters.branding import (
    BRANDING_COLUMNS,
    Branding,
    BrandingError,
    branding_of,
    check_logo,
    column_problems,
)


def branding_cells(row: dict) -> dict[str, object]:
    """The branding columns a clients/ row sets (absent columns and empty cells left out)."""
    return {c: row[c] for c in BRANDING_COLUMNS if row.get(c) is not None and str(row[c]).strip() != ""}


def read_logo(lake: Path, path: str) -> bytes | None:
    """The logo file named by a clients/ row, None when it does not exist (never outside the lake folder).
    An s3:// location is read on AWS only (BrandingError here)."""
    if path.lower().startswith("s3://"):
        raise BrandingError(
            f"logo {path} is an s3:// location, which a local lake cannot read (use a path in the lake)"
        )
    candidate = (lake / path).resolve()
    if not candidate.is_relative_to(lake.resolve()) or not candidate.is_file():
        return None
    return candidate.read_bytes()


def branding_problems(lake: Path, clients: list[dict]) -> list[Problem]:
    """One error per unusable branding cell or logo, naming the client (rows carry `branding`: branding_cells)."""
    where = str(lake / "clients")
    problems: list[Problem] = []
    for client in clients:
        cells = client.get("branding") or {}
        found = column_problems(cells)
        problems += [
            Problem("error", where, column, f"client {client['client_id']}: {problem}")
            for column, problem in found
        ]
        logo = str(cells.get("logo") or "").strip()
        if logo and not any(column == "logo" for column, _ in found):
            try:
                data = read_logo(lake, logo)
                if data is None:
                    problem = f"client {client['client_id']}: logo {logo} does not exist in the lake"
                    problems.append(Problem("error", where, "logo", problem))
                    continue
                check_logo(data, logo)
            except BrandingError as exc:
                problems.append(Problem("error", where, "logo", f"client {client['client_id']}: {exc}"))
    return problems


def client_branding(lake: Path, client: dict) -> Branding:
    """The client's letterhead (BrandingError, naming the client, when it cannot be used)."""
    cells = client.get("branding") or {}
    logo = str(cells.get("logo") or "").strip()
    try:
        data = read_logo(lake, logo) if logo else None
    except BrandingError as exc:
        raise BrandingError(f"client {client['client_id']}: {exc}") from None
    return branding_of(client["client_id"], cells, data)
