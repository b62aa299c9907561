"""How soon after the threshold a Loop blocked stop lands inside a blocking step, measured in-process
(no adapter): the stopped event is taken on the held thread itself, against the clock reading the
program took as it began to block. A tool for docs/benchmarks.md, not a test.

usage: python bench/tools/blocked_latency.py [--runs N] [--threshold MS] [--thread] [--runtime DIR]
Blocks in time.sleep (C), a Python loop and a library call (queue.get), N times each.
"""

import asyncio
import os
import queue
import statistics
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv):
    runs, threshold_ms, on_thread, runtime = 10, 100.0, False, os.path.join(ROOT, "runtime")
    while argv:
        flag = argv.pop(0)
        if flag == "--runs":
            runs = int(argv.pop(0))
        elif flag == "--threshold":
            threshold_ms = float(argv.pop(0))
        elif flag == "--thread":
            on_thread = True
        elif flag == "--runtime":
            runtime = os.path.abspath(argv.pop(0))
        else:
            sys.exit(__doc__)
    sys.path.insert(0, runtime)
    from loopscope import instrument
    from loopscope.debugger import Debugger

    landed = []
    state = {"started": 0.0}

    def send(event, body):
        if event == "stopped":
            landed.append((time.perf_counter() - state["started"], body["where"]))
            threading.Thread(target=debugger.resume, args=("continue",)).start()

    debugger = Debugger(send)
    instrument.install(debugger)
    debugger.install_busy_pause()
    debugger.set_task_filters(["loopBlocked"], threshold_ms)
    debugger.start({})

    def block(kind, seconds):
        state["started"] = time.perf_counter()
        if kind == "sleep":
            time.sleep(seconds)
        elif kind == "busy":
            while time.perf_counter() - state["started"] < seconds:
                pass
        else:
            try:
                queue.Queue().get(timeout=seconds)
            except queue.Empty:
                pass

    async def program(kind):
        await asyncio.sleep(0.01)
        block(kind, threshold_ms / 1000.0 + 0.5)

    print("Loop blocked stop latency past a %.0f ms threshold, %d runs each, Python %s, loop on %s"
          % (threshold_ms, runs, sys.version.split()[0], "another thread" if on_thread else "the main thread"))
    for kind in ("sleep", "busy", "library"):
        del landed[:]
        for _ in range(runs):
            if on_thread:
                worker = threading.Thread(target=asyncio.run, args=(program(kind),))
                worker.start()
                worker.join()
            else:
                asyncio.run(program(kind))
        late = [(seconds * 1000.0 - threshold_ms) for seconds, where in landed if where == "code"]
        elsewhere = len(landed) - len(late)
        if late:
            print("  %-8s landed inside the step %d/%d times: %.1f ms past the threshold (median), %.1f ms (worst)%s"
                  % (kind, len(late), runs, statistics.median(late), max(late),
                     "; %d at the next safe point" % elsewhere if elsewhere else ""))
        else:
            print("  %-8s landed at the next safe point %d/%d times" % (kind, elsewhere, runs))


if __name__ == "__main__":
    main(sys.argv[1:])
