# Free-running workload: producers and consumers passing items through a bounded asyncio.Queue.
# Prints one machine-readable line (measure.py).
import asyncio

from measure import run_and_report, scaled

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
    per_producer = scaled(ITEMS_PER_PRODUCER)
    run_and_report("queue", main(per_producer), items=PRODUCERS * per_producer)
