"""``python -m skillforge.cli``: the same as the ``skillforge`` command."""

from skillforge.cli import main

main()
