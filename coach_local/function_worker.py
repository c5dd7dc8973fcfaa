"""The function worker's process (`python -m coach_local.function_worker FD`): serves the runtime on the socket FD.
Its own module, so that the runtime's module is imported once, not again as `__main__`."""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from coach_local.runtime.function_workers import serve


def main() -> None:
    serve(Connection(int(sys.argv[1])))


if __name__ == "__main__":
    main()
