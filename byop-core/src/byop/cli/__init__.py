"""byop's command line: ``byop plugins``, ``byop runs show|export|plot|repair``, ``byop dashboard``.

Run ``byop --help`` for the commands. `main` is the console script's entry point, and can be
called with a list of arguments.

Example:
    ```python
    from byop.cli import main

    assert main(["plugins"]) == 0
    ```
"""

from __future__ import annotations

from byop.cli._main import main

__all__ = ["main"]
