"""A producer and two consumers sharing an asyncio.Queue, every task named.

Try it in VS Code with a function breakpoint on a task name (`consumer-2`) or a coroutine name
(`consume`), the Task created / Task done filters, or `npx loopscope trace examples/producer_consumer.py`.
"""

import asyncio


async def produce(queue, items):
    for item in range(items):
        await queue.put(item)
        print(f"produced {item}")
        await asyncio.sleep(0.01)
    for _ in range(2):
        await queue.put(None)  # one stop signal per consumer


async def consume(queue, name):
    handled = 0
    while True:
        item = await queue.get()
        if item is None:
            return handled
        handled += 1
        print(f"{name} got {item}")


async def main():
    queue = asyncio.Queue(maxsize=2)
    consumers = [asyncio.create_task(consume(queue, f"consumer-{n}"), name=f"consumer-{n}") for n in (1, 2)]
    producer = asyncio.create_task(produce(queue, 6), name="producer")
    await producer
    handled = await asyncio.gather(*consumers)
    print(f"handled per consumer: {handled}")


if __name__ == "__main__":
    asyncio.run(main())
