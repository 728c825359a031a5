"""``python build.py ARGS`` is ``bindery build ARGS``: the entry point next to the book."""

import sys

from bindery.quick import main

if __name__ == "__main__":
    main(["build", *sys.argv[1:]])
