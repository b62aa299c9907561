"""Two coroutines taking turns: the smallest picture of what an event loop does.

`a` counts to 3 and `b` to 5; each prints its name, its counter and the loop's clock, then
yields with `await asyncio.sleep(0)`, so the loop runs the other one. Run it under
`loopscope trace` (npm start) to see one block per loop iteration, or step it with
Step Loop Iteration in VS Code: each step prints what one `loop.stop(); loop.run_forever()`
would (see stepping_by_hand.py).
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
    asyncio.set_event_loop(loop)  # gather() outside a running loop finds its loop this way
    try:
        results = loop.run_until_complete(asyncio.gather(count("a", 3), count("b", 5)))
        print("results", results)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


if __name__ == "__main__":
    main()
