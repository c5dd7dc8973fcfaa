"""Prescribers as a second audience of a campaign (issue 17): who is told (policy), the NPI check digit (npi),
the one query finding each affected patient's prescriber (sql), the plan grouping patients by prescriber (plan),
the notices themselves (notices) and the report's counts (report). Docs: docs/data-contract.md, docs/architecture.md."""
