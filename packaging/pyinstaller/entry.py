"""Entry point of the PyInstaller bundle: the same ``visualizer`` command as the pip
install (the window without arguments, the headless subcommands with them)."""

import multiprocessing
import sys

from visualizer.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
