"""``python -m infra.console``."""

import sys

from infra.console import main

sys.exit(main())
