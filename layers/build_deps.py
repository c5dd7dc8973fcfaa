"""Build the Lambda dependency layer without Docker: manylinux wheels for Python 3.11 on x86_64, via pip.

The pins come from uv.lock: `uv export` of the project's core dependencies (what ships to Lambda), without the
`local` extra or any dependency group, written to build/layers/requirements-lambda.txt (kept for inspection).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "build" / "layers" / "deps" / "python"
REQUIREMENTS = ROOT / "build" / "layers" / "requirements-lambda.txt"
LIMIT_BYTES = 250 * 1024 * 1024  # Lambda's unzipped limit for function + layers
# The core dependencies only: no extra (the local runtime's), no group (the developer's), not the project itself.
EXPORT_ARGS = ("export", "--frozen", "--no-default-groups", "--no-emit-project", "--format=requirements.txt")


def uv() -> str:
    """The uv the Makefile installs (.tools/bin/uv), else one on PATH."""
    pinned = ROOT / ".tools" / "bin" / "uv"
    found = str(pinned) if pinned.exists() else shutil.which("uv")
    if found is None:
        sys.exit("uv not found: run `make .venv/.synced` (it installs .tools/bin/uv)")
    return found


def lambda_requirements() -> str:
    """The layer's requirements.txt (every package pinned, with hashes), read from uv.lock; no network."""
    result = subprocess.run([uv(), *EXPORT_ARGS], cwd=ROOT, check=True, capture_output=True, text=True)
    return result.stdout


def main() -> None:
    REQUIREMENTS.parent.mkdir(parents=True, exist_ok=True)
    REQUIREMENTS.write_text(lambda_requirements())
    shutil.rmtree(TARGET, ignore_errors=True)
    TARGET.mkdir(parents=True)
    # The project venv is managed by uv (no pip in it); the bootstrap venv in .tools has pip.
    pip_python = ROOT / ".tools" / "bin" / "python"
    python = str(pip_python) if pip_python.exists() else sys.executable
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--platform",
            "manylinux2014_x86_64",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            "3.11",
            "--target",
            str(TARGET),
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
    )
    for cache in TARGET.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    size = sum(p.stat().st_size for p in TARGET.rglob("*") if p.is_file())
    print(f"dependency layer: {TARGET} ({size / 1024 / 1024:.1f} MiB unzipped)")
    if size > LIMIT_BYTES:
        sys.exit(f"the layer is {size} bytes, over Lambda's 250 MiB unzipped limit")


if __name__ == "__main__":
    main()
