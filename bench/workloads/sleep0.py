# Free-running workload: 1,000 tasks that each await asyncio.sleep(0) 200 times (200,000 task steps).
# Prints one machine-readable line: LOOPSCOPE_BENCH {"workload", "seconds" (wall), "cpu_seconds", ...}.
import asyncio
import json
import sys
import time

TASKS = 1000
ROUNDS = 200


async def spin(rounds):
    for _ in range(rounds):
        await asyncio.sleep(0)


async def main(tasks, rounds):
    await asyncio.gather(*(spin(rounds) for _ in range(tasks)))


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rounds = max(1, int(ROUNDS * scale))
    started = time.perf_counter()
    cpu_started = time.process_time()
    asyncio.run(main(TASKS, rounds))
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    print("LOOPSCOPE_BENCH " + json.dumps({"workload": "sleep0", "seconds": seconds, "cpu_seconds": cpu_seconds, "steps": TASKS * rounds}), flush=True)
