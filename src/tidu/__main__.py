"""``python -m tidu``: the tidu command line (see :mod:`tidu.cli`)."""

import sys

from tidu.cli import main

if __name__ == "__main__":
    sys.exit(main())
