# Free-running workload: tasks contending for an asyncio.Lock, a Semaphore and an Event, the
# primitives whose owners Loopscope records (trackOwners, issue #16). Prints one machine-readable
# line (measure.py).
import asyncio

from measure import run_and_report, scaled

WORKERS = 100
ROUNDS = 400


async def work(lock, pool, gate, rounds, counter):
    await gate.wait()
    for _ in range(rounds):
        async with lock:
            counter[0] += 1
            await asyncio.sleep(0)
        async with pool:
            await asyncio.sleep(0)


async def main(rounds):
    lock, pool, gate, counter = asyncio.Lock(), asyncio.Semaphore(10), asyncio.Event(), [0]
    workers = [asyncio.ensure_future(work(lock, pool, gate, rounds, counter)) for _ in range(WORKERS)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*workers)
    assert counter[0] == WORKERS * rounds


if __name__ == "__main__":
    rounds = scaled(ROUNDS)
    run_and_report("locks", main(rounds), items=WORKERS * rounds)
