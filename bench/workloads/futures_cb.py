# Free-running workload: futures resolved by callbacks. Each task awaits futures one after another,
# each resolved by a plain call_soon callback (two handles per await: the callback, the wakeup).
# Prints one machine-readable line: LOOPSCOPE_BENCH {"workload", "seconds" (wall), "cpu_seconds", ...}.
import asyncio
import json
import sys
import time

TASKS = 500
AWAITS = 200


async def waiter(loop, count):
    total = 0
    for i in range(count):
        future = loop.create_future()
        loop.call_soon(future.set_result, i)
        total += await future
    return total


async def main(awaits):
    loop = asyncio.get_running_loop()
    results = await asyncio.gather(*(waiter(loop, awaits) for _ in range(TASKS)))
    assert results[0] == awaits * (awaits - 1) // 2


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    awaits = max(1, int(AWAITS * scale))
    started = time.perf_counter()
    cpu_started = time.process_time()
    asyncio.run(main(awaits))
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    print("LOOPSCOPE_BENCH " + json.dumps({"workload": "futures", "seconds": seconds, "cpu_seconds": cpu_seconds, "awaits": TASKS * awaits}),
          flush=True)
