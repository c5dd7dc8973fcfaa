"""`coach approvers delegate` as a user meets it: the delegation is kept beside the lake (where a run loads it),
and a mistake exits 2 saying what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from coach_local.cli import app
from coach_local.delegations import read_delegations

runner = CliRunner()


def delegate(lake, *args: str):
    return runner.invoke(app, ["approvers", "delegate", *args, "--lake", str(lake)])


def test_a_delegation_is_kept_for_the_days_given(tmp_path):
    result = delegate(
        tmp_path,
        "Lead@PBM.example",
        "--to",
        "kim@pbm.example",
        "--from",
        "2026-12-01",
        "--until",
        "2026-12-05",
    )
    assert result.exit_code == 0, result.output
    (kept,) = read_delegations(tmp_path)
    assert (kept.approver, kept.delegate) == ("lead@pbm.example", "kim@pbm.example")
    assert datetime.fromtimestamp(kept.starts, UTC) == datetime(2026, 12, 1, tzinfo=UTC)
    assert datetime.fromtimestamp(kept.ends, UTC) == datetime(2026, 12, 6, tzinfo=UTC), (
        "the last day is included"
    )
    again = delegate(
        tmp_path,
        "lead@pbm.example",
        "--to",
        "sam@pbm.example",
        "--from",
        "2026-12-01",
        "--until",
        "2026-12-02",
    )
    assert again.exit_code == 0
    assert [d.delegate for d in read_delegations(tmp_path)] == ["sam@pbm.example"], (
        "the same period is replaced"
    )


def test_mistakes_exit_2_saying_what_is_wrong(tmp_path):
    own = delegate(
        tmp_path,
        "lead@pbm.example",
        "--to",
        "lead@pbm.example",
        "--from",
        "2026-12-01",
        "--until",
        "2026-12-05",
    )
    assert own.exit_code == 2 and "cannot be their own delegate" in own.output
    backwards = delegate(
        tmp_path,
        "lead@pbm.example",
        "--to",
        "kim@pbm.example",
        "--from",
        "2026-12-05",
        "--until",
        "2026-12-01",
    )
    assert backwards.exit_code == 2 and "must end after it starts" in backwards.output
    bad_day = delegate(
        tmp_path,
        "lead@pbm.example",
        "--to",
        "kim@pbm.example",
        "--from",
        "12/01/2026",
        "--until",
        "2026-12-05",
    )
    assert bad_day.exit_code == 2 and "12/01/2026" in bad_day.output
    assert (
        delegate(
            tmp_path / "missing",
            "a@b.example",
            "--to",
            "c@d.example",
            "--from",
            "2026-12-01",
            "--until",
            "2026-12-02",
        ).exit_code
        == 2
    )
    assert not read_delegations(tmp_path)
