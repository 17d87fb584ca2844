"""python -m budgetopt: the command line."""

from .cli import run

run()
