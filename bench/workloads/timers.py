# Free-running workload: many short timers. Tasks sleep 0.1 ms at a time (timer -> future -> wakeup)
# while plain call_later callbacks with delays under 2 ms fire among them. Kept small: about
# 60,000 timers, so the loop is busy rather than waiting in select().
# Prints one machine-readable line (measure.py).
import asyncio

from measure import run_and_report, scaled

SLEEPERS = 500
SLEEPS = 60
CALLBACKS = 30000


async def sleeper(count):
    for _ in range(count):
        await asyncio.sleep(0.0001)


async def main(sleeps, callbacks):
    loop = asyncio.get_running_loop()
    fired = [0]
    done = loop.create_future()

    def tick():
        fired[0] += 1
        if fired[0] == callbacks and not done.done():
            done.set_result(None)

    for i in range(callbacks):
        loop.call_later((i % 20) * 0.0001, tick)
    await asyncio.gather(done, *(sleeper(sleeps) for _ in range(SLEEPERS)))


if __name__ == "__main__":
    sleeps, callbacks = scaled(SLEEPS), scaled(CALLBACKS)
    run_and_report("timers", main(sleeps, callbacks), timers=SLEEPERS * sleeps + callbacks)
