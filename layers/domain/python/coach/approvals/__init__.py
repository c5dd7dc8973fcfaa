"""Approvals people can trust (docs/architecture.md, decision 4): opaque single-purpose links (only their hash is
stored), a GET that never decides, a POST with a per-link CSRF token that does, the first decision of a group wins,
and an append-only audit record is written before the workflow hears.

Public API: `coach.approvals.asking` (request_approval), `coach.approvals.deciding` (show, decide),
`coach.approvals.trail` (after_decision, audit_trail), `coach.approvals.waits` (close_waits), the store port
`coach.ports.ApprovalStore` (DynamoDB: `coach.adapters.dynamodb`; in memory: `coach.adapters.memory`),
`coach.approvals.pages` (Page, SECURITY_HEADERS); notices are `coach.notices`."""
