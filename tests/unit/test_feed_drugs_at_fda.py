"""Drugs@FDA data files → otc_switch and new_drug candidates, read with the published quirks (cp1252, unescaped
quotes, notes broken over lines, space-padded join keys), on the recorded excerpt holding loratadine's 2002 switch."""

from __future__ import annotations

import re

import pytest
from coach.adapters.feed_state import MemoryFeedState
from coach.feeds.candidate import FeedDataError
from coach.feeds.drugs_at_fda import poll_drugs_at_fda, read_approvals
from coach.feeds.ndc_directory import poll_ndc_directory
from coach.feeds.tables import Bundle, read_table
from coach.models import MarketEvent

from tests.unit.feed_fixtures import FIXTURES, copy_of, replace_line, zipped

CLARITIN = "drugs-at-fda-NDA019658-SUPPL-26-otc-switch"


def indexed_state() -> MemoryFeedState:
    state = MemoryFeedState()
    poll_ndc_directory(Bundle.from_path(FIXTURES / "ndctext"), state)
    return state


def by_id(result):
    return {c.event_id: c for c in result.candidates}


def test_loratadines_2002_switch_is_one_claritin_candidate_with_its_package_ndcs():
    result = poll_drugs_at_fda(Bundle.from_path(FIXTURES / "drugsatfda"), indexed_state())
    claritin = by_id(result)[CLARITIN]
    detail = claritin.detail
    MarketEvent.model_validate(detail)
    assert detail["event_type"] == "otc_switch"
    assert detail["drug"] == {
        "name": "Claritin",
        "ingredient": "loratadine",
        "ndcs": [
            "11523716001",
            "11523716003",
            "11523716402",
        ],  # tablets and RediTabs; the sample pouch is not
    }
    assert detail["effective_date"] == detail["announced_on"] == "2002-11-27"
    # tablets, syrup and RediTabs switched the same day: one campaign, naming all three approvals
    assert "NDA019658 SUPPL-26, NDA020641 SUPPL-11, NDA020704 SUPPL-9" in detail["summary"]
    assert any("lists no package for NDA020641" in r for r in claritin.reasons)


def test_each_approval_kind_maps_and_nothing_else_does():
    result = poll_drugs_at_fda(Bundle.from_path(FIXTURES / "drugsatfda"), indexed_state())
    assert sorted(by_id(result)) == [
        "drugs-at-fda-NDA019658-SUPPL-26-otc-switch",
        "drugs-at-fda-NDA019670-SUPPL-20-otc-switch",  # Claritin-D: another ingredient, its own candidate
        "drugs-at-fda-NDA021436-ORIG-1-new-drug",  # Abilify, a TYPE 1 original
    ]
    # not candidates: the new-indication and labeling supplements, the ANDA's tentative approval, and
    # loratadine's own 1993 approval as a new molecular entity (before the first poll's 30-day window)


def test_a_second_poll_of_the_same_file_raises_nothing():
    state = indexed_state()
    poll_drugs_at_fda(Bundle.from_path(FIXTURES / "drugsatfda"), state)
    again = poll_drugs_at_fda(Bundle.from_path(FIXTURES / "drugsatfda"), state)
    assert again.candidates == [] and again.unchanged == 5


def test_the_zip_as_published_reads_like_its_folder(tmp_path):
    folder = FIXTURES / "drugsatfda"
    from_zip = poll_drugs_at_fda(
        Bundle.from_zip(zipped(folder, "drugsatfda/"), "drugsatfda.zip"), indexed_state()
    )
    from_folder = poll_drugs_at_fda(Bundle.from_path(folder), indexed_state())
    assert [c.as_json() for c in from_zip.candidates] == [c.as_json() for c in from_folder.candidates]


def test_published_quirks_are_read_not_tripped_over():
    approvals, warnings = read_approvals(Bundle.from_path(FIXTURES / "drugsatfda"))
    assert warnings == []
    reditabs = next(a for a in approvals if a["application"] == "NDA020704")
    assert reditabs["kind"] == "otc_switch"  # its notes break over two lines; the row still parses
    # the unescaped quotes of SUPPL-26's notes do not swallow the rows after it
    assert {a["application"] for a in approvals} >= {"NDA019658", "NDA019670", "NDA020641", "NDA020704"}


def test_a_not_approved_switch_is_no_candidate(tmp_path):
    folder = copy_of("drugsatfda", tmp_path)
    replace_line(folder / "Submissions.txt", "019670\t2\tSUPPL\t20\tAP", "019670\t2\tSUPPL\t20\tTA")
    result = poll_drugs_at_fda(Bundle.from_path(folder), indexed_state())
    assert "drugs-at-fda-NDA019670-SUPPL-20-otc-switch" not in by_id(result)


def test_type_8_originals_are_switches_and_type_10_is_not_a_new_molecular_entity(tmp_path):
    folder = copy_of("drugsatfda", tmp_path)
    replace_line(folder / "Submissions.txt", "021436\t7\tORIG", "021436\t18\tORIG")
    assert by_id(poll_drugs_at_fda(Bundle.from_path(folder), indexed_state()))[
        "drugs-at-fda-NDA021436-ORIG-1-otc-switch"
    ]
    replace_line(folder / "Submissions.txt", "021436\t18\tORIG", "021436\t22\tORIG")
    assert not any(
        "NDA021436" in e for e in by_id(poll_drugs_at_fda(Bundle.from_path(folder), indexed_state()))
    )


def test_without_the_action_type_join_only_type_8_originals_can_be_switches(tmp_path):
    folder = copy_of("drugsatfda", tmp_path)
    (folder / "Join_Submission_ActionTypes_Lookup.txt").unlink()
    result = poll_drugs_at_fda(Bundle.from_path(folder), indexed_state())
    assert [c.detail["event_type"] for c in result.candidates] == ["new_drug"]
    assert "Join_Submission_ActionTypes_Lookup.txt is not in the archive" in result.warnings[0]


def test_without_the_ndc_directory_the_candidate_matches_by_ingredient_and_says_so():
    claritin = by_id(poll_drugs_at_fda(Bundle.from_path(FIXTURES / "drugsatfda"), MemoryFeedState()))[
        CLARITIN
    ]
    assert claritin.detail["drug"]["ndcs"] == [] and claritin.detail["drug"]["ingredient"] == "loratadine"
    assert any("NDC directory has not been polled" in r for r in claritin.reasons)


def test_a_missing_file_or_column_is_named(tmp_path):
    folder = copy_of("drugsatfda", tmp_path)
    (folder / "Products.txt").unlink()
    with pytest.raises(FeedDataError, match=r"Products\.txt is missing"):
        poll_drugs_at_fda(Bundle.from_path(folder), MemoryFeedState())
    folder = copy_of("drugsatfda", tmp_path / "again")
    replace_line(folder / "Submissions.txt", "SubmissionStatusDate", "StatusDate")
    with pytest.raises(FeedDataError, match=r"Submissions\.txt: column SubmissionStatusDate missing"):
        poll_drugs_at_fda(Bundle.from_path(folder), MemoryFeedState())


def test_an_approval_that_cannot_make_a_valid_event_is_skipped_by_name_and_read_again_next_time(tmp_path):
    folder = copy_of("drugsatfda", tmp_path)
    replace_line(folder / "Products.txt", "2MG\t0\tABILIFY", "2MG\t0\tABI\x07LIFY")
    replace_line(folder / "Products.txt", "\t0\tABILIFY\t", "\t0\tABI\x07LIFY\t")
    state = indexed_state()
    result = poll_drugs_at_fda(Bundle.from_path(folder), state)
    assert sorted(by_id(result)) == [CLARITIN, "drugs-at-fda-NDA019670-SUPPL-20-otc-switch"]
    assert any(w.startswith("Drugs@FDA NDA021436 ORIG-1: ") and "drug.name" in w for w in result.warnings)
    fixed = poll_drugs_at_fda(Bundle.from_path(FIXTURES / "drugsatfda"), state)
    assert sorted(by_id(fixed)) == ["drugs-at-fda-NDA021436-ORIG-1-new-drug"]


def test_the_notes_read_as_published_cp1252_quotes_and_broken_lines_included():
    rows = read_table(
        Bundle.from_path(FIXTURES / "drugsatfda"),
        "Submissions.txt",
        delimiter="\t",
        encoding="cp1252",
        required=("ApplNo", "SubmissionsPublicNotes"),
        row_start=re.compile(r"^\s*\d"),
    )
    notes = {(r["applno"], r["submissionno"]): r["submissionspublicnotes"] for r in rows}
    assert notes[("019658", "26")] == 'Switch of "Claritin" 10 mg to OTC; the sponsor\u2019s request'
    assert notes[("020704", "9")] == "Orally disintegrating tablets; note continued on a second line"
    assert {r["reviewpriority"] for r in rows if r["applno"] == "020704"} == {"STANDARD"}
    assert len(rows) == 9
