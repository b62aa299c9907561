"""Times (or profiles) the runtime's snapshot of one loop with N live tasks, in-process, without
the adapter: to find what a `loopscope/snapshot` request spends its time on.

usage: python bench/tools/snapshot_profile.py [--tasks N] [--max-tasks M] [--mode event|spin] [--profile] [--runtime DIR]
The snapshot is taken from a callback on the loop's own thread, as a held loop would serve it.
"""

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--max-tasks", type=int, default=1000)
    parser.add_argument("--mode", choices=("event", "spin"), default="event")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--runtime", default=os.path.join(ROOT, "runtime"))
    options = parser.parse_args()
    sys.path.insert(0, os.path.abspath(options.runtime))
    from loopscope import instrument, registry, snapshot
    from loopscope.debugger import Debugger

    debugger = Debugger(lambda event, body: None)
    instrument.install(debugger)
    debugger.start({"clock": "wall"})

    async def spin(stop):
        while not stop[0]:
            await asyncio.sleep(0)

    async def main_task():
        event, stop = asyncio.Event(), [False]
        if options.mode == "event":
            tasks = [asyncio.ensure_future(event.wait()) for _ in range(options.tasks)]
        else:
            tasks = [asyncio.ensure_future(spin(stop)) for _ in range(options.tasks)]
        for _ in range(5):
            await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        state = registry.state_of(loop)
        profiler = cProfile.Profile() if options.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        body = snapshot.snapshot_loop(state, True, registry.FinishedTasks(), "wall", options.max_tasks)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        stop[0] = True
        event.set()
        await asyncio.gather(*tasks)
        size = len(json.dumps(body))
        print("LOOPSCOPE_BENCH " + json.dumps({"tasks": options.tasks, "maxTasks": options.max_tasks, "seconds": seconds,
                                                "bytes": size, "listed": len(body["tasks"]), "futures": len(body["futures"])}))
        if profiler:
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumtime").print_stats(25)

    asyncio.run(main_task())


if __name__ == "__main__":
    main()
