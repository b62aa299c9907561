"""Threads that run no loop (plainthreads.py): which are listed, with which ids and names; Loopscope's
own threads never are; a thread that runs a loop is shown as that loop instead."""

import _thread
import asyncio
import sys
import threading
import unittest

from runtime_support import DEADLINE
from loopscope import instrument, registry, timelimit
from loopscope.instrument import Listener
from loopscope.plainthreads import PlainThreads, is_own


class ParkedThread:
    """A threading thread of the test's, waiting until released."""

    def __init__(self, name, body=None):
        self.started, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, args=(body,), name=name, daemon=True)
        self.thread.start()
        assert self.started.wait(DEADLINE)

    def _run(self, body):
        if body is not None:
            body(self)
        self.started.set()
        self.release.wait(DEADLINE)

    def end(self):
        self.release.set()
        self.thread.join(DEADLINE)


class Listing(unittest.TestCase):
    def setUp(self):
        self.threads = PlainThreads()

    def names(self):
        return [state.name for state in self.threads.listed()]

    def test_the_programs_threads_main_first_and_the_same_ids_each_time(self):
        parked = ParkedThread("worker")
        self.addCleanup(parked.end)
        first = self.threads.listed()
        self.assertEqual([s.name for s in first][:1], ["Thread MainThread"])
        self.assertIn("Thread worker", [s.name for s in first])
        self.assertEqual([s.id for s in self.threads.listed()], [s.id for s in first])
        worker = next(s for s in first if s.name == "Thread worker")
        self.assertIs(self.threads.by_id(worker.id), worker)
        self.assertFalse(worker.is_loop)
        self.assertIsNone(worker.loop)

    def test_an_ended_thread_is_forgotten(self):
        parked = ParkedThread("short-lived")
        worker = next(s for s in self.threads.listed() if s.name == "Thread short-lived")
        parked.end()
        self.assertNotIn("Thread short-lived", self.names())
        self.assertIsNone(self.threads.by_id(worker.id))

    def test_loopscopes_own_threads_are_never_listed(self):
        timelimit.start()  # the watchdog: started with _thread, in Loopscope's code
        started, release = threading.Event(), threading.Event()
        _thread.start_new_thread(lambda: (started.set(), release.wait(DEADLINE)), ())  # a program's, begun in a test file
        self.addCleanup(release.set)
        self.assertTrue(started.wait(DEADLINE))
        frames = sys._current_frames()
        own = [ident for ident, top in frames.items() if is_own(ident, top)]
        self.assertTrue(own, "the watchdog is Loopscope's own")
        listed = {s.thread_ident for s in self.threads.listed()}
        self.assertFalse(listed & set(own))
        self.assertEqual(len(listed), len(frames) - len(own), "every other thread is listed, _thread's too")

    def test_a_thread_left_alone_is_not_listed(self):
        self.threads.leave_alone(threading.get_ident())
        self.assertNotIn("Thread MainThread", self.names())
        self.assertIsNone(self.threads.current(sys._getframe()))

    def test_a_thread_that_runs_a_loop_is_shown_as_the_loop(self):
        instrument.install(Listener())
        self.addCleanup(instrument.uninstall)
        seen = {}

        def run_a_loop(parked):
            async def look():
                seen["while running"] = self.names()
            asyncio.run(look())
        parked = ParkedThread("looper", run_a_loop)
        self.addCleanup(parked.end)
        self.assertNotIn("Thread looper", seen["while running"])
        self.assertIn("Thread looper", self.names(), "its loop is closed: a thread of its own again")
        self.assertEqual(registry.loop_states(), [])


if __name__ == "__main__":
    unittest.main()
