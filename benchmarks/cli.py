"""Command-line start benchmark: how long ``redline --help`` and ``redline --version`` take as
a user's shell runs them — a fresh Python process each — against the 0.3 s target.

    python benchmarks/cli.py              # median of 15 starts of each
    python benchmarks/cli.py --repeat 5

Each start is timed in wall-clock seconds and in CPU seconds (user + system, of the child
process: on a machine shared with other work, CPU time is the steadier figure, and the best of
the starts the least disturbed one); the median and the best of each are printed, with the
machine's load average. ``python -X importtime -c "import redline.cli"`` says where
the time of an import goes.

The starts read redline's modules from bytecode, as an installed package has it (pip compiles it
at install): the benchmark compiles what is missing first. From source (a checkout run with
``PYTHONDONTWRITEBYTECODE`` set) every start would compile them again, a quarter of a second.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 0.3

_START = "import sys; from redline.cli import app; sys.exit(app(prog_name='redline'))"


def one_start(args: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one ``redline ARGS`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _START, *args], check=True, stdout=subprocess.DEVNULL, timeout=60
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="starts of each command")
    opts = parser.parse_args()
    compile_redline()
    one_start(["--version"])  # the first start reads the files from disk; not counted
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for args in (["--help"], ["--version"]):
        times = [one_start(args) for _ in range(opts.repeat)]
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        verdict = "meets" if wall < TARGET_SECONDS else "misses"
        print(
            f"redline {' '.join(args):10s} median of {opts.repeat}: {wall:.3f} s wall, "
            f"{cpu:.3f} s CPU — {verdict} the {TARGET_SECONDS} s target "
            f"({wall / TARGET_SECONDS:.0%} of it); best {min(t[0] for t in times):.3f} s wall, "
            f"{min(t[1] for t in times):.3f} s CPU"
        )
    bare = statistics.median(one_start_python() for _ in range(opts.repeat))
    print(f"python -c pass    median of {opts.repeat}: {bare:.3f} s wall (the interpreter alone)")


def compile_redline() -> None:
    """Write the bytecode of redline's modules where it is missing, as ``pip install`` does."""
    import compileall

    import redline

    compileall.compile_dir(Path(redline.__file__).parent, quiet=1)


def one_start_python() -> float:
    """Wall-clock seconds of a Python that does nothing: the floor under any start."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=60)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
