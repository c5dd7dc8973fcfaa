"""Local tools for the prescribers table (issue 17): its lake check and the NPPES import."""
