"""Gradient Descent Explorer: no arguments opens the window; `run` and `grad` run headless."""

import sys

from explorer.app import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
