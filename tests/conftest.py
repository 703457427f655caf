"""Test-wide settings."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Compiled fused-engine kernels go to a cache shared by this machine's test processes (pytest
# workers included), not the user's cache folder.
os.environ.setdefault(
    "REDLINE_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"redline-test-cache-{os.getuid()}")
)
