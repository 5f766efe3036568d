"""Where pytest finds the calisim package: the build tree's python/ directory.

scripts/test.sh sets PYTHONPATH to build/test/python. Without it, the package is looked for
beside the calisim binary named by CALISIM_BIN (<build>/python), then in build/test/python of
this checkout. There is no fallback to an installed package: the tests test this build.
"""

import os
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]


def _package_dir():
    if os.environ.get("CALISIM_PYTHON_DIR"):
        return Path(os.environ["CALISIM_PYTHON_DIR"])
    if os.environ.get("CALISIM_BIN"):
        return Path(os.environ["CALISIM_BIN"]).resolve().parent / "python"
    return _ROOT / "build" / "test" / "python"


_dir = _package_dir()
if (_dir / "calisim").is_dir() and str(_dir) not in sys.path:
    sys.path.insert(0, str(_dir))
