"""Approvals people can trust (docs/architecture.md, decision 4): opaque single-purpose links (only their hash is stored), a GET that
never decides, a POST with a per-link CSRF token that does, the first decision of a group wins, and an
append-only audit record is written before the workflow hears.

Public API: `coach.approvals.service` (request_approval, show, decide, audit_trail), `coach.adapters.dynamodb`
(ApprovalStore, DynamoApprovalStore, MemoryApprovalStore), `coach.notices` (send_notice),
`coach.approvals.pages` (Page, SECURITY_HEADERS), `coach.audience.privacy` (client_facing_count)."""
