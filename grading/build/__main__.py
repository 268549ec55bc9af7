"""`python -m grading.build`: regenerate (or with --check, compare) every generated file; see generated.py."""

import sys

from .generated import main

sys.exit(main())
