"""``python -m ansar.command`` is the ``ansar`` command."""

import sys

from .main import main

sys.exit(main())
