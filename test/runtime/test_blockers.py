"""What each waiting task is blocked on (issue #16): one task per kind of leaf, all waiting at
once (test/fixtures/runtime/waiting_kinds.py), each named, with identity, where it was made, who
holds it; tasks waiting on the same object share one blocker; grouping by blocker counts them."""

import functools
import os
import queue
import threading
import unittest

from runtime_support import DEADLINE, FIXTURES, EventRecorder, ProgramThread, fixture_line, run_on_new_loop
from loopscope import instrument, ownership
from loopscope.debugger import Debugger

import waiting_kinds

PROGRAM = os.path.join(FIXTURES, "waiting_kinds.py")


class OneTaskPerKind(unittest.TestCase):
    fail = staticmethod(lambda message: (_ for _ in ()).throw(AssertionError(message)))

    @classmethod
    def setUpClass(cls):
        """Runs the program once, stepping iterations until everything waits, and keeps what the
        views would ask for there."""
        events = EventRecorder()
        debugger = Debugger(events)
        debugger.plain_threads.leave_alone(threading.get_ident())  # this thread plays the adapter
        instrument.install(debugger)
        try:
            debugger.start({"stopOnEntry": True, "clock": "wall"})
            thread = ProgramThread(lambda: run_on_new_loop(waiting_kinds.main), events).start()
            cls.snapshot = cls.groups = None
            while True:
                event, body = events.next(("stopped", "finished"))
                if event == "finished":
                    break
                if waiting_kinds.all_waiting and cls.snapshot is None:
                    answers = queue.Queue()
                    work = functools.partial(cls._look, debugger, body["loopId"])
                    debugger.on_held_thread(work, lambda result, error: answers.put((result, error)))
                    (cls.snapshot, cls.groups), error = answers.get(timeout=DEADLINE)
                    assert error is None, error
                debugger.resume("iteration", body["threadId"])
            cls.result = [thread.join(cls)]
        finally:
            debugger.entry_pending = False
            instrument.uninstall()
            ownership.uninstall()

    @staticmethod
    def _look(debugger, loop_id):
        snapshot = debugger.snapshot(loop_id, 1000)["loops"][0]
        groups = debugger.tasks(loop_id, "blocker", None, None, 0, 0)["groups"]
        return snapshot, groups

    def blocker(self, name):
        self.assertIsNotNone(self.snapshot, "the program never had all its tasks waiting")
        task = next((t for t in self.snapshot["tasks"] if t["name"] == name), None)
        self.assertIsNotNone(task, "no task %s: %s" % (name, [t["name"] for t in self.snapshot["tasks"]]))
        self.assertIn("blockedOn", task, "%s: %r" % (name, task))
        return task["blockedOn"]

    def test_the_program_ran_to_its_end(self):
        self.assertEqual(self.result, ["done"])

    def test_a_lock_names_its_holder_and_where_it_was_made(self):
        lock = self.blocker("lock-waiter")
        self.assertEqual(lock["kind"], "lock")
        self.assertEqual(lock["name"], "db_lock")
        self.assertEqual(lock["description"], "Lock db_lock, held by lock-owner")
        self.assertEqual([owner["name"] for owner in lock["owners"]], ["lock-owner"])
        self.assertEqual(lock["createdAt"], {"path": PROGRAM, "line": fixture_line(PROGRAM, "lock-made")})
        self.assertEqual(lock["lastActor"]["what"], "acquired")
        self.assertEqual(lock["lastActor"]["location"]["line"], fixture_line(PROGRAM, "lock-taken"))

    def test_a_semaphore_says_its_free_slots_and_holders(self):
        semaphore = self.blocker("sem-waiter")
        self.assertEqual(semaphore["kind"], "semaphore")
        self.assertTrue(semaphore["description"].startswith("Semaphore pool, 0 free, held by "), semaphore)

    def test_an_event_and_a_condition(self):
        self.assertEqual(self.blocker("event-waiter")["description"], "Event release, not set")
        self.assertEqual(self.blocker("condition-waiter")["kind"], "condition")

    def test_tasks_waiting_on_the_same_queue_share_one_blocker(self):
        first, second = self.blocker("getter-1"), self.blocker("getter-2")
        self.assertEqual(first, second)
        self.assertEqual(first["description"], "Queue jobs, get: 0/3 items")
        self.assertEqual(first["createdAt"]["line"], fixture_line(PROGRAM, "queue-made"))
        self.assertEqual(self.blocker("putter")["description"], "Queue full, put: full, 1/1 items")
        jobs = [g for g in self.groups if g["label"] == first["description"]]
        self.assertEqual([g["count"] for g in jobs], [2], self.groups)

    def test_streams_sockets_and_subprocesses(self):
        self.assertRegex(self.blocker("stream-reader")["description"], r"^StreamReader.*, reading from 127\.0\.0\.1:\d+$")
        self.assertRegex(self.blocker("sock-reader")["description"], r"^socket fd \d+.*, waiting until readable$")
        self.assertRegex(self.blocker("process-waiter")["description"], r"^subprocess pid \d+ \(.*python.*\)$")

    def test_an_executor_job_names_its_thread_and_where_it_is(self):
        job = self.blocker("executor-waiter")
        self.assertEqual(job["kind"], "executor")
        self.assertIn("thread", job)
        self.assertRegex(job["description"], r"^executor job on thread .*, in wait\(\) at threading\.py:\d+$")

    def test_timers_futures_and_tasks(self):
        self.assertRegex(self.blocker("sleeper")["description"], r"^sleep, due in \d+\.\d{3} s$")
        future = self.blocker("future-waiter")
        self.assertEqual(future["kind"], "future")
        self.assertEqual(future["createdAt"]["line"], fixture_line(PROGRAM, "future-made"))
        waiting_on_task = self.blocker("task-waiter")
        self.assertEqual((waiting_on_task["kind"], waiting_on_task["description"]), ("task", "task lock-waiter"))

    @unittest.skipIf(waiting_kinds.BARRIER is None, "asyncio.Barrier is new in 3.11")
    def test_a_barrier(self):
        self.assertEqual(self.blocker("barrier-waiter")["description"], "Barrier barrier, 1 of 3 waiting")

    def test_the_creator_chain_and_the_last_wake(self):
        task = next(t for t in self.snapshot["tasks"] if t["name"] == "lock-waiter")
        self.assertEqual([c["taskName"] for c in task["createdBy"]][:1],
                         [next(t["name"] for t in self.snapshot["tasks"] if t["coroutine"] == "main")])


if __name__ == "__main__":
    unittest.main()
