"""Approvals people can trust (DESIGN.md §4): opaque single-purpose links, a GET that never decides, a POST with
a CSRF token that does, the first decision of a team wins, and an audit record written before the workflow hears."""
