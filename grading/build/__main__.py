"""`python -m grading.build`: see grading/build/generated.py."""

import sys

from .generated import main

sys.exit(main())
