"""Fixtures for the Python binding's tests: the package and the test PKI.

The tests use the installed nbtls package (tests/run-bindings.sh installs it into a
virtualenv under target/); only when none is installed do they fall back to the source in
bindings/python.  NBTLS_CERTS: a directory made by tests/gen-certs.sh (created there when
missing), else a temporary one.  NBTLS_LIBDIR: where libnbtls.so.0 is (default:
target/release in a checkout, else the installed library).
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if importlib.util.find_spec("nbtls") is None:
    sys.path.insert(0, str(ROOT / "bindings" / "python"))


def pytest_report_header(config):
    try:
        import nbtls
    except ImportError as e:
        return str(e)
    return f"nbtls package: {Path(nbtls.__file__).parent}; library: {nbtls.library_path}"


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    env = os.environ.get("NBTLS_CERTS")
    d = Path(env) if env else tmp_path_factory.mktemp("certs")
    if not (d / ".done").exists():
        subprocess.run(["sh", str(ROOT / "tests" / "gen-certs.sh"), str(d)], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
    return d
