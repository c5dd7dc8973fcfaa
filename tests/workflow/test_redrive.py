"""A letters batch fails for good: the campaign ends FAILED and one operator alert (no PHI) names the stage. After
the fault is fixed, a redrive finishes it: only the missing batch is generated, nobody is asked again, and no email,
letter or manifest line exists twice."""

from __future__ import annotations

import collections
import csv
import email
import email.policy
import json
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from coach_local.approver import Inbox, auto_approver
from coach_local.inputs import load_event
from coach_local.runtime import DATA_BUCKET, LETTERS_BUCKET, LocalRuntime
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FILL = date(2002, 10, 1)


def lake(base: Path) -> Path:
    members = [
        member("MBR00001", "C1", "Ada", "Lovelace"),
        member(
            "MBR00002",
            "C1",
            "Alan",
            "Turing",
            email="alan@example.org",
            email_consent=True,
            preferred_channel="email",
        ),
        member("MBR00003", "C2", "Grace", "Hopper"),
        member("MBR00004", "C2", "Edsger", "Dijkstra"),
        member("MBR00005", "C2", "Barbara", "Liskov"),
        member(
            "MBR00006",
            "C2",
            "Donald",
            "Knuth",
            email="donald@example.org",
            email_consent=True,
            preferred_channel="email",
        ),
    ]
    return write_lake(
        base / "lake",
        [client("C1", "One Health"), client("C2", "Two Health", {"otc_switch": "always"})],
        members,
        [(m["member_id"], CLARITIN_NDC, FILL, "paid") for m in members],
    )


def outbox(out: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((out / "outbox").glob("*.eml"))
    ]


def letters_logged(out: Path) -> list[dict]:
    lines = (out / "logs" / "functions.log").read_text().splitlines()
    return [
        r
        for r in (json.loads(line) for line in lines if line.startswith("{"))
        if r.get("message") == "letters batch"
    ]


@pytest.fixture(scope="module")
def redriven(tmp_path_factory):
    base = tmp_path_factory.mktemp("redrive")
    out = base / "out"
    broken = {"on": True}

    def printer_down(event):
        batch = event["batch"]
        if broken["on"] and batch["client_id"] == "C2" and batch["batch_index"] == 1:
            raise OSError("simulated: the letters bucket refused the write")

    errors: list[str] = []
    with LocalRuntime(out, lake(base), time_scale=1 / 8640, batch_size=2) as runtime:
        runtime.registry.faults["letters"] = printer_down
        watcher = Inbox(runtime.mailboxes, auto_approver({}, errors, runtime.answers))
        watcher.start()
        try:
            envelope = load_event(ROOT / "coach_local/events/claritin_otc.json")
            campaign_id = runtime.put_event(envelope)["campaign_id"]
            first = runtime.wait(campaign_id, timeout=300)
            after_failure = outbox(out)
            logged_before = len(letters_logged(out))
            broken["on"] = False  # the fault is fixed
            runtime.redrive(campaign_id)
            second = runtime.wait(campaign_id, timeout=300)
        finally:
            watcher.stop()
        report = json.loads(runtime.read(DATA_BUCKET, f"campaigns/{campaign_id}/report.json"))
        keys = [
            o["Key"]
            for o in runtime.client("s3").list_objects_v2(
                Bucket=LETTERS_BUCKET, Prefix=f"campaigns/{campaign_id}/"
            )["Contents"]
        ]
        manifests = {k: runtime.read(LETTERS_BUCKET, k).decode() for k in keys if k.endswith("/manifest.csv")}
        pdfs = {k: runtime.read(LETTERS_BUCKET, k) for k in keys if k.endswith(".pdf")}
    return {
        "first": first,
        "second": second,
        "after_failure": after_failure,
        "final": outbox(out),
        "report": report,
        "manifests": manifests,
        "pdfs": pdfs,
        "out": out,
        "errors": errors,
        "logged_before": logged_before,
    }


def test_the_failed_batch_fails_the_campaign_with_one_alert_naming_the_stage(redriven):
    assert redriven["first"].status == "FAILED"
    alerts = [m for m in redriven["after_failure"] if m["X-Coach-Kind"] == "operator_alert"]
    assert len(alerts) == 1
    text = alerts[0].get_body(("plain",)).get_content()
    assert "clients (approvals, letters, outcomes)" in text and "redrive" in text
    for name in ("Ada", "Lovelace", "Turing", "Hopper", "Liskov", "Knuth", "alan@example.org", "MBR0000"):
        assert name not in alerts[0].as_string()


def test_the_redrive_completes_the_campaign(redriven):
    assert redriven["second"].status == "SUCCEEDED", redriven["second"].error
    assert redriven["errors"] == []
    report = redriven["report"]
    rows = {r["client_id"]: r for r in report["clients"]}
    assert (rows["C1"]["letters"], rows["C2"]["letters"]) == (2, 4)
    assert (rows["C2"]["mailed"], rows["C2"]["emailed"]) == (3, 1)
    assert [m.as_string() for m in redriven["final"] if m["X-Coach-Kind"] == "operator_alert"] == [
        m.as_string() for m in redriven["after_failure"] if m["X-Coach-Kind"] == "operator_alert"
    ]  # none new


def test_nobody_is_asked_again_and_no_email_is_sent_twice(redriven):
    def key(m):
        return (m["X-Coach-Kind"], m["To"], m["Subject"], m.get("X-Coach-Client"), m.get("X-Coach-Attempt"))

    final = collections.Counter(key(m) for m in redriven["final"])
    assert [k for k, n in final.items() if n > 1] == []
    asked_before = sorted(key(m) for m in redriven["after_failure"] if m["X-Coach-Kind"] == "approval")
    asked_after = sorted(key(m) for m in redriven["final"] if m["X-Coach-Kind"] == "approval")
    assert asked_before == asked_after and asked_before  # the redrive reused the decisions already given
    member_emails = [m["To"] for m in redriven["final"] if m["X-Coach-Kind"] == "letter"]
    assert sorted(member_emails) == ["alan@example.org", "donald@example.org"]


def test_only_the_missing_batch_is_generated_and_every_member_is_listed_once(redriven):
    runs = letters_logged(redriven["out"])
    after = runs[redriven["logged_before"] :]
    generated = sorted((r["client_id"], r["batch_index"]) for r in after if not r["skipped"])
    assert generated == [("C2", 1)]
    assert all(r["skipped"] for r in after if (r["client_id"], r["batch_index"]) != ("C2", 1))
    listed = []
    for text in redriven["manifests"].values():
        listed += [row["member_id"] for row in csv.DictReader(text.splitlines())]
    assert sorted(listed) == [f"MBR0000{i}" for i in range(1, 7)]
    pages = []
    for key, pdf in redriven["pdfs"].items():
        path = redriven["out"] / "check.pdf"
        path.write_bytes(pdf)
        pages.append(
            subprocess.run(
                ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout
        )
    text = "\n".join(pages)
    for name in ("Ada Lovelace", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov"):
        # One letter each: one salutation (the name also shows in that letter's address block).
        assert len(re.findall(rf"(?:Dear|Estimado\(a\)) {name}\b", text)) == 1, name
    assert "Turing" not in text and "Knuth" not in text  # email channel: no paper letter
