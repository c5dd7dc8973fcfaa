"""`python -m coach_local.cli` runs `coach`."""

from coach_local.cli import main

main()
