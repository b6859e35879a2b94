"""``python -m byop.cli``: the same as the ``byop`` command."""

from __future__ import annotations

from byop.cli._main import main

raise SystemExit(main())
