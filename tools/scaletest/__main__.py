"""``python -m tools.scaletest``."""

import sys

from tools.scaletest.run import main

sys.exit(main())
