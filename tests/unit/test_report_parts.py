"""The numbers and the grouping report.html shows, checked against an independent computation (numpy)."""

from __future__ import annotations

from typing import Any

import numpy as np

from coach_local.report_html import TOP_CLIENTS, approval_stats, clients_chart


def test_response_times_median_and_90th_percentile_per_role():
    team_hours = [0.5, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
    approvals: list[dict[str, Any]] = [
        {
            "role": "account_team",
            "response_seconds": h * 3600,
            "decision": "approved",
            "reminders": 1 if h > 20 else 0,
            "escalations": 0,
        }
        for h in team_hours
    ] + [
        {
            "role": "account_team",
            "response_seconds": None,
            "decision": "no_response",
            "reminders": 2,
            "escalations": 1,
        },
        {
            "role": "client",
            "response_seconds": 7200,
            "decision": "declined",
            "reminders": 0,
            "escalations": 0,
        },
    ]
    team, client = approval_stats(approvals)
    assert (team["role"], team["asked"], team["answered"], team["no_response"]) == (
        "Account teams",
        12,
        11,
        1,
    )
    assert team["median_hours"] == np.median(team_hours)
    assert abs(team["p90_hours"] - np.percentile(team_hours, 90)) < 1e-9
    assert (team["reminders"], team["escalations"]) == (4 + 2, 1)
    assert (client["asked"], client["declined"], client["median_hours"], client["p90_hours"]) == (
        1,
        1,
        2.0,
        2.0,
    )


def test_the_client_chart_shows_the_top_20_and_groups_the_rest():
    rows: list[dict[str, Any]] = [
        {"client_id": f"C{i:04d}", "affected": 1000 - i * 10, "reachable": 900 - i * 10}
        for i in range(TOP_CLIENTS + 10)
    ]
    svg = str(clients_chart(list(reversed(rows))))
    shown = [r["client_id"] for r in rows[:TOP_CLIENTS]]
    assert all(client_id in svg for client_id in shown)
    assert rows[TOP_CLIENTS]["client_id"] not in svg and "10 others" in svg
    assert (
        'href="http' not in svg and "<image" not in svg and "url(http" not in svg
    )  # inline: fetches nothing
