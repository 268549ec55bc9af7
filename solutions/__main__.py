"""`python -m solutions ...` runs the `mnist-kit` command (see solutions.cli)."""

from .cli import main

raise SystemExit(main())
