"""Language-model concurrency benchmark: a scenario whose actor is decided by a language model,
run against a local OpenAI-compatible server (tests/llm/fake_model.py, in a process of its own)
that answers every request after a fixed delay. Prints the wall time against steps × latency
(the floor when every live run of a step is asked at once) and against runs × steps × latency
(asking one request at a time), the most requests in flight, and the CPU time per request.

    python benchmarks/llm_concurrency.py                        # 1,000 runs × 14 steps, 200 ms
    python benchmarks/llm_concurrency.py --runs 200 --delay 0.05
    python benchmarks/llm_concurrency.py --concurrency 250      # bounded: ⌈runs/250⌉ waves a step

The scenario is tests/llm/tiny-llm.yaml with its horizon set to ``--steps`` and its fallback
never needed (the fake model answers validly). Answers go to a fresh store in a temporary
folder; ``--replay`` runs the same again from that store and times the replay (no request).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "llm" / "tiny-llm.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, delay: float) -> subprocess.Popen[bytes]:
    """The fake model in a process of its own (its CPU apart from the client's)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.llm.fake_model", "--port", str(port), "--delay", str(delay)],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            stats(port)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the fake model server did not start")


def stats(port: int) -> dict[str, int]:
    """The server's counters: requests, answered, most in flight at once."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as reply:
        return dict(json.loads(reply.read()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--steps", type=int, default=14)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, default=1_000)
    parser.add_argument("--replay", action="store_true", help="also time a replay from the store")
    args = parser.parse_args()

    import redline
    from redline.experiment.store import Store
    from redline.llm import Endpoint, language_makers
    from redline.llm.cache import StoreCache

    with tempfile.TemporaryDirectory() as folder:
        scenario = yaml.safe_load(TINY.read_text())
        scenario["time"]["horizon"] = args.steps
        # no outcome ends a run early: every run decides at every step
        scenario["outcomes"] = [{"id": "war", "when": "tension > 2", "absorbing": True}]
        path = Path(folder) / "bench-llm.yaml"
        path.write_text(yaml.safe_dump(scenario, sort_keys=False))
        s = redline.load(path)
        port = free_port()
        server = start_server(port, args.delay)
        try:
            endpoint = Endpoint(
                f"http://127.0.0.1:{port}/v1",
                concurrency=args.concurrency,
                timeout=60 + 10 * args.delay,
            )
            store = Store(Path(folder) / "answers.duckdb")
            makers = language_makers(s, endpoint, StoreCache(store))
            wall, cpu = time.perf_counter(), time.process_time()
            redline.simulate(s, args.runs, seed=1, decision_makers=makers)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            usage = makers["RED"].usage
            makers["RED"].close()
            replay = None
            if args.replay:
                again = language_makers(s, endpoint, StoreCache(store))
                replay = time.perf_counter()
                redline.simulate(s, args.runs, seed=1, decision_makers=again)
                replay = time.perf_counter() - replay
                assert again["RED"].usage.asked == 0
                again["RED"].close()
            served = stats(port)
        finally:
            server.terminate()
            server.wait(timeout=10)
    waves = math.ceil(args.runs / args.concurrency)
    floor = args.steps * waves * args.delay
    serial = args.runs * args.steps * args.delay
    figures = {
        "runs": args.runs,
        "steps": args.steps,
        "delay_s": args.delay,
        "concurrency": args.concurrency,
        "requests": usage.asked,
        "max_in_flight": served["max_in_flight"],
        "wall_s": round(wall, 2),
        "steps_x_latency_s": round(floor, 2),
        "wall_over_steps_x_latency": round(wall / floor, 2),
        "runs_x_steps_x_latency_s": round(serial, 1),
        "speedup_over_one_at_a_time": round(serial / wall, 1),
        "client_cpu_s": round(cpu, 2),
        "client_cpu_ms_per_request": round(1000 * cpu / max(usage.asked, 1), 2),
        "replay_wall_s": None if replay is None else round(replay, 2),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
