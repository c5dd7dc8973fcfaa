"""The report page's Prescribers section (issue 17): prescribers notified per client, and the prescribers who
could not be told, by reason. Counts only, like the rest of the page."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

REASONS = {
    "no_npi": "claim without a prescriber NPI",
    "invalid_npi": "NPI fails its check digit",
    "unknown_npi": "NPI not in prescribers/",
    "no_address": "no usable fax or practice address",
}
SECTION = """<section id="prescribers"><h2>Prescribers</h2>
{% if not p.told %}<p>Prescribers are not told about this event (playbook: {{ p.policy | replace("_", " ") }}).</p>
{% else %}<div class="kpis"><div class="kpi">Prescribers notified<b>{{ "{:,}".format(p.notified) }}</b></div>
<div class="kpi">Patients listed<b>{{ "{:,}".format(p.patients_listed) }}</b></div>
<div class="kpi">Clients whose patients are listed<b>{{ p.clients_included }}</b></div></div>
<p class="note">One notice per prescriber, by fax or mail, never by email; policy: {{ p.policy | replace("_", " ") }}.</p>
<table><thead><tr><th>not notified because</th><th class="n">prescribers</th><th class="n">patients</th></tr></thead><tbody>
{% for reason, label in reasons.items() %}{% set n = p.not_notified.get(reason, {}) %}<tr><td>{{ label }}</td>
<td class="n">{{ "{:,}".format(n.get("prescribers", 0)) }}</td><td class="n">{{ "{:,}".format(n.get("patients", 0)) }}</td></tr>{% endfor %}
</tbody></table>
<table><thead><tr><th>client</th><th class="n">prescribers notified</th><th class="n">patients listed</th></tr></thead><tbody>
{% for c in clients %}<tr><td>{{ c.client_id }} {{ c.client_name }}</td><td class="n">{{ "{:,}".format(c.prescribers_notified) }}</td>
<td class="n">{{ "{:,}".format(c.prescriber_patients_listed) }}</td></tr>{% endfor %}
</tbody></table>{% endif %}</section>
"""


def prescriber_section(report: dict[str, Any]) -> Markup:
    """The section's HTML, or nothing for a report written before prescribers were counted."""
    if "prescribers" not in report:
        return Markup("")
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    clients = [c for c in report["clients"] if "prescribers_notified" in c]
    html = env.from_string(SECTION).render(p=report["prescribers"], clients=clients, reasons=REASONS)
    return Markup(html)  # noqa: S704  (rendered with autoescape on: every value in it is escaped)
