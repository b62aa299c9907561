"""Loop health parts (issue #17) driven in-process: the blocked-loop watchdog on a loop thread,
its warnings' rate, loop statistics with holds left out, the lints' own checks."""

import asyncio
import threading
import time
import unittest

from runtime_support import DEADLINE, EventRecorder, ProgramThread
from loopscope import instrument, lints, loopstats
from loopscope.debugger import Debugger
from loopscope.health import WARNING_WINDOW, WARNINGS_PER_WINDOW, WarningRate


class WatchdogOnALoopThread(unittest.TestCase):
    def setUp(self):
        self.events = EventRecorder()
        self.debugger = Debugger(self.events)
        self.debugger.plain_threads.leave_alone(threading.get_ident())  # this thread plays the adapter
        instrument.install(self.debugger)
        self.debugger.start({})
        self.debugger.set_task_filters([], 50)

    def tearDown(self):
        instrument.uninstall()

    def run_program(self, coroutine_function):
        thread = ProgramThread(lambda: asyncio.run(coroutine_function()), name="health-loop")
        thread.start()
        return thread.join(self)

    def warnings(self):
        return [body["message"] for event, body in self.events.all if event == "log" and "has blocked" in body["message"]]

    def test_a_blocking_step_is_warned_about_once_with_its_line(self):
        async def blocker():
            await asyncio.sleep(0)
            time.sleep(0.3)  # the blocking line
            await asyncio.sleep(0)
        self.run_program(blocker)
        warnings = self.warnings()
        self.assertEqual(len(warnings), 1, warnings)
        self.assertRegex(warnings[0], r"^Task Task-\d+ \(.*blocker\) has blocked event loop \d+ \(health-loop\) for \d+ ms at "
                                      r"test_health\.py:\d+: `time\.sleep\(0\.3\)  # the blocking line` \(threshold 50 ms\)")
        kinds = [body["kind"] for event, body in self.events.all if event == "lint"]
        self.assertIn("blockingCall", kinds)

    def test_steps_under_the_threshold_and_waits_in_select_are_not_blocks(self):
        self.debugger.set_task_filters([], 400)  # far above the steps, even on a crowded machine

        async def calm():
            for _ in range(5):
                time.sleep(0.01)       # 10 ms steps, under the threshold
                await asyncio.sleep(0.1)  # the loop waits in select(): never a block
        self.run_program(calm)
        self.assertEqual(self.warnings(), [])

    def test_many_short_steps_in_one_iteration_are_a_slow_iteration_not_a_block(self):
        self.debugger.set_task_filters([], 100)
        def short_callback():
            time.sleep(0.002)

        def short_callback_too():
            time.sleep(0.002)

        async def crowd():
            loop = asyncio.get_running_loop()
            for _ in range(100):  # one iteration of 400 ms of callbacks, none near the 100 ms threshold
                loop.call_soon(short_callback)
                loop.call_soon(short_callback_too)
            await asyncio.sleep(0.01)
        self.run_program(crowd)
        self.assertEqual(self.warnings(), [])

    def test_no_warnings_when_switched_off(self):
        self.debugger.start({"loopBlockedWarnings": False})

        async def blocker():
            time.sleep(0.3)
        self.run_program(blocker)
        self.assertEqual(self.warnings(), [])


class Rate(unittest.TestCase):
    def test_one_warning_per_line_and_a_few_per_window(self):
        rate = WarningRate()
        self.assertTrue(rate.allow("a", now=100.0))
        self.assertFalse(rate.allow("a", now=101.0), "the same line again within the window")
        allowed = [rate.allow(str(i), now=102.0) for i in range(10)]
        self.assertEqual(allowed.count(True), WARNINGS_PER_WINDOW - 1)
        self.assertEqual(rate.left_out, 1 + 10 - (WARNINGS_PER_WINDOW - 1))
        self.assertTrue(rate.allow("a", now=100.0 + WARNING_WINDOW + 1))


class LoopStatsAccounting(unittest.TestCase):
    def test_holds_are_left_out_of_the_iteration(self):
        stats = loopstats.LoopStats()
        stats.begin(10.0)
        stats.handles_started = 10.5      # select() returned after 0.5 s
        stats.held_seconds += 3.0         # the debugger held the loop 3 s inside the iteration
        stats.end(1, 14.0)
        self.assertAlmostEqual(stats.select_seconds, 0.5)
        self.assertAlmostEqual(stats.handle_seconds, 0.5)
        self.assertAlmostEqual(stats.longest, 0.5)
        self.assertEqual(stats.histogram[loopstats.bucket(0.5)], 1)
        self.assertEqual(list(stats.recent), [(1, 10.0, 10.5, 14.0)])

    def test_buckets_follow_the_protocols_bounds(self):
        self.assertEqual([loopstats.bucket(s) for s in (1e-6, 5e-5, 5e-4, 5e-3, 5e-2, 0.5, 5.0)], [0, 1, 2, 3, 4, 5, 6])


class LintChecks(unittest.TestCase):
    def test_a_dropped_create_task_result_is_told_from_a_kept_one(self):
        seen = {}

        def probe():
            frame = __import__("sys")._getframe(1)
            seen[frame.f_lineno] = lints.result_discarded(frame.f_code, frame.f_lasti)
            return object()

        def caller():
            probe()
            kept = probe()
            return [probe()], kept
        caller()
        self.assertEqual(sorted(seen.values()), [False, False, True])

    def test_each_kind_and_line_once(self):
        found = lints.Lints()
        where = {"path": "/app.py", "line": 3}
        found.add("blockingCall", "first", where)
        found.add("blockingCall", "again", where)
        found.add("neverYields", "other kind", where)
        sent = []
        found.flush(sent.append)
        self.assertEqual([l["message"] for l in sent], ["first", "other kind"])


if __name__ == "__main__":
    unittest.main()
