"""``python -m tierconsole.cli``: the same as the ``tierconsole`` command."""
import sys

from .main import main

sys.exit(main())
