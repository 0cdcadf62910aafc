"""`python -m agent` is the `digest` command."""

from agent.cli import main

main()
