"""``python -m bindery`` is the ``bindery`` command."""

from .cli import main

main()
