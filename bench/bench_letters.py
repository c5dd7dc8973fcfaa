"""make bench-letters: the same letters (same template, same members) rendered by this project's renderer and by
WeasyPrint (HTML per letter, all pages written into one PDF), in one run, on one core each; then the projected
cost and wall-clock time of a 9M-member campaign's letters stage on AWS against a naive design."""

from __future__ import annotations

import argparse
import html
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.letters.authoring import SAMPLE_EVENT  # noqa: E402
from coach.letters.render import address_lines, render_letters  # noqa: E402
from coach.letters.templates import default_registry, letter_context  # noqa: E402
from coach.letters.text import parse_markup  # noqa: E402
from coach.models import MemberRecord  # noqa: E402

# US list prices (us-east-1) used for the projection, as published by AWS; not re-verified from this machine.
PRICES_AS_OF = "AWS public price list, us-east-1, 2025 (x86 Lambda; Standard workflows)"
LAMBDA_GB_SECOND = 0.0000166667
LAMBDA_REQUEST = 0.20 / 1_000_000
SFN_TRANSITION = 0.025 / 1000
S3_PUT = 0.005 / 1000
MEMBERS_9M = 9_000_000
BATCH = 2000
LAMBDA_GB = 2.0
CONCURRENCY = 50
TRANSITIONS_PER_ITERATION = 4  # child execution: started, task entered, task exited, succeeded

CSS = """@page { size: Letter; margin: 0.75in 0.875in 0.9in 0.875in; }
body { font-family: Helvetica, Arial, sans-serif; font-size: 11pt; }
.return { position: absolute; top: 0; font-size: 9pt; }
.address { position: absolute; top: 1.25in; width: 3.75in; }
.body { margin-top: 2.9in; } h2 { font-size: 12pt; margin: 6pt 0 2pt; } p { margin: 0 0 7pt; }"""


def members(count: int) -> list[MemberRecord]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(3)
    return [
        MemberRecord(
            member_id=f"M{i:07d}",
            client_id="C1",
            first_name=fake.first_name(),
            last_name=fake.last_name(),
            address_line1=fake.street_address(),
            city=fake.city(),
            state=fake.state_abbr(),
            postal_code=fake.zipcode(),
            drug_name="Samplezol",
            last_fill_date=date(2002, 10, 1),
        )
        for i in range(count)
    ]


def ours(people: list[MemberRecord]) -> tuple[float, bytes]:
    registry = default_registry()
    pinned = registry.pinned("otc_switch", "en")
    started = time.perf_counter()
    items = [(m, registry.render(pinned, letter_context(m, SAMPLE_EVENT, "en")), "en") for m in people]
    pdf, _ = render_letters(items, today=date(2002, 12, 1))
    return time.perf_counter() - started, pdf


def small_batches(people: list[MemberRecord], size: int, *, reparse_fonts: bool) -> float:
    """Letters per second when `people` are rendered as consecutive batches of `size` in one warm process (a Lambda
    container, a local worker); with `reparse_fonts` every batch parses the fonts again, as before issue 20."""
    from coach.letters import render

    registry = default_registry()
    pinned = registry.pinned("otc_switch", "en")
    items = [(m, registry.render(pinned, letter_context(m, SAMPLE_EVENT, "en")), "en") for m in people]
    render_letters(items[:1], today=date(2002, 12, 1))  # a warm container: the first batch is not measured
    started = time.perf_counter()
    for start in range(0, len(items), size):
        if reparse_fonts:
            render._parsed_font.cache_clear()
        render_letters(items[start : start + size], today=date(2002, 12, 1))
    return len(items) / (time.perf_counter() - started)


def weasyprint(people: list[MemberRecord]) -> tuple[float, bytes]:
    from weasyprint import HTML

    registry = default_registry()
    pinned = registry.pinned("otc_switch", "en")
    started = time.perf_counter()
    documents = []
    for m in people:
        text = registry.render(pinned, letter_context(m, SAMPLE_EVENT, "en"))
        body = "".join(
            f"<h2>{html.escape(b.text)}</h2>"
            if b.kind == "heading"
            else f"<p>{'- ' if b.kind == 'bullet' else ''}{html.escape(b.text)}</p>"
            for b in parse_markup(text)
        )
        page = (
            f"<html><head><style>{CSS}</style></head><body><div class='return'>Pharmacy Benefit Services<br>"
            f"PO Box 1000<br>Springfield, IL 62701</div><div class='address'>"
            f"{'<br>'.join(html.escape(line) for line in address_lines(m))}</div>"
            f"<div class='body'>{body}</div></body></html>"
        )
        documents.append(HTML(string=page).render())
    pdf = documents[0].copy([p for d in documents for p in d.pages]).write_pdf()
    return time.perf_counter() - started, pdf


def projection(letters_per_second: float) -> None:
    batches = MEMBERS_9M // BATCH
    batch_seconds = BATCH / letters_per_second + 1.0  # + S3 read/write of the batch
    ours_cost = (
        batches * batch_seconds * LAMBDA_GB * LAMBDA_GB_SECOND
        + batches * LAMBDA_REQUEST
        + batches * TRANSITIONS_PER_ITERATION * SFN_TRANSITION
        + batches * 2 * S3_PUT
    )
    ours_wall = batches / CONCURRENCY * batch_seconds
    naive_seconds = 1 / letters_per_second + 0.05  # one letter per invocation, plus its S3 round trip
    naive_cost = (
        MEMBERS_9M * naive_seconds * LAMBDA_GB * LAMBDA_GB_SECOND
        + MEMBERS_9M * LAMBDA_REQUEST
        + MEMBERS_9M * TRANSITIONS_PER_ITERATION * SFN_TRANSITION
        + MEMBERS_9M * S3_PUT
    )
    naive_wall = MEMBERS_9M / CONCURRENCY * naive_seconds
    print(
        f"\n9M-member letters stage on AWS (prices: {PRICES_AS_OF}; {LAMBDA_GB:.0f} GB Lambda, "
        f"MaxConcurrency {CONCURRENCY}):"
    )
    print(
        f"  batched (ours): {batches:,} map items of {BATCH:,}   ${ours_cost:,.2f}   {ours_wall / 60:,.1f} min"
    )
    print(
        f"  naive: {MEMBERS_9M:,} map items, one object each   ${naive_cost:,.2f}   {naive_wall / 3600:,.1f} h"
    )
    print(f"  ratio: {naive_cost / ours_cost:,.0f}x cheaper, {naive_wall / ours_wall:,.0f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument(
        "--batch-sizes",
        default="10,25,100",
        help="small batches (a client with few affected members) rendered one after the other, comma-separated",
    )
    args = parser.parse_args()
    people = members(args.letters)
    print(f"{args.letters:,} letters in consecutive small batches, one warm process (letters/s/core):")
    for size in (int(text) for text in args.batch_sizes.split(",") if text.strip()):
        parsed_each = small_batches(people, size, reparse_fonts=True)
        parsed_once = small_batches(people, size, reparse_fonts=False)
        print(
            f"  batches of {size:>4}: fonts parsed per batch {parsed_each:8.1f}   kept across batches "
            f"{parsed_once:8.1f}   ({parsed_once / parsed_each:.2f}x)"
        )
    ours_s, ours_pdf = ours(people)
    weasy_s, weasy_pdf = weasyprint(people)
    ours_rate, weasy_rate = args.letters / ours_s, args.letters / weasy_s
    print(f"{args.letters:,} letters, one core each")
    print(
        f"  this project (fpdf2, pure Python): {ours_s:7.2f} s  {ours_rate:8.1f} letters/s/core  "
        f"{len(ours_pdf) / 1024:,.0f} KiB"
    )
    print(
        f"  WeasyPrint (HTML per letter):      {weasy_s:7.2f} s  {weasy_rate:8.1f} letters/s/core  "
        f"{len(weasy_pdf) / 1024:,.0f} KiB"
    )
    print(f"  ratio: {ours_rate / weasy_rate:.1f}x")
    projection(ours_rate)


if __name__ == "__main__":
    main()
