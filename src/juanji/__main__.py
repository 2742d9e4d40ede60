"""``python -m juanji ...``: the same as the ``juanji`` command."""

from .cli import main

raise SystemExit(main())
