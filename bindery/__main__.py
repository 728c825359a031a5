"""``python -m bindery`` is the ``bindery`` command."""

from .quick import main

main()
