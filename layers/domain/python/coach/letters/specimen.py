"""The specimen letter an approver sees: the campaign's pinned template versions, in each language the client's
letters will be written in, in the client's letterhead, rendered for a fictitious member and marked SPECIMEN.

The page shows the letter as HTML (its text, escaped, with the letterhead) and links to the specimen PDF, which
the approval API serves from the letters bucket (`specimens/…`): HTML works the same on every browser and in the
local runtime, needs no image rendering on Lambda (no poppler there) and keeps the page's strict CSP; the PDF is
the letter exactly as it prints. Neither holds any member's data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date

from coach.letters.branding import Branding
from coach.letters.render import address_lines, render_letters
from coach.letters.templates import LANGUAGES, TemplateRegistry, default_registry, letter_context
from coach.letters.text import parse_markup
from coach.memo import memo_once
from coach.models import MarketEvent, MemberRecord
from coach.ports import ObjectStore

MARK = "SPECIMEN"
# Clearly nobody: the name says so, and the address is in no state ("ZZ") with an all-zero ZIP code.
SPECIMEN_MEMBER = MemberRecord(
    member_id="SPECIMEN",
    client_id="SPECIMEN",
    first_name="Specimen",
    last_name="Member (fictitious)",
    address_line1="1 Example Street",
    city="Anytown",
    state="ZZ",
    postal_code="00000",
    drug_name="(specimen)",
    last_fill_date=date(2000, 1, 1),
)
LANGUAGE_NAMES = {"en": "English", "es": "Spanish (español)"}
# distinct specimens (letter text, language, letterhead, date) a container keeps; each is a PDF of tens of KB
SPECIMEN_MEMO_SIZE = 32


class SpecimenNotPinned(RuntimeError):
    """The deployed template is not the version the campaign pinned: the page cannot show what would be sent."""


@dataclass(frozen=True)
class Specimen:
    """One language's specimen: which template version it is and its rendered text (markup)."""

    lang: str
    path: str  # e.g. otc_switch/en.j2
    version: str
    sha256: str
    text: str
    pdf_key: str
    letterhead: list[str]  # the return address block the letter prints (the client's, or the PBM's)
    logo: bool = False  # the printed letter carries the client's logo (in the PDF)

    @property
    def language(self) -> str:
        return LANGUAGE_NAMES.get(self.lang, self.lang)

    @property
    def address(self) -> list[str]:
        return address_lines(SPECIMEN_MEMBER)

    @property
    def blocks(self) -> list[dict[str, str]]:
        return [{"kind": b.kind, "text": b.text} for b in parse_markup(self.text)]


def specimen_key(campaign_id: str, client_id: str, lang: str, sha256: str) -> str:
    return f"specimens/{campaign_id}/{client_id}/{lang}-{sha256[:16]}.pdf"


def specimen_languages(languages: list[str]) -> list[str]:
    """The languages the client's letters will be written in, in LANGUAGES order; all of them when not recorded."""
    wanted = set(languages) & set(LANGUAGES)
    return [lang for lang in LANGUAGES if lang in wanted] or list(LANGUAGES)


@memo_once(maxsize=SPECIMEN_MEMO_SIZE)
def specimen_pdf(text: str, lang: str, branding: Branding, printed_on: date) -> bytes:
    """One specimen letter's PDF. Kept in the container (a warm Lambda's, or the local runtime's one process): every
    client with this letterhead sees the same letter, rendered once."""
    member = SPECIMEN_MEMBER.model_copy(update={"language": lang})
    pdf, _ = render_letters([(member, text, lang)], today=printed_on, branding=branding, mark=MARK)
    return pdf


def make_specimens(
    *,
    campaign_id: str,
    client_id: str,
    template_id: str,
    pins: dict[str, str] | None,
    event: MarketEvent,
    branding: Branding,
    languages: list[str],
    store: ObjectStore,
    letters_bucket: str,
    registry: TemplateRegistry | None = None,
    today: date | None = None,
) -> list[Specimen]:
    """Render and store one specimen PDF per language; SpecimenNotPinned when a deployed template is not the one
    the campaign pinned (the letters stage would refuse it too: nobody is asked to approve other content)."""
    registry = registry or default_registry()
    made: list[Specimen] = []
    for lang in specimen_languages(languages):
        pinned = registry.pinned(template_id, lang)
        if pins is not None and pins.get(lang) != pinned.sha256:
            raise SpecimenNotPinned(
                f"{pinned.path}: the campaign pinned sha256 {str(pins.get(lang))[:16]}… but version "
                f"{pinned.version} (sha256 {pinned.sha256[:16]}…) is deployed; nobody is asked to approve it"
            )
        member = SPECIMEN_MEMBER.model_copy(update={"language": lang})
        text = registry.render(pinned, letter_context(member, event, lang, branding))
        key = specimen_key(campaign_id, client_id, lang, pinned.sha256)
        # a reminder (or the other role's ask) shows the specimen first stored for this client: it stays as it was
        pdf = specimen_pdf(text, lang, branding, today or date.today())
        store.put_new(letters_bucket, key, pdf, "application/pdf")
        made.append(
            Specimen(
                lang,
                pinned.path,
                pinned.version,
                pinned.sha256,
                text,
                key,
                list(branding.letterhead),
                branding.logo is not None,
            )
        )
    return made


def specimens_json(specimens: list[Specimen]) -> str:
    """How a link keeps what its page shows (the approvals table holds flat text fields)."""
    return json.dumps([asdict(s) for s in specimens], ensure_ascii=False)


def specimens_of(text: str) -> list[Specimen]:
    return [Specimen(**fields) for fields in json.loads(text)] if text else []


def hashes_shown(specimens: list[Specimen]) -> dict[str, str]:
    """language → the SHA-256 of the template version the page showed."""
    return {s.lang: s.sha256 for s in specimens}
