"""The function worker's process (`python -m coach_local.function_worker FD`): serves the runtime on the socket FD.
Its own module, so that the runtime's module is imported once, not again as `__main__`."""

from __future__ import annotations

import os
import sys
from multiprocessing.connection import Connection

from coach_local.runtime.function_workers import serve


def main() -> None:
    serve(Connection(int(sys.argv[1])))
    # Served and reported: leave without the interpreter's teardown of every module and object, which took the
    # runtime's stop two thirds of a second (the log file is closed, nothing else holds unwritten data).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
