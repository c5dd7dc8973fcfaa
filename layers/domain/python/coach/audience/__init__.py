"""The audience stage: who is affected by an event, and who of them can be reached (DATA_CONTRACT.md)."""
