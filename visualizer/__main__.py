"""``python -m visualizer`` is the same as the ``visualizer`` command."""

import sys

from visualizer.cli import main

if __name__ == "__main__":
    sys.exit(main())
