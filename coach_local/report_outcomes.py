"""The report's "Did it work?" section: per client and in total, what lettered and held-out members did over the
follow-up, the difference with its 95% interval, and a chart of the campaign's rates (counts only)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

OUTCOME_LABELS = {
    "switched": "switched to an alternative",
    "refilled": "refilled the same drug",
    "no_fill": "no further fill",
}
LETTERED, HELD_OUT = "#0b6e4f", "#9aa5b1"

SECTION = """<section id="measured-outcomes"><h2>Did it work? Lettered against held out</h2>
<p>Paid claims filled {{ o.window.first_day }} to {{ o.window.last_day }} ({{ o.follow_up_days }} days after the
audience was drawn), members of the clients whose letters went out.
{% if o.holdout_share %}A holdout of {{ "%.0f" | format(100 * o.holdout_share) }}% of the reachable members, chosen
from the campaign and member ids before the letters, got no letter: {{ "{:,}".format(o.totals.held_out.members) }}
held out, {{ "{:,}".format(o.totals.lettered.members) }} lettered.{% else %}No member was held out: the rates have
nothing to be compared with.{% endif %}
{% if o.alternatives %}Listed alternatives: {{ o.alternatives | join(", ") }}.{% endif %}</p>
{{ chart }}
<table><thead><tr><th>client</th><th class="n">lettered</th><th class="n">held out</th>
{% for key, label in labels.items() %}<th class="n">{{ label }}: lettered / held out (difference, 95% interval)</th>{% endfor %}
</tr></thead><tbody>
{% for e in rows %}<tr><td>{{ e.client_id }} {{ e.client_name }}</td>
<td class="n">{{ "{:,}".format(e.lettered.members) }}</td><td class="n">{{ "{:,}".format(e.held_out.members) }}</td>
{% for key in labels %}<td class="n">{{ pct(e.lettered.rates[key]) }} / {{ pct(e.held_out.rates[key]) }}
{% if e.difference[key] %}<br><span class="note">{{ points(e.difference[key].difference) }}
({{ points(e.difference[key].ci_low) }} to {{ points(e.difference[key].ci_high) }})</span>{% endif %}</td>{% endfor %}
</tr>{% endfor %}
</tbody></table>
<p class="note">Differences are in percentage points, lettered minus held out, with Newcombe's 95% interval
(exact per group where a count is under 5). An interval that includes 0 cannot tell the letter's effect from chance.</p>
</section>"""


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _points(value: float) -> str:
    return f"{100 * value:+.1f}"


def outcomes_chart(totals: dict[str, Any]) -> Markup:
    from coach_local.report_html import _svg, pyplot

    labels = list(OUTCOME_LABELS.values())
    lettered = [100 * (totals["lettered"]["rates"][k] or 0) for k in OUTCOME_LABELS]
    held = [100 * (totals["held_out"]["rates"][k] or 0) for k in OUTCOME_LABELS]
    fig, ax = pyplot().subplots(figsize=(8, 2.6))
    positions = list(range(len(labels)))[::-1]
    ax.barh([p + 0.2 for p in positions], lettered, height=0.4, color=LETTERED, label="lettered")
    ax.barh([p - 0.2 for p in positions], held, height=0.4, color=HELD_OUT, label="held out")
    for p, a, b in zip(positions, lettered, held, strict=True):
        ax.text(a + 0.5, p + 0.2, f"{a:.1f}%", va="center", fontsize=9)
        ax.text(b + 0.5, p - 0.2, f"{b:.1f}%", va="center", fontsize=9)
    ax.set_yticks(positions, labels)
    ax.set_xlim(0, max([*lettered, *held, 1.0]) * 1.18)
    ax.set_xlabel("% of the group's members")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)  # never over a bar
    return _svg(fig, "Outcome rates, lettered against held out (all measured clients)")


def outcomes_section(report: dict[str, Any]) -> Markup | None:
    """The section, or None for a campaign that measured nothing (or not yet)."""
    outcomes = report.get("outcomes")
    if not outcomes:
        return None
    rows = [{"client_id": "All clients", "client_name": "", **outcomes["totals"]}, *outcomes["clients"]]
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return Markup(  # noqa: S704  (rendered by an autoescaping Jinja environment)
        env.from_string(SECTION).render(
            o=outcomes,
            rows=rows,
            labels=OUTCOME_LABELS,
            chart=outcomes_chart(outcomes["totals"]),
            pct=_pct,
            points=_points,
        )
    )
