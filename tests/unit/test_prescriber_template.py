"""The prescriber notice template: approved bytes only (the letters' TemplateRegistry over its own folder), and it
renders on every branch an event can take, naming the prescriber, every patient and the drug."""

from __future__ import annotations

import pytest
from coach.letters.templates import TemplateNotApproved, TemplateRegistry
from coach.models import MarketEvent
from coach.prescribers.notices import TEMPLATES_DIR, notice_context, pin, prescriber_registry

NOTICE = {
    "npi": "1234567893",
    "name": "Dr. Ana Ruiz",
    "address_line1": "1 Clinic Way",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
    "channel": "mail",
    "fax": "",
    "patients": [
        {
            "client_id": "C1",
            "member_id": "M1",
            "first_name": "Alma",
            "last_name": "Quintero",
            "birth_date": "1951-03-04",
            "drug_name": "Samplezol 10 mg",
            "last_fill_date": "2002-10-01",
        },
        {
            "client_id": "C1",
            "member_id": "M2",
            "first_name": "Boris",
            "last_name": "Vance",
            "birth_date": None,
            "drug_name": "Samplezol 10 mg",
            "last_fill_date": "2002-10-02",
        },
    ],
}


def event(event_type: str, recall_class: str | None, alternatives: list[str]) -> MarketEvent:
    return MarketEvent.model_validate(
        {
            "event_id": "e",
            "event_type": event_type,
            "recall_class": recall_class,
            "alternatives": alternatives,
            "drug": {"name": "Samplezol", "ingredient": "samplezole"},
            "effective_date": "2003-01-01",
            "announced_on": "2002-11-27",
            "summary": "Sample summary.",
        }
    )


CASES = [
    (t, c, alts)
    for t, classes in (("recall", ["I", "II"]), ("otc_switch", [None]), ("formulary_change", [None]))
    for c in classes
    for alts in (["Altrazine"], [])
]


@pytest.mark.parametrize(("event_type", "recall_class", "alternatives"), CASES)
def test_the_notice_renders_the_prescriber_each_patient_and_the_drug(event_type, recall_class, alternatives):
    registry = prescriber_registry()
    text = registry.render(
        pin("prescriber_notice"), notice_context(NOTICE, event(event_type, recall_class, alternatives))
    )
    assert "Dear Dr. Ana Ruiz" in text and "NPI 1234567893" in text
    assert "- Quintero, Alma, born March 4, 1951: Samplezol 10 mg, last filled October 1, 2002" in text
    assert "- Vance, Boris: Samplezol 10 mg, last filled October 2, 2002" in text
    assert "Samplezol" in text and "January 1, 2003" in text
    assert ("Altrazine" in text) is bool(alternatives)
    if recall_class:
        assert f"class {recall_class} recall" in text


def test_changed_bytes_do_not_render(tmp_path):
    (tmp_path / "prescriber_notice").mkdir()
    (tmp_path / "approvals.json").write_bytes((TEMPLATES_DIR / "approvals.json").read_bytes())
    source = (TEMPLATES_DIR / "prescriber_notice" / "en.j2").read_text()
    (tmp_path / "prescriber_notice" / "en.j2").write_text(source + "\nAn unapproved line.\n")
    with pytest.raises(TemplateNotApproved, match="content differs from approved version 1.0.0"):
        TemplateRegistry(tmp_path).pinned("prescriber_notice", "en")
