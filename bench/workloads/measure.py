# What every workload in this folder shares: the scale argument, and timing its asyncio.run(...)
# in wall and CPU time, reported as one machine-readable line:
#   LOOPSCOPE_BENCH {"workload", "seconds" (wall), "cpu_seconds", and the workload's own counts}
# The workloads import it as a sibling (a script's folder is sys.path[0], with or without a debugger).
import asyncio
import json
import sys
import time


def scale():
    """The workload scale from the command line (1.0 when not given)."""
    return float(sys.argv[1]) if len(sys.argv) > 1 else 1.0


def scaled(count):
    """count times the scale, at least 1."""
    return max(1, int(count * scale()))


def run_and_report(workload, coroutine, **counts):
    started = time.perf_counter()
    cpu_started = time.process_time()
    asyncio.run(coroutine)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    print("LOOPSCOPE_BENCH " + json.dumps(dict({"workload": workload, "seconds": seconds, "cpu_seconds": cpu_seconds}, **counts)),
          flush=True)
