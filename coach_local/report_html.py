"""report.html: the campaign for people, from report.json — one self-contained page (inline SVG charts, no
external asset), counts and times only: no member appears in it.
"""

from __future__ import annotations

import io
import json
import statistics
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from coach.brief.format import usd
from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from coach_local.prescribers.report_section import prescriber_section
from coach_local.report_outcomes import outcomes_section

INK, ACCENT, MUTED, WARN = "#1f2933", "#0b6e4f", "#9aa5b1", "#b54708"
TOP_CLIENTS = 20


@cache
def pyplot() -> ModuleType:
    """matplotlib, styled for the report: loaded when the first chart is drawn (about a second of CPU)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text: searchable, selectable, readable by screen readers
            "svg.hashsalt": "coach-report",  # stable element ids: the same report renders the same page
            "font.family": "sans-serif",
            "font.size": 10,
            "axes.edgecolor": MUTED,
            "axes.labelcolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt


class ReportError(ValueError):
    """report.json is missing or not a campaign report (exit code 2)."""


def load_report(out_dir: Path) -> dict[str, Any]:
    path = out_dir / "report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReportError(
            f"{path}: no report here; run `coach demo` or `coach run --out {out_dir}` first"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    missing = [k for k in ("campaign_id", "clients", "totals") if k not in report]
    if missing:
        raise ReportError(f"{path}: not a campaign report (missing {', '.join(missing)})")
    return dict(report)


def _svg(fig: Any, title: str) -> Markup:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Title": title})
    pyplot().close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG is inline in HTML
    return Markup(text.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(title)}" ', 1))  # noqa: S704


def funnel(report: dict[str, Any]) -> list[tuple[str, int]]:
    """affected → reachable → cleared by the account team → opted in by the client → letters and emails."""
    rows = report["clients"]
    # a client whose contacts could not be used was asked nothing and sent nothing (docs/security.md)
    went_ahead = [r for r in rows if r.get("outcome") not in ("election_never", "invalid_contacts")]
    account_ok = [r for r in went_ahead if r["account_team_decision"] in ("approved", "not_asked")]
    client_ok = [r for r in account_ok if r["client_decision"] in ("approved", "auto", "not_asked")]
    totals = report["totals"]
    return [
        ("Affected members", int(totals["affected"])),
        ("Reachable (address or email)", int(totals["reachable"])),
        ("Approved by account team", sum(int(r["reachable"]) for r in account_ok)),
        ("Opted in by client", sum(int(r["reachable"]) for r in client_ok)),
        ("Letters and emails sent", int(totals["letters"])),
    ]


def funnel_chart(steps: list[tuple[str, int]]) -> Markup:
    fig, ax = pyplot().subplots(figsize=(8, 2.8))
    labels = [name for name, _ in steps][::-1]
    values = [value for _, value in steps][::-1]
    bars = ax.barh(labels, values, color=[ACCENT if i == 0 else "#3e9c7b" for i in range(len(values))])
    top = max(values, default=0) or 1
    for bar, value in zip(bars, values, strict=True):
        ax.text(bar.get_width() + top * 0.01, bar.get_y() + bar.get_height() / 2, f"{value:,}", va="center")
    ax.set_xlim(0, top * 1.15)
    ax.set_xlabel("members")
    return _svg(fig, "Campaign funnel")


def clients_chart(rows: list[dict[str, Any]]) -> Markup:
    ranked = sorted(rows, key=lambda r: (-int(r["affected"]), r["client_id"]))
    shown = ranked[:TOP_CLIENTS]
    labels = [r["client_id"] for r in shown]
    affected = [int(r["affected"]) for r in shown]
    reachable = [int(r["reachable"]) for r in shown]
    rest = ranked[TOP_CLIENTS:]
    if rest:
        labels.append(f"{len(rest)} others")
        affected.append(sum(int(r["affected"]) for r in rest))
        reachable.append(sum(int(r["reachable"]) for r in rest))
    fig, ax = pyplot().subplots(figsize=(8, max(2.0, 0.28 * len(labels) + 0.8)))
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, affected, color=MUTED, label="affected")
    ax.barh(positions, reachable, color=ACCENT, height=0.5, label="reachable")
    ax.set_yticks(positions, labels)
    ax.set_xlabel("members")
    ax.legend(loc="lower right", frameon=False)
    return _svg(fig, f"Affected members by client (top {TOP_CLIENTS} and the rest)")


def _percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def approval_stats(approvals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per role: questions asked, answered, median and 90th-percentile response (hours), reminders, escalations."""
    stats = []
    for role, label in (("account_team", "Account teams"), ("client", "Clients")):
        rows = [a for a in approvals if a["role"] == role]
        if not rows:
            continue
        hours = sorted(a["response_seconds"] / 3600 for a in rows if a.get("response_seconds") is not None)
        stats.append(
            {
                "role": label,
                "asked": len(rows),
                "answered": len(hours),
                "approved": sum(1 for a in rows if a["decision"] == "approved"),
                "declined": sum(1 for a in rows if a["decision"] == "declined"),
                "no_response": sum(1 for a in rows if a["decision"] == "no_response"),
                "median_hours": statistics.median(hours) if hours else None,
                "p90_hours": _percentile(hours, 90) if hours else None,
                "reminders": sum(int(a["reminders"]) for a in rows),
                "escalations": sum(int(a["escalations"]) for a in rows),
            }
        )
    return stats


def response_chart(approvals: list[dict[str, Any]]) -> Markup | None:
    series = []
    for role, label in (("account_team", "account teams"), ("client", "clients")):
        hours = [
            a["response_seconds"] / 3600
            for a in approvals
            if a["role"] == role and a.get("response_seconds") is not None
        ]
        if hours:
            series.append((label, hours))
    if not series:
        return None
    fig, ax = pyplot().subplots(figsize=(8, 2.6))
    ax.hist(
        [h for _, h in series],
        bins=20,
        label=[name for name, _ in series],
        color=[ACCENT, WARN][: len(series)],
    )
    ax.set_xlabel("hours from the first request to the decision (workflow time)")
    ax.set_ylabel("decisions")
    ax.legend(frameon=False)
    return _svg(fig, "Approval response times")


def stages_chart(stages: list[dict[str, Any]]) -> Markup | None:
    if not stages:
        return None
    fig, ax = pyplot().subplots(figsize=(8, 0.35 * len(stages) + 1.0))
    positions = list(range(len(stages)))[::-1]
    for pos, stage in zip(positions, stages, strict=True):
        span = max(stage["end_seconds"] - stage["start_seconds"], 0.02)
        ax.broken_barh([(stage["start_seconds"], span)], (pos - 0.35, 0.7), color=ACCENT)
    ax.set_yticks(positions, [s["stage"] for s in stages])
    ax.set_xlabel("seconds after the campaign started (local run)")
    return _svg(fig, "Timings per stage")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Campaign report — {{ r.campaign_id }}</title>
<style>
 body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;margin:0;background:#f5f7fa}
 main{max-width:960px;margin:0 auto;padding:24px}
 header{background:#0b6e4f;color:#fff;padding:20px 24px}
 header h1{margin:0;font-size:22px} header p{margin:4px 0 0}
 section{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:16px 20px;margin:16px 0}
 h2{font-size:18px;margin:0 0 8px}
 table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
 th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e4e7eb} td.n,th.n{text-align:right}
 .status-succeeded,.status-failed{background:#fff;border-radius:4px;padding:1px 8px;font-weight:600}
 .status-succeeded{color:#0b6e4f} .status-failed{color:#b42318}
 .kpis{display:flex;flex-wrap:wrap;gap:12px} .kpi{flex:1 1 150px;border:1px solid #e4e7eb;border-radius:6px;padding:8px 12px}
 .kpi b{display:block;font-size:22px} svg{max-width:100%;height:auto}
 .note{color:#52606d;font-size:13px}
</style></head>
<body>
<header><h1>{{ r.drug }}: {{ r.event_type | replace("_", " ") }}</h1>
<p>Campaign {{ r.campaign_id }} · event {{ r.event_id }} ·
<span class="status-{{ r.status }}">{{ r.status }}</span></p></header>
<main>
<section id="funnel"><h2>Funnel</h2>
<div class="kpis">{% for name, value in funnel %}<div class="kpi">{{ name }}<b>{{ "{:,}".format(value) }}</b></div>{% endfor %}</div>
<p class="note">Letters and emails: {{ "{:,}".format(r.totals.mailed) }} letters on paper,
{{ "{:,}".format(r.totals.emailed) }} by email.</p>
{% if r.held_out %}<p class="note">Held out: {{ "{:,}".format(r.held_out) }} reachable members got no letter, at random, so the
letter's effect can be measured (see "Did it work?").</p>{% endif %}
{% if r.data_issues %}<p class="note">Members whose own data could not be used:
{% for reason, count in r.data_issues.items() %}{{ reason | replace("_", " ") }} {{ "{:,}".format(count) }}{% if not loop.last %}; {% endif %}{% endfor %}.</p>{% endif %}
{{ funnel_chart }}</section>

<section id="clients"><h2>Affected members by client</h2>{{ clients_chart }}</section>

<section id="approvals"><h2>Approval response times</h2>
{% if stats %}<table><thead><tr><th>who</th><th class="n">asked</th><th class="n">approved</th><th class="n">declined</th>
<th class="n">no response</th><th class="n">median (h)</th><th class="n">90th percentile (h)</th><th class="n">reminders</th>
<th class="n">escalations</th></tr></thead><tbody>
{% for s in stats %}<tr><td>{{ s.role }}</td><td class="n">{{ s.asked }}</td><td class="n">{{ s.approved }}</td>
<td class="n">{{ s.declined }}</td><td class="n">{{ s.no_response }}</td>
<td class="n">{{ hours(s.median_hours) }}</td><td class="n">{{ hours(s.p90_hours) }}</td>
<td class="n">{{ s.reminders }}</td><td class="n">{{ s.escalations }}</td></tr>{% endfor %}
</tbody></table>
{% if day_seconds %}<p class="note">Workflow time: this local run shrank each playbook day to {{ day_seconds }} s;
the hours above are the playbook's.</p>{% endif %}
{{ response_chart or "" }}{% else %}<p>No approval was asked.</p>{% endif %}
{% if declines %}<h3>Declines and their reasons</h3><table><thead><tr><th>client</th><th>who</th><th>reason</th>
</tr></thead><tbody>{% for d in declines %}<tr><td>{{ d.client_id }}</td><td>{{ d.role | replace("_", " ") }}
{%- if d.by_delegate %} (a delegate){% endif %}</td><td>{{ d.decline_reason }}</td></tr>{% endfor %}
</tbody></table>{% endif %}</section>

<section id="outcomes"><h2>Outcomes per client</h2>
<table><thead><tr><th>client</th><th>election</th><th class="n">affected</th><th class="n">reachable</th><th>account team</th>
<th>client</th><th class="n">letters</th><th class="n">emails</th><th>outcome</th></tr></thead><tbody>
{% for c in r.clients %}<tr><td>{{ c.client_id }} {{ c.client_name }}</td><td>{{ c.election }}</td>
<td class="n">{{ "{:,}".format(c.affected) }}</td><td class="n">{{ "{:,}".format(c.reachable) }}</td>
<td>{{ c.account_team_decision | replace("_", " ") }}</td><td>{{ c.client_decision | replace("_", " ") }}</td>
<td class="n">{{ "{:,}".format(c.mailed) }}</td><td class="n">{{ "{:,}".format(c.emailed) }}</td>
<td>{{ c.outcome | replace("_", " ") }}</td></tr>{% endfor %}
</tbody></table></section>

{% if r.clients | selectattr("brief") | list %}<section id="briefs"><h2>The pharmacist's brief per client</h2>
<table><thead><tr><th>client</th><th class="n">claims</th><th class="n">plan paid</th><th class="n">members paid</th>
<th class="n">0–17</th><th class="n">18–44</th><th class="n">45–64</th><th class="n">65+</th>
<th class="n">projected change, 12 months</th><th>recommendation</th></tr></thead><tbody>
{% for c in r.clients if c.brief %}{% set b = c.brief %}<tr><td>{{ c.client_id }} {{ c.client_name }}</td>
<td class="n">{{ "{:,}".format(b.claims) }}</td><td class="n">{{ usd(b.plan_paid) }}</td><td class="n">{{ usd(b.member_paid) }}</td>
{% for band in ("0-17", "18-44", "45-64", "65+") %}<td class="n">{{ "{:,}".format(b.age_bands[band]) }}</td>{% endfor %}
<td class="n">{{ usd(b.projected_annual_plan_impact) }}</td>
<td><b>{{ b.recommendation.title }}</b></td></tr>
<tr class="why"><td></td><td colspan="9" class="note">{{ b.recommendation.reason }}
{% if b.unavailable %} About the figures: {{ b.unavailable | join("; ") }}.{% endif %}</td></tr>{% endfor %}
</tbody></table>
<p class="note">Exact figures (inside the PBM). A negative change is a saving for the plan. Clients see counts of 1 to
10 as "fewer than 11" (docs/brief.md).</p></section>{% endif %}

{{ prescribers_section }}
{{ measured_outcomes or "" }}
<section id="templates"><h2>Letter template used</h2>
{% if templates %}<table><thead><tr><th>template</th><th>language</th><th>version</th><th>SHA-256</th>
<th class="n">pieces</th></tr></thead><tbody>
{% for t in templates %}<tr><td>{{ t.template_id }}</td><td>{{ t.language }}</td><td>{{ t.version }}</td>
<td><code>{{ t.sha256[:16] }}…</code></td><td class="n">{{ "{:,}".format(t.pieces) }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p>No letter was generated.</p>{% endif %}</section>

<section id="stages"><h2>Timings per stage</h2>
{% if stages %}<table><thead><tr><th>stage</th><th class="n">invocations</th><th class="n">failed</th>
<th class="n">started (s)</th><th class="n">wall clock (s)</th><th class="n">busy (s)</th></tr></thead><tbody>
{% for s in stages %}<tr><td>{{ s.stage }}</td><td class="n">{{ s.invocations }}</td><td class="n">{{ s.failed }}</td>
<td class="n">{{ "%.2f" | format(s.start_seconds) }}</td><td class="n">{{ "%.2f" | format(s.wall_seconds) }}</td>
<td class="n">{{ "%.2f" | format(s.busy_seconds) }}</td></tr>{% endfor %}
</tbody></table>{{ stages_chart or "" }}
<p class="note">Whole run: {{ "%.1f" | format(run_seconds) }} s. Busy time is the sum of the stage's function
durations (what Lambda bills); wall clock runs from its first start to its last end, waits for people included.</p>
{% else %}<p>Stage timings are recorded by local runs.</p>{% endif %}</section>
<p class="note">Counts only: this page never shows a member.</p>
</main></body></html>
"""


def _usd(value: float | None) -> str:
    return "not known" if value is None else usd(value)


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def render_report(report: dict[str, Any]) -> str:
    local = report.get("local_run") or {}
    steps = funnel(report)
    approvals = list(report.get("approvals") or [])
    stages = list(local.get("stages") or [])
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(PAGE).render(
        r=report,
        funnel=steps,
        funnel_chart=funnel_chart(steps),
        clients_chart=clients_chart(report["clients"]),
        stats=approval_stats(approvals),
        declines=[a for a in approvals if a.get("decline_reason")],
        response_chart=response_chart(approvals),
        hours=_hours,
        day_seconds=local.get("day_seconds") if local.get("day_seconds") not in (None, 86_400) else None,
        templates=local.get("templates") or [],
        stages=stages,
        stages_chart=stages_chart(stages),
        run_seconds=float(local.get("seconds") or 0.0),
        usd=_usd,
        prescribers_section=prescriber_section(report),  # issue 17
        measured_outcomes=outcomes_section(report),  # coach_local.report_outcomes
    )


def write_report(out_dir: Path) -> Path:
    """Render OUT_DIR/report.json into OUT_DIR/report.html; returns its path."""
    html = render_report(load_report(out_dir))
    target = out_dir / "report.html"
    target.write_text(html, encoding="utf-8")
    return target
