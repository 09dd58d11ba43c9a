"""``python -m auction_env`` is the ``auction-env`` command."""

import sys

from auction_env.cli import main

sys.exit(main())
