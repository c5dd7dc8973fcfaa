"""Letters: pre-approved Jinja2 templates, mail-merged per member into print-ready PDFs and a manifest (docs/architecture.md, decision 5)."""
