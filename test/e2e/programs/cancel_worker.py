"""A task that says when it is cancelled, for the end-to-end test of Cancel Task (test/e2e/scenario.mjs).

`worker` starts, then sleeps for 10 s. Cancelled during that sleep (Cancel Task in the Asyncio Tasks
view), it prints "worker: cancelled" and re-raises; `main` then prints the outcome and the program
exits with code 3. Left alone, it finishes after its sleep and the program exits with code 0.
"""

import asyncio
import sys


async def work():
    print("worker: started")
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("worker: cancelled")
        raise
    print("worker: finished")


async def main():
    worker = asyncio.create_task(work(), name="worker")
    try:
        await worker
    except asyncio.CancelledError:
        print("main: the worker was cancelled; exiting with code 3")
        return 3
    print("main: the worker finished; exiting with code 0")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
