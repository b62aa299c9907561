"""A service that went quiet, for the end-to-end test of attaching (test/e2e/scenario.mjs): started
outside VS Code, its two workers each wait for the other, so its loop idles in select() with no timer
and no I/O. Prints "READY <pid>" once the deadlock is in place; runs until it is killed."""

import asyncio
import os


async def worker(mine, other):
    await mine.wait()
    other.set()


async def main():
    ledger, invoices = asyncio.Event(), asyncio.Event()
    workers = [asyncio.create_task(worker(ledger, invoices), name="ledger-worker"),
               asyncio.create_task(worker(invoices, ledger), name="invoice-worker")]
    asyncio.get_running_loop().call_soon(lambda: print("READY %d" % os.getpid(), flush=True))
    await asyncio.gather(*workers)


asyncio.run(main())
