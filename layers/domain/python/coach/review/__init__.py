"""Clinical review: the first stage of a campaign started by an FDA feed (docs/feeds.md, "Clinical review").

A feed's candidate is public news read by a program: a clinical pharmacist confirms it, corrects it (NDCs, effective
date, alternatives, summary) or dismisses it, through the same scanner-safe link, page and audit as the approvals
(GET never decides, POST with the page's CSRF token, the first decision wins). Only a confirmed or corrected event
reaches the audience stage."""
