"""``python -m kerascv_course.cli``."""

import sys

from kerascv_course.cli import main

sys.exit(main())
