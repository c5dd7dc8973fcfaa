"""The audience stage: who is affected by an event, and who of them can be reached (docs/data-contract.md)."""
