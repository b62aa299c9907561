# Free-running workload: 1,000 tasks that each await asyncio.sleep(0) 200 times (200,000 task steps).
# Prints one machine-readable line (measure.py).
import asyncio

from measure import run_and_report, scaled

TASKS = 1000
ROUNDS = 200


async def spin(rounds):
    for _ in range(rounds):
        await asyncio.sleep(0)


async def main(tasks, rounds):
    await asyncio.gather(*(spin(rounds) for _ in range(tasks)))


if __name__ == "__main__":
    rounds = scaled(ROUNDS)
    run_and_report("sleep0", main(TASKS, rounds), steps=TASKS * rounds)
