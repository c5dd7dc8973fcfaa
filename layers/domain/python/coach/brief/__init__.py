"""The pharmacist's brief: per affected client, who is affected, what the drug costs the plan today, what the event
changes and what we recommend (docs/brief.md). Counts and sums only: member rows never leave the lake."""
