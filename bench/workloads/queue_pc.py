# Free-running workload: producers and consumers passing items through a bounded asyncio.Queue.
# Prints one machine-readable line: LOOPSCOPE_BENCH {"workload", "seconds" (wall), "cpu_seconds", ...}.
import asyncio
import json
import sys
import time

PRODUCERS = 8
CONSUMERS = 8
ITEMS_PER_PRODUCER = 10000
QUEUE_SIZE = 64


async def produce(queue, count):
    for item in range(count):
        await queue.put(item)


async def consume(queue, totals):
    total = 0
    while True:
        item = await queue.get()
        if item is None:
            break
        total += item
    totals.append(total)


async def main(per_producer):
    queue = asyncio.Queue(QUEUE_SIZE)
    totals = []
    consumers = [asyncio.ensure_future(consume(queue, totals)) for _ in range(CONSUMERS)]
    await asyncio.gather(*(produce(queue, per_producer) for _ in range(PRODUCERS)))
    for _ in consumers:
        await queue.put(None)
    await asyncio.gather(*consumers)
    assert sum(totals) == PRODUCERS * per_producer * (per_producer - 1) // 2


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    per_producer = max(1, int(ITEMS_PER_PRODUCER * scale))
    started = time.perf_counter()
    cpu_started = time.process_time()
    asyncio.run(main(per_producer))
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    print("LOOPSCOPE_BENCH " + json.dumps({"workload": "queue", "seconds": seconds, "cpu_seconds": cpu_seconds, "items": PRODUCERS * per_producer}),
          flush=True)
