"""Entry-point helper: bad input ends with a one-line error and a non-zero exit, not a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from util.state_dicts import CheckpointError

# Errors that our own checks raise with a message meant for the user.
USER_ERRORS = (FileNotFoundError, NotADirectoryError, ValueError, CheckpointError)


def run_main(main: Callable[[], None]) -> None:
    """Calls `main()`; a user error prints `error: <message>` to stderr and exits with status 2.

    Set VID2VID_TRACEBACK=1 to get the full traceback instead.
    """
    try:
        main()
    except USER_ERRORS as error:
        if os.environ.get("VID2VID_TRACEBACK"):
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)
