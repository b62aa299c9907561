"""Who holds each lock and semaphore slot, who woke whom, where each primitive was made, and
lock-order inversions (ownership.py), driven by plain asyncio programs on every CPython; and that
the watched primitives behave exactly as asyncio's own."""

import asyncio
import unittest

from runtime_support import run_on_new_loop
from loopscope import ownership, registry

records = ownership.ownership
HERE = __file__


class Ownership(unittest.TestCase):
    def setUp(self):
        self.inversions = []
        ownership.install(on_failure=self.fail)
        records.on_inversion = self.inversions.append

    def tearDown(self):
        records.on_inversion = None
        ownership.uninstall()
        self.assertFalse(ownership.installed())

    def test_the_owner_of_a_lock_and_where_it_was_made(self):
        async def main():
            lock = asyncio.Lock(); made = _line()  # noqa: E702
            async with lock:
                owner = records.lock_owner.get(lock)
                self.assertEqual(owner.task_name, asyncio.current_task().get_name())
                self.assertEqual(owner.place, (HERE, _line() - 3))
            self.assertIsNone(records.lock_owner.get(lock))
            self.assertEqual(records.made_at.get(lock), (HERE, made))
            self.assertEqual(repr(lock).endswith("[unlocked]>"), True)
            self.assertEqual(vars(lock)["_locked"], False, "the value stays where asyncio keeps it")
        run_on_new_loop(main)

    def test_semaphore_slots_go_to_the_tasks_that_take_them(self):
        async def main():
            pool = asyncio.Semaphore(2)

            async def hold(until):
                async with pool:
                    await until.wait()
            stop = asyncio.Event()
            tasks = [asyncio.create_task(hold(stop), name="h%d" % i) for i in range(3)]
            await asyncio.sleep(0)
            self.assertEqual([m.task_name for m in records.slot_holders.get(pool)], ["h0", "h1"])
            stop.set()
            await asyncio.gather(*tasks)
            self.assertEqual(records.slot_holders.get(pool), [])
            self.assertEqual(pool._value, 2)
        run_on_new_loop(main)

    def test_who_woke_a_task_through_an_event_a_queue_or_a_lock(self):
        async def main():
            event, queue, lock = asyncio.Event(), asyncio.Queue(), asyncio.Lock()
            waiter = asyncio.create_task(event.wait(), name="waiter")
            getter = asyncio.create_task(queue.get(), name="getter")
            await lock.acquire()
            taker = asyncio.create_task(lock.acquire(), name="taker")
            await asyncio.sleep(0)
            event.set(); set_line = _line()  # noqa: E702
            queue.put_nowait(1); put_line = _line()  # noqa: E702
            lock.release(); release_line = _line()  # noqa: E702
            await asyncio.gather(waiter, getter, taker)
            me = asyncio.current_task().get_name()
            self.assertEqual(registry.last_wake(waiter), ownership.Wake(registry.last_wake(waiter).by, "set Event"))
            self.assertEqual((registry.last_wake(waiter).by.task_name, registry.last_wake(waiter).by.place),
                             (me, (HERE, set_line)))
            self.assertEqual((registry.last_wake(getter).what, registry.last_wake(getter).by.place[1]),
                             ("put into Queue", put_line))
            self.assertEqual((registry.last_wake(taker).what, registry.last_wake(taker).by.place[1]),
                             ("released Lock", release_line))
            self.assertEqual(records.last_set.get(event).place[1], set_line)
        run_on_new_loop(main)

    def test_a_lock_order_inversion_is_told_once(self):
        async def in_order(first, second):
            async with first:
                async with second:
                    pass

        async def main():
            a, b = asyncio.Lock(), asyncio.Lock()
            await in_order(a, b)
            await in_order(b, a)
            await in_order(b, a)
        run_on_new_loop(main)
        self.assertEqual(len(self.inversions), 1, self.inversions)
        self.assertRegex(self.inversions[0], r"^Lock order inversion: task Task-\d+ took Lock made at test_ownership\.py:\d+")

    def test_the_primitives_work_as_asyncio_s_own(self):
        async def main():
            lock, event, queue, semaphore = asyncio.Lock(), asyncio.Event(), asyncio.Queue(2), asyncio.BoundedSemaphore(1)
            results = []

            async def worker(n):
                async with lock:
                    results.append(n)
                await event.wait()
                await queue.put(n)
                async with semaphore:
                    results.append(-n)
            tasks = [asyncio.create_task(worker(n)) for n in range(4)]
            await asyncio.sleep(0)
            event.set()
            got = [await queue.get() for _ in range(4)]
            await asyncio.gather(*tasks)
            with self.assertRaises(ValueError):
                semaphore.release()
            with self.assertRaises(RuntimeError):
                lock.release()
            return results, got, queue.qsize(), lock.locked()
        watched = run_on_new_loop(main)
        ownership.uninstall()
        self.assertEqual(watched, run_on_new_loop(main))
        self.assertEqual(watched, ([0, 1, 2, 3, 0, -1, -2, -3], [0, 1, 2, 3], 0, False))
        ownership.install(on_failure=self.fail)


def _line():
    import sys
    return sys._getframe(1).f_lineno


if __name__ == "__main__":
    unittest.main()
