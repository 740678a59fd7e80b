"""``python -m salesops`` runs the command line."""

import sys

from salesops.cli import main

if __name__ == "__main__":
    sys.exit(main())
