# Free-running workload: futures resolved by callbacks. Each task awaits futures one after another,
# each resolved by a plain call_soon callback (two handles per await: the callback, the wakeup).
# Prints one machine-readable line (measure.py).
import asyncio

from measure import run_and_report, scaled

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
    awaits = scaled(AWAITS)
    run_and_report("futures", main(awaits), awaits=TASKS * awaits)
