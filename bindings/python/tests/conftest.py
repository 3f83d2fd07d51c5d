"""Fixtures for the Python binding's tests: the package on sys.path and the test PKI.

NBTLS_CERTS: a directory made by tests/gen-certs.sh (created there when missing), else a
temporary one.  NBTLS_LIBDIR: where libnbtls.so.0 is (default: target/release).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bindings" / "python"))


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    env = os.environ.get("NBTLS_CERTS")
    d = Path(env) if env else tmp_path_factory.mktemp("certs")
    if not (d / ".done").exists():
        subprocess.run(["sh", str(ROOT / "tests" / "gen-certs.sh"), str(d)], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
    return d
