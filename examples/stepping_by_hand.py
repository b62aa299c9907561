"""The same two counters as interleave.py, driven one loop iteration at a time by hand.

`loop.stop(); loop.run_forever()` runs exactly one iteration of the event loop: every callback
that was ready when it started (here, one step of each task), a poll for I/O, and the timers
that came due. This is what Loopscope's Step Loop Iteration (`next`) does for you, without
changing the program: each step prints exactly what one pass of this while-loop prints.
"""

import asyncio


async def count(name, upto):
    loop = asyncio.get_running_loop()
    for counter in range(1, upto + 1):
        print(f"{name} {counter} {loop.time():.6f}")
        await asyncio.sleep(0)
    return counter


def main():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    future = asyncio.gather(count("a", 3), count("b", 5))
    iteration = 0
    while not future.done():
        loop.stop()
        loop.run_forever()  # returns after exactly one iteration, because stop() was called first
        iteration += 1
        print(f"--- end of iteration {iteration}")
    print("results", future.result())
    asyncio.set_event_loop(None)
    loop.close()


if __name__ == "__main__":
    main()
