"""PHI stays where it must: campaigns over members whose every PHI field holds a unique canary leave no canary in
any Step Functions history event (the parent execution's, and every child execution's of the Distributed Maps:
per client, and per letter batch inside it), any function's input or output (what those events hold, and what
the approval pages show), any log line of any handler, any email to account teams, clients, escalation contacts
and operators (decoded as a mail client shows it), report.json or audit.json. Only the letters (PDFs, manifests)
and a member's own email may carry them, and the prescriber notices (PDFs, manifests under prescriber-notices/:
a prescriber's notice lists their patients' names, the minimum necessary for treatment).

Three runs on one canary lake: an OTC switch (approvals, a reminder, an escalation, a client that never answers),
a class I recall (mandatory: notices to account teams and clients, nobody asked) and a campaign whose letters
fail (the operator alert)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import pytest

from coach_local.inputs import load_event
from coach_local.runner import RunResult, run_campaign
from tests.workflow.phi_scan import (
    Directory,
    ScannedEmail,
    canaries_of,
    email_texts,
    file_texts,
    hits,
    json_texts,
    scan_email,
)
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, prescriber, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FIELDS = ("first_name", "last_name", "address_line1", "address_line2", "city", "postal_code", "email")
CLIENTS = [client("C1", "One"), client("C2", "Two"), client("C3", "Three")]


def canary(field: str, index: int) -> str:
    return f"Qz{field.replace('_', '')[:6]}{index:03d}Xq"


def canary_member(index: int, client_id: str, **extra) -> dict:
    values = {field: canary(field, index) for field in FIELDS}
    values["email"] = f"{canary('email', index).lower()}@mail.example"
    return member(
        f"M{index:03d}",
        client_id,
        values["first_name"],
        values["last_name"],
        address_line1=values["address_line1"],
        address_line2=values["address_line2"],
        city=values["city"],
        postal_code=values["postal_code"],
        email=values["email"],
        **extra,
    )


MEMBERS = [
    canary_member(
        i,
        "C1" if i % 2 else "C2",
        email_consent=i % 3 == 0,
        preferred_channel="email" if i % 3 == 0 else "mail",
    )
    for i in range(12)
]
MEMBERS.append(canary_member(99, "C3", deceased=True))
CANARIES = {m["member_id"]: canaries_of(m, FIELDS) for m in MEMBERS}
ALL_CANARIES = set().union(*CANARIES.values())
DIRECTORY = Directory.of(CLIENTS, MEMBERS)
# two prescribers (valid NPIs, one by fax): every run that tells prescribers renders notices naming the canaries
PRESCRIBERS = [
    prescriber("1234567893", "Dr. Ana Ruiz"),
    prescriber("1245319599", "Dr. Ben Okoye", accepts_fax=True, fax="217-555-0142"),
]


@dataclass
class Scan:
    """What one run left outside `letters/`, and the canaries found where none may be."""

    result: RunResult
    emails: list[ScannedEmail]
    leaks: dict[str, set[str]]
    scanned: list[str]  # every file scanned
    calls: list[dict]  # every function invocation scanned: its input, and its output or error


def scan(result: RunResult) -> Scan:
    leaks: dict[str, set[str]] = {}
    emails: list[ScannedEmail] = []
    scanned: list[str] = []
    for path in sorted(result.out_dir.rglob("*")):
        relative = path.relative_to(result.out_dir)
        if not path.is_file() or {"letters", "prescriber-notices"} & set(relative.parts):
            continue
        scanned.append(str(relative))
        if path.suffix == ".eml":
            message = scan_email(path, DIRECTORY)
            emails.append(message)
            # a member's own email may carry that member's data, and no one else's
            allowed = set().union(*(CANARIES[m] for m in message.members))
            texts = [("file name", str(relative)), *message.texts]
        else:
            allowed = set()
            texts = [("file name", str(relative)), *file_texts(path)]
        for where, text in texts:
            if found := hits(text, ALL_CANARIES) - allowed:
                leaks.setdefault(f"{relative} ({where})", set()).update(found)
    # what each function received and returned, as the task events of the histories record it (the runner
    # keeps them in memory: approval page bodies and link ids do not belong in OUT)
    calls = [asdict(call) for call in result.calls or []]
    for index, call in enumerate(calls):
        for where, text in json_texts(call):
            if found := hits(text, ALL_CANARIES):
                leaks.setdefault(f"call {index} to {call['function']} ({where})", set()).update(found)
    return Scan(result, emails, leaks, scanned, calls)


def run(base: Path, name: str, raw: dict, lake: Path, **kwargs) -> Scan:
    return scan(run_campaign(raw, lake, base / name, timeout=240, time_scale=1 / 86_400, **kwargs))


def otc_switch() -> dict:
    return load_event(ROOT / "coach_local/events/claritin_otc.json")


def class_i_recall() -> dict:
    raw = otc_switch()
    raw["detail"].update(
        event_id="recall-2002-11-27-loratadine-lot-7",
        event_type="recall",
        recall_class="I",
        summary="Lot 7 of loratadine 10 mg recalled (class I).",
    )
    return raw


def printer_down(event):
    raise OSError("simulated: the letters bucket refused the write")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Scan]:
    base = tmp_path_factory.mktemp("phi")
    lake = write_lake(
        base / "lake",
        CLIENTS,
        MEMBERS,
        [
            (m["member_id"], CLARITIN_NDC, date(2002, 10, 1), "paid", PRESCRIBERS[i % 2]["npi"])
            for i, m in enumerate(MEMBERS)
        ],
        prescribers=PRESCRIBERS,
    )
    return {
        # C1 and C2 approve; C3's account team never answers: reminder, escalation, no response. The handlers run
        # in a function worker, as `coach run` runs them on a machine with two cores (their log lines too)
        "otc": run(
            base, "otc", otc_switch(), lake, decisions={"C3": {"account_team": "none"}}, function_processes=1
        ),
        # mandatory: nobody is asked, account teams and clients get notices, the letters go out
        "recall": run(base, "recall", class_i_recall(), lake, function_processes=1),
        # the letters fail: the execution fails, the operator is alerted
        "failed": run(
            base,
            "failed",
            otc_switch(),
            lake,
            decisions={"C3": {"account_team": "decline"}},
            faults={"letters": printer_down},
        ),
    }


def read_json(scan: Scan, name: str):
    return json.loads((scan.result.out_dir / name).read_text())


def child_events(scan: Scan) -> list[dict]:
    return [e for r in read_json(scan, "logs/map-run-history.json") for e in r["events"] or []]


def scheduled_functions(events: list[dict]) -> set[str]:
    """The functions the events' Lambda tasks invoked (…:function:coach-<name>)."""
    names = set()
    for e in events:
        if e["type"] == "TaskScheduled":
            arn = json.loads(e["taskScheduledEventDetails"]["parameters"])["FunctionName"]
            names.add(arn.rsplit(":function:coach-", 1)[1])
    return names


def test_the_runs_ended_as_planned(runs):
    assert runs["otc"].result.status == "SUCCEEDED", runs["otc"].result.error
    assert runs["recall"].result.status == "SUCCEEDED", runs["recall"].result.error
    assert runs["failed"].result.status == "FAILED"
    for name, scan in runs.items():
        for required in ("audit.json", "logs/functions.log", "logs/execution-history.json"):
            assert required in scan.scanned, (name, required)
        assert "logs/map-run-history.json" in scan.scanned, name
    for name in ("otc", "recall"):
        assert {"report.json", "report.html", "status.json"} <= set(runs[name].scanned), name


@pytest.mark.parametrize("name", ["otc", "recall", "failed"])
def test_no_canary_outside_letters_and_members_own_emails(runs, name):
    assert runs[name].leaks == {}


def test_every_child_execution_history_was_scanned(runs):
    """moto runs a Distributed Map's children in-process; the runner keeps their events (map-run-history.json),
    and every map run any history started is there, with the events of the tasks that run inside it."""
    for name, scan in runs.items():
        parent = read_json(scan, "logs/execution-history.json")
        map_runs = read_json(scan, "logs/map-run-history.json")
        kept = {r["mapRunArn"]: r for r in map_runs}
        started = [
            e["mapRunStartedEventDetails"]["mapRunArn"]
            for e in parent + child_events(scan)
            if e["type"] == "MapRunStarted"
        ]
        assert started, name
        for arn in started:
            assert kept[arn]["events"], (name, arn)
        assert all(r["events"] for r in map_runs), (name, "a listed map run without events")
        # the failed run stops in Letters, before the prescriber notices (a campaign-level step after the clients)
        notices = set() if name == "failed" else {"PrescriberNotices"}
        assert {r["state"] for r in map_runs} == {"ForEachClient", "Letters"} | notices, name
        assert scheduled_functions(parent) <= {"audience", "summary", "prescribers"}, (
            "the parent holds no per-client task"
        )
    assert {"approval_request", "letters", "client_outcome"} <= scheduled_functions(child_events(runs["otc"]))
    assert {"notify", "letters", "client_outcome"} <= scheduled_functions(child_events(runs["recall"]))
    letters_outputs = [
        e
        for e in child_events(runs["otc"])
        if e["type"] == "TaskSucceeded"
        and '"manifest_key"' in e["taskSucceededEventDetails"]["output"]
        and '"client_id"' in e["taskSucceededEventDetails"]["output"]  # not a prescriber notices batch
    ]
    assert len(letters_outputs) == 2, "one GenerateLetters output per letter batch (C1, C2)"


def test_every_function_input_and_output_was_scanned(runs):
    """What Lambda received and returned, as Step Functions records it and the approval pages show it."""
    functions = {name: {c["function"] for c in scan.calls} for name, scan in runs.items()}
    assert {
        "audience",
        "approval_request",
        "approval_api",
        "letters",
        "client_outcome",
        "summary",
    } <= functions["otc"]
    assert {"audience", "notify", "letters", "client_outcome", "summary"} <= functions["recall"]
    assert {"letters", "notify"} <= functions["failed"]  # the failed batches and the operator alert
    failed = [c for c in runs["failed"].calls if c["error"]]
    assert failed and {c["function"] for c in failed} == {"letters"}


def test_every_handler_logged_into_the_scanned_log(runs):
    """functions.log holds the lines of every stage's handler (by message: in one process the Powertools logger's
    function_name is shared by handlers running at once, so it does not say reliably who logged)."""
    logged = {
        name: [
            json.loads(line) for line in (scan.result.out_dir / "logs/functions.log").read_text().splitlines()
        ]
        for name, scan in runs.items()
    }
    messages = {name: {line["message"] for line in lines} for name, lines in logged.items()}
    assert {
        "intake",
        "audience",
        "approval queued for digests",  # approval_request (asks go out as digests, docs/architecture.md)
        "digests",  # approval_digest, which emails them
        "letters batch",
        "client outcome",
        "campaign summary",
    } <= messages["otc"]
    assert {"notice sent", "letters batch", "client outcome", "campaign summary"} <= messages["recall"]
    assert {"mandatory_account_team", "mandatory_client"} <= {line.get("kind") for line in logged["recall"]}
    assert "operator_alert" in {line.get("kind") for line in logged["failed"]}


def test_every_kind_of_email_and_recipient_was_scanned(runs):
    """Account teams, clients, escalation contacts, operators and members: each got emails, and each was scanned."""
    seen = {name: {(e.kind, role) for e in scan.emails for role in e.roles} for name, scan in runs.items()}
    assert {
        ("approval", "account_team"),
        ("approval", "client"),
        ("approval", "escalation"),
        ("letter", "member"),
    } <= seen["otc"]
    assert {("notice", "account_team"), ("notice", "client"), ("letter", "member")} <= seen["recall"]
    assert ("approval", "account_team") not in seen["recall"], "a mandatory notice asks nobody"
    assert ("operator_alert", "operator") in seen["failed"]
    for scan in runs.values():
        for message in scan.emails:
            # the header and the recipients agree: a letter goes to one member, anything else to no member
            assert "unknown" not in message.roles, (message.path.name, message.recipients)
            if message.kind == "letter":
                assert message.roles == {"member"} and len(message.members) == 1, message.path.name
            else:
                assert "member" not in message.roles, message.path.name


@pytest.mark.parametrize("name", ["otc", "recall"])
def test_the_letters_do_carry_the_members_data(runs, name):
    """The positive control: the canaries are real, and reach the print vendor's file and members' own emails."""
    out = runs[name].result.out_dir
    manifests = "".join(p.read_text() for p in (out / "letters").rglob("*manifest.csv"))
    assert len(hits(manifests, ALL_CANARIES)) > 20
    letters = [e for e in runs[name].emails if e.kind == "letter"]
    assert letters  # M000, M003, M006, M009 consented to email and prefer it
    for message in letters:
        (member_id,) = message.members
        _, texts = email_texts(message.path.read_bytes())
        decoded = "".join(text for where, text in texts if where != "raw")
        assert canary("last_name", int(member_id[1:])) in decoded, message.path.name


def test_the_pharmacists_brief_was_in_what_was_scanned(runs):
    """The brief reaches report.json, the account teams' and clients' request emails and the approval pages: the
    scans above covered it (its PDF is drawn from the same client view the client's page shows)."""
    report = read_json(runs["otc"], "report.json")
    assert all(row["brief"] and row["brief"]["claims"] >= 1 for row in report["clients"])
    approvals = [e for e in runs["otc"].emails if e.kind == "approval"]
    for message in approvals:
        _, texts = email_texts(message.path.read_bytes())
        assert "The pharmacist's brief" in "".join(text for _, text in texts), message.path.name
    pages = [
        c for c in runs["otc"].calls if c["function"] == "approval_api" and "pharmacist" in json.dumps(c)
    ]
    assert pages, "no approval page showed the brief"


@pytest.mark.parametrize("name", ["otc", "recall"])
def test_the_prescriber_notices_do_carry_their_patients_and_were_the_only_other_place(runs, name):
    """The notices are excluded from the scan above: they exist, and list the patients' names (canaries)."""
    out = runs[name].result.out_dir / "prescriber-notices"
    manifests = list(out.glob("*.manifest.csv"))
    assert manifests, "no prescriber notices were written"
    notices = "".join(
        subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
        for path in out.glob("*.pdf")
    )
    assert hits(notices, ALL_CANARIES), "the notices list no patient"
    functions = {call["function"] for call in runs[name].calls}
    assert {"prescribers", "prescriber_notices"} <= functions  # their inputs and outputs were scanned above
