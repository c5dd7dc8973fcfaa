"""A client's own letter: branding columns of clients/ checked by the lake check (naming client and problem), the
letter in the client's letterhead as an independent reader (poppler) sees it, still nothing about the drug in
either envelope window, and `coach templates preview --client/--dir`."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from coach.adapters.memory import MemoryObjectStore
from coach.letters.authoring import SAMPLE_MEMBER
from coach.letters.branding import MAX_LOGO_BYTES, PBM_BRANDING, load_branding, save_branding
from coach.letters.render import ADDRESS_TOP, ADDRESS_WIDTH, LEFT, LOGO_BOX, render_letters
from coach.letters.templates import default_registry, letter_context
from PIL import Image
from typer.testing import CliRunner

from coach_local.claims.branding import client_branding
from coach_local.claims.check import check_lake
from coach_local.claims.lake import load_clients
from coach_local.cli import app
from tests.unit.letter_batches import run_letter_batch
from tests.unit.test_letters import EVENT, MEMBERS
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake


def image(kind: str = "PNG", size: tuple[int, int] = (600, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 80, 140)).save(out, kind)
    return out.getvalue()


BRAND = {
    "plan_name": "Lakeshore Health Plan",
    "return_address_line1": "Member Letters",
    "return_address_line2": "PO Box 4410",
    "return_city": "Chicago",
    "return_state": "IL",
    "return_postal_code": "60680",
    "member_services_phone": "1-888-555-0142",
    "member_services_hours": "7 days a week, 8 a.m. to 8 p.m.",
    "signature": "The Lakeshore Pharmacy Team",
    "logo": "logos/lakeshore.png",
}


def lake_with(root: Path, brand: dict, logo: bytes | None = None, logo_name: str = "lakeshore.png") -> Path:
    lake = write_lake(
        root,
        [client("C1", "One") | brand, client("C2", "Two")],
        [member("M1", "C1", "Ann", "Lee"), member("M2", "C2", "Bo", "Kim")],
        [("M1", CLARITIN_NDC, date(2002, 10, 5), "paid")],
    )
    if logo is not None:
        (lake / "logos").mkdir(exist_ok=True)
        (lake / "logos" / logo_name).write_bytes(logo)
    return lake


def errors(lake: Path) -> list[str]:
    return [p.line() for p in check_lake(lake).errors]


def test_a_branded_client_and_an_unbranded_one_pass_the_lake_check(tmp_path):
    lake = lake_with(tmp_path, BRAND, image())
    assert errors(lake) == []
    rows = {r["client_id"]: r for r in load_clients(lake)[0]}
    assert client_branding(lake, rows["C2"]) == PBM_BRANDING  # no branding: the PBM's letterhead
    branded = client_branding(lake, rows["C1"])
    assert branded.letterhead == (
        "Lakeshore Health Plan",
        "Member Letters",
        "PO Box 4410",
        "Chicago, IL 60680",
    )
    assert branded.logo_type == "PNG" and branded.member_services_phone == "1-888-555-0142"


@pytest.mark.parametrize(
    ("brand", "logo", "column", "says"),
    [
        ({"plan_name": "L" * 61}, None, "plan_name", "longer than 60 characters"),
        ({"member_services_phone": "call us"}, None, "member_services_phone", "not a phone number"),
        (BRAND | {"return_state": "Illinois"}, image(), "return_state", "not a two-letter state code"),
        (BRAND | {"return_postal_code": "6068"}, image(), "return_postal_code", "not a ZIP code"),
        (
            {"plan_name": "P", "return_address_line1": "PO Box 1", "return_city": "Chicago"},
            None,
            "return_state",
            "a return address needs return_address_line1, return_city, return_state and return_postal_code",
        ),
        (
            {k: v for k, v in BRAND.items() if k != "plan_name"},
            image(),
            "letterhead_name",
            "empty, and so is plan_name",
        ),
        ({"signature": "Line one\nline two"}, None, "signature", "not one line of text"),
        ({"logo": "../outside.png"}, None, "logo", "not a .png, .jpg or .jpeg file inside the lake"),
        ({"logo": "logos/lakeshore.gif"}, None, "logo", "not a .png, .jpg or .jpeg file inside the lake"),
        ({"logo": "s3://brand-assets/lakeshore.png"}, None, "logo", "which a local lake cannot read"),
        ({"logo": "logos/lakeshore.png"}, None, "logo", "logos/lakeshore.png does not exist in the lake"),
        ({"logo": "logos/lakeshore.png"}, b"GIF89a" + b"\0" * 64, "logo", "is not a PNG or JPEG image"),
        ({"logo": "logos/lakeshore.png"}, image("JPEG"), "logo", "is a JPEG image but its name ends .png"),
        ({"logo": "logos/lakeshore.png"}, image(size=(3000, 100)), "logo", "3000×100 pixels"),
        ({"logo": "logos/lakeshore.png"}, image()[:60], "logo", "a damaged PNG image"),
    ],
)
def test_a_bad_branding_cell_or_logo_is_an_error_naming_client_column_and_problem(
    tmp_path, brand, logo, column, says
):
    found = errors(lake_with(tmp_path, brand, logo))
    assert len(found) == 1, found
    assert f"column '{column}'" in found[0] and "client C1" in found[0] and says in found[0]
    assert "C2" not in found[0]


def test_a_logo_over_the_size_limit_is_refused_by_its_size(tmp_path):
    big = image() + b"\0" * MAX_LOGO_BYTES  # a PNG followed by padding: too many bytes whatever its pixels
    found = errors(lake_with(tmp_path, {"logo": "logos/lakeshore.png"}, big))
    assert len(found) == 1 and f"at most {MAX_LOGO_BYTES:,}" in found[0]


def pdftotext(path: Path, *crop: str) -> str:
    command = ["pdftotext", "-f", "1", "-l", "1", *crop, str(path), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def branded_letter(tmp_path: Path) -> tuple[Path, object]:
    lake = lake_with(tmp_path / "lake", BRAND, image())
    branding = client_branding(lake, next(r for r in load_clients(lake)[0] if r["client_id"] == "C1"))
    registry = default_registry()
    text = registry.render(
        registry.pinned("otc_switch", "en"), letter_context(SAMPLE_MEMBER, EVENT, "en", branding)
    )
    pdf, _ = render_letters([(SAMPLE_MEMBER, text, "en")], today=date(2002, 12, 1), branding=branding)
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    return path, branding


def test_a_branded_letter_carries_the_clients_letterhead_phone_and_logo(tmp_path):
    path, _ = branded_letter(tmp_path)
    text = pdftotext(path)
    for line in ("Lakeshore Health Plan", "Member Letters", "PO Box 4410", "Chicago, IL 60680"):
        assert line in text
    assert "1-888-555-0142" in text and "1-800-555-0199" not in text  # the client's number, not the PBM's
    assert "Pharmacy Benefit Services" not in text
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert len(images.strip().splitlines()) == 3  # two header lines and the one logo


def to_points(mm: float) -> int:
    return round(mm / 25.4 * 72)


def test_a_branded_letter_still_keeps_the_drug_out_of_both_windows(tmp_path):
    path, _ = branded_letter(tmp_path)
    upper = pdftotext(path, "-x", "0", "-y", "0", "-W", str(to_points(LEFT + ADDRESS_WIDTH)), "-H", "144")
    lower = pdftotext(
        path,
        *("-x", str(to_points(LEFT)), "-y", str(to_points(ADDRESS_TOP))),
        *("-W", str(to_points(ADDRESS_WIDTH)), "-H", "72"),
    )
    assert "Lakeshore Health Plan" in upper and "Chicago, IL 60680" in upper
    assert "Maria O'Brien-Núñez" in lower and "Lakeshore" not in lower  # the letterhead ends above the window
    for window in (upper, lower):
        assert "Samplezol" not in window and "Claritin" not in window and "loratadine" not in window
    assert LOGO_BOX[0] > LEFT + ADDRESS_WIDTH  # the logo sits right of both windows


def test_the_letters_stage_prints_the_letterhead_the_audience_stage_recorded(tmp_path):
    lake = lake_with(tmp_path, BRAND, image())
    branding = client_branding(lake, next(r for r in load_clients(lake)[0] if r["client_id"] == "C1"))
    store = MemoryObjectStore()
    save_branding(store, "data", "camp", "C1", branding)
    assert load_branding(store, "data", "camp", "C1") == branding
    store, _, result = run_letter_batch(MEMBERS[:2], EVENT, store=store)
    path = tmp_path / "batch.pdf"
    path.write_bytes(store.get("letters", str(result.pdf_key)))
    assert "Lakeshore Health Plan" in pdftotext(path) and "1-888-555-0142" in pdftotext(path)


def test_templates_preview_takes_a_client_of_a_lake_and_a_draft_folder(tmp_path):
    lake = lake_with(tmp_path / "lake", BRAND, image())
    runner = CliRunner()
    out = tmp_path / "c1.pdf"
    done = runner.invoke(
        app,
        ["templates", "preview", "otc_switch/es", "--client", "C1", "--lake", str(lake), "--out", str(out)],
    )
    assert done.exit_code == 0, done.output
    assert "Lakeshore Health Plan" in pdftotext(out) and "Samplezol" in pdftotext(out)

    drafts = tmp_path / "drafts"
    (drafts / "otc_switch").mkdir(parents=True)
    source = (Path(default_registry().root) / "otc_switch" / "en.j2").read_text(encoding="utf-8")
    (drafts / "otc_switch" / "en.j2").write_text(
        source.replace("Sincerely,", "With care from {{ plan_name }},"), encoding="utf-8"
    )
    draft = tmp_path / "draft.pdf"
    done = runner.invoke(
        app,
        ["templates", "preview", "otc_switch", "--dir", str(drafts), "--client", "C1", "--lake", str(lake)]
        + ["--out", str(draft)],
    )
    assert done.exit_code == 0, done.output
    text = pdftotext(draft)
    assert (
        "With care from Lakeshore Health Plan," in text and "DRAFT" in text
    )  # unapproved: marked as a draft


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--client", "C9"], "--client C9: no such client"),
        (["--client", "C1", "--no-lake"], "--client needs --lake"),
    ],
)
def test_templates_preview_says_what_is_wrong_with_its_client(tmp_path, args, says):
    lake = lake_with(tmp_path / "lake", BRAND, image())
    args = [a for a in args if a != "--no-lake"] + ([] if "--no-lake" in args else ["--lake", str(lake)])
    done = CliRunner().invoke(
        app, ["templates", "preview", "otc_switch", *args, "--out", str(tmp_path / "x.pdf")]
    )
    assert done.exit_code == 2 and says in re.sub(r"\s+", " ", done.output)


def test_templates_preview_names_a_client_whose_logo_is_bad(tmp_path):
    lake = lake_with(tmp_path / "lake", BRAND, b"not an image")
    done = CliRunner().invoke(
        app,
        [
            "templates",
            "preview",
            "otc_switch",
            "--client",
            "C1",
            "--lake",
            str(lake),
            "--out",
            str(tmp_path / "x.pdf"),
        ],
    )
    assert done.exit_code == 2
    assert "client C1" in done.output and "is not a PNG or JPEG image" in re.sub(r"\s+", " ", done.output)


def test_docs_templates_lists_every_variable_a_template_can_use_and_no_other():
    documented = set(
        re.findall(
            r"^\| `([a-z_]+)` \|", (Path(__file__).parents[2] / "docs" / "templates.md").read_text(), re.M
        )
    )
    variables = set(letter_context(SAMPLE_MEMBER, EVENT, "en"))
    table_columns = {
        "logo",
        "return_address_line1",
        "return_state",
        "return_postal_code",
    }  # the columns table
    assert variables <= documented and not (documented - variables - table_columns)


def test_plan_name_summary_and_announced_on_render_in_a_draft(tmp_path):
    import shutil

    from coach.letters.authoring import check_templates
    from coach.letters.templates import TEMPLATES_DIR

    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, root)
    path = root / "otc_switch" / "en.j2"
    path.write_text(
        path.read_text().replace(
            "Sincerely,", "{{ plan_name }} ({{ announced_on }}): {{ summary }}\n\nSincerely,"
        )
    )
    problems = check_templates(root)
    assert [p.kind for p in problems] == [
        "content_changed"
    ]  # no undefined variable: only the approval is missing


def test_the_demo_lake_brands_a_few_clients_with_logos_that_pass_the_lake_check(tmp_path):
    from coach_local.lakegen import generate_lake

    generate_lake(tmp_path / "lake", members=300, clients=5, months=3)
    assert errors(tmp_path / "lake") == []
    letterheads = {
        r["client_id"]: client_branding(tmp_path / "lake", r) for r in load_clients(tmp_path / "lake")[0]
    }
    branded = {cid for cid, b in letterheads.items() if b != PBM_BRANDING}
    assert branded == {"C0001", "C0002", "C0003"}
    assert {letterheads[c].logo_type for c in branded} == {"PNG", "JPEG"}
    assert letterheads["C0003"].return_address == PBM_BRANDING.return_address  # a plan name and logo only
