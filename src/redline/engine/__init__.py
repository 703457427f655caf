"""The engine: compiled vectorised runs, the fused engine, the reference interpreter, the keyed
generator."""

import os

# Intel's SVML would vectorise Numba's loops over exp, log and cos with code that differs in
# the last bit from the C library's, which every engine must share (numeric.py); it is turned
# off before anything imports Numba.
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")
