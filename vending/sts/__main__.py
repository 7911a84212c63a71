"""Entry point of ``python -m vending.sts``."""

import sys

from vending.sts.cli import main

sys.exit(main())
