"""Debugger driven in-process: the program runs on a worker thread, the test plays the
adapter (resume, pause, breakpoints, filters, stack traces) and reads events from a queue."""

import _thread
import asyncio
import functools
import os
import queue
import re
import signal
import threading
import time
import unittest

from runtime_support import (DEADLINE, FIXTURES, EventRecorder, ProgramThread, def_line, fixture_line,
                             py_task_factory, run_on_new_loop)
from loopscope import debugger as debugger_module, instrument, registry, schema
from loopscope.debugger import Debugger
from loopscope.pausing import PAUSE_SIGNAL

import control_programs as programs
from control_programs import Program

PROGRAM_FILE = os.path.join(FIXTURES, "control_programs.py")
TEST_DIR = os.path.dirname(os.path.dirname(FIXTURES)) + os.sep


def line(marker):
    return fixture_line(PROGRAM_FILE, marker)


TASK_FACTORIES = {"C Task": None, "Python Task": py_task_factory}


class HoldRecordingDebugger(Debugger):
    """The real Debugger; it only also reports which loops are held (for the all-stop test)."""

    def __init__(self, send_event):
        Debugger.__init__(self, send_event)
        self.holds = queue.Queue()

    def _serve_while_held(self, stop):
        self.holds.put(stop.state.id)
        return Debugger._serve_while_held(self, stop)


class DebuggerTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.events = EventRecorder()
        self.debugger = HoldRecordingDebugger(self.events)
        self.debugger.plain_threads.leave_alone(threading.get_ident())  # this thread plays the adapter
        instrument.install(self.debugger)
        self.programs = []

    def tearDown(self):
        # release whatever is still held so that no program thread outlives its test
        self.debugger.set_task_filters([])
        self.debugger.set_function_breakpoints([])
        self.debugger.entry_pending = self.debugger.pausing.pending = False
        deadline = time.monotonic() + DEADLINE
        for program in self.programs:
            while not program.done.is_set() and time.monotonic() < deadline:
                self.debugger.resume("continue")
                program.done.wait(0.05)
        instrument.uninstall()
        self.assertEqual(self.events.violations, [], "events that break protocol.json")
        for program in self.programs:
            self.assertTrue(program.done.is_set(), "a program thread was left running")

    # --- helpers -------------------------------------------------------------------------------

    def launch(self, program, task_factory=None, target=None):
        target = target or (lambda: run_on_new_loop(program.make, task_factory))
        thread = ProgramThread(target, self.events)
        self.programs.append(thread)
        return thread.start()

    def next_stop(self, timeout=None):
        """The next 'stopped' body, or None when the program thread finished first."""
        event, body = self.events.next(("stopped", "finished"), timeout)
        return body if event == "stopped" else None

    def expect_stop(self, timeout=None):
        body = self.next_stop(timeout)
        self.assertIsNotNone(body, "the program finished instead of stopping")
        return body

    def expect_finish(self, program):
        body = self.next_stop()
        self.assertIsNone(body, "expected the program to finish, got a stop: %r" % (body,))
        return program.join(self)

    def on_held_thread(self, work, thread_id):
        answers = queue.Queue()
        self.debugger.on_held_thread(work, lambda result, error: answers.put((result, error)), thread_id)
        try:
            result, error = answers.get(timeout=DEADLINE)
        except queue.Empty:
            self.fail("no answer from the held loop within %.1fs" % DEADLINE)
        self.assertIsNone(error)
        return result

    def stack(self, thread_id):
        # functools.partial: no frame of this test file sits on the held thread's stack
        frames = self.on_held_thread(functools.partial(self.debugger.stack_trace, thread_id), thread_id)
        schema.check_response("stackTrace", {"stackFrames": frames, "totalFrames": len(frames)})
        return frames

    def assert_frame(self, frame, name, marker_or_line):
        expected = marker_or_line if isinstance(marker_or_line, int) else line(marker_or_line)
        self.assertEqual((frame.get("name"), frame.get("path"), frame.get("line")), (name, PROGRAM_FILE, expected))


class StepByIteration(DebuggerTest):
    def check(self, task_factory):
        reference = Program(programs.interleave)
        snapshots, expected_result = programs.step_by_hand(reference, task_factory)
        self.assertGreater(len(snapshots), 5)

        program = Program(programs.interleave)
        self.debugger.start({"stopOnEntry": True})
        thread = self.launch(program, task_factory)
        stop = self.expect_stop()
        self.assertEqual((stop["reason"], stop["where"], stop["iteration"]), ("entry", "iteration", 0))
        self.assertEqual(program.progress.snapshot(), snapshots[0])
        thread_id = stop["threadId"]
        seen = [0]
        last_time = stop["time"]
        while True:
            self.debugger.resume("iteration", thread_id)
            stop = self.next_stop()
            if stop is None:
                break
            self.assertEqual((stop["reason"], stop["where"], stop["threadId"]), ("step", "iteration", thread_id))
            self.assertEqual(stop["iteration"], seen[-1] + 1, "each step is exactly one iteration")
            self.assertIn("iteration %d" % (stop["iteration"] + 1), stop["description"])
            self.assertGreaterEqual(stop["time"], last_time)
            last_time = stop["time"]
            seen.append(stop["iteration"])
            expected = snapshots[min(stop["iteration"], len(snapshots) - 1)]
            self.assertEqual(program.progress.snapshot(), expected,
                             "progress after %d iterations differs from loop.stop(); loop.run_forever() "
                             "stepping" % stop["iteration"])
            self.assertLess(len(seen), 100)
        self.assertEqual(thread.join(self), expected_result)
        # a stop before every iteration: hand stepping took len(snapshots) - 1 iterations, and
        # run_until_complete one more (the one that runs _run_until_complete_cb and stops the loop)
        self.assertEqual(seen, list(range(len(snapshots))))

    def test_c_task(self):
        self.check(None)

    def test_python_task(self):
        self.check(py_task_factory)

    def test_step_out_of_a_run(self):
        """resume('out') holds when the loop's current run_until_complete ends and the next run starts."""
        first, second = Program(programs.two_runs_first), Program(programs.two_runs_second)

        def target():
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(first.make())
                return loop.run_until_complete(second.make())
            finally:
                loop.close()
        self.debugger.start({"stopOnEntry": True})
        thread = self.launch(None, target=target)
        stop = self.expect_stop()
        self.debugger.resume("iteration", stop["threadId"])
        self.assertEqual(self.expect_stop()["iteration"], 1)
        self.assertEqual(first.progress.snapshot(), ["first"])
        self.debugger.resume("out", stop["threadId"])
        stop = self.expect_stop()
        self.assertEqual((stop["reason"], stop["where"]), ("step", "iteration"))
        self.assertEqual(first.progress.snapshot(), ["first", "first done"])
        self.assertEqual(second.progress.snapshot(), [], "held before the second run's first iteration")
        self.debugger.resume("continue")
        self.expect_finish(thread)
        self.assertEqual(second.progress.snapshot(), ["second", "second done"])


# The handles interleave() runs, in order: (task name or None for a callback, where it resumes).
# "main" stands for the main task's generated name. After each, the iteration it belongs to.
class StepAnIdleLoop(DebuggerTest):
    """A step from between iterations runs the next iteration as the program would: its select()
    gets the program's own timeout and waits for it (loop time flows meanwhile, on the frozen clock
    too), so a short sleep ends in the next step; a loop that would wait longer than
    debugger.STEP_WAIT_LIMIT is woken then, so the step still ends (issue #15, 7)."""

    def launch_sleeper(self, seconds):
        """A program that sleeps once; returns (thread, the timeouts its select() was given)."""
        timeouts = []

        async def sleeps_once():
            await asyncio.sleep(seconds)
            return "woke"

        def target():
            loop = asyncio.new_event_loop()
            original = loop._selector.select

            def select(timeout=None):
                timeouts.append(timeout)
                return original(timeout)
            loop._selector.select = select
            try:
                return loop.run_until_complete(sleeps_once())
            finally:
                loop.close()
        self.debugger.start({"stopOnEntry": True})  # the default clock: frozen
        thread = self.launch(None, target=target)
        return thread, timeouts

    def test_a_short_sleep_ends_in_the_next_step(self):
        thread, timeouts = self.launch_sleeper(0.05)
        stop = self.expect_stop()
        steps = 0
        while stop is not None and steps < 50:
            self.debugger.resume("iteration", stop["threadId"])
            stop = self.next_stop()
            steps += 1
        self.assertIsNone(stop, "the sleep had not ended after %d steps (timeouts %r...)" % (steps, timeouts[:5]))
        self.assertEqual(thread.join(self), "woke")
        # plain: the first step starts the sleep, the second waits it out, then the task finishes
        self.assertLessEqual(steps, 5)
        self.assertTrue(any(t is not None and 0.02 < t <= 0.05 for t in timeouts), timeouts)

    def test_a_step_ends_after_the_limit_when_the_loop_would_wait_longer(self):
        thread, timeouts = self.launch_sleeper(3600)
        stop = self.expect_stop()
        for _ in range(2):
            started = time.monotonic()
            self.debugger.resume("iteration", stop["threadId"])
            stop = self.expect_stop()
            self.assertLess(time.monotonic() - started, debugger_module.STEP_WAIT_LIMIT + 2.0)
            self.assertEqual((stop["reason"], stop["where"]), ("step", "iteration"))
        self.assertGreater(max(t for t in timeouts if t is not None), 3000, "the program's own timeout")
        holder_loop = registry.state_for_thread(stop["threadId"]).loop
        for task in asyncio.all_tasks(holder_loop):
            holder_loop.call_soon_threadsafe(task.cancel)
        self.debugger.resume("continue")
        with self.assertRaises(asyncio.CancelledError):
            thread.join(self)


class Shown:
    def __repr__(self):
        return "<shown>"  # not a builtin's repr: run under the time limit, on a worker off the main thread


async def holds_a_value(progress):
    value = Shown()
    await asyncio.sleep(0)
    progress.add(repr(value))


def _spin_until(done):
    while not done.is_set():
        pass


class NoThreadOutlivesTheStop(DebuggerTest):
    def test_the_repr_worker_ends_when_the_program_resumes(self):
        """A repr for a loop off the main thread runs on a thread of Loopscope's; it must be gone
        once the program runs again, or the program sees one more thread than it started
        (_thread._count(); CPython's tests: "threading_cleanup() failed to clean up threads")."""
        # Two threads busy in Python code, as on a machine with other work: a thread past its last
        # line waits for the GIL before CPython counts it out.
        busy = threading.Event()
        spinners = [threading.Thread(target=_spin_until, args=(busy,)) for _ in range(2)]
        for spinner in spinners:
            spinner.start()
        self.addCleanup(lambda: [busy.set()] + [spinner.join(DEADLINE) for spinner in spinners])
        threads_before = _thread._count()
        program = Program(holds_a_value)
        self.debugger.set_task_filters(["taskSwitch"])
        thread = self.launch(program)
        self.expect_stop()  # before its first step
        self.debugger.resume("continue")
        stop = self.expect_stop()  # suspended at its await, value set
        frames = [f for f in self.stack(stop["threadId"]) if f.get("name") == "holds_a_value"]
        self.assertTrue(frames, "the task's coroutine frame")
        inspection = self.debugger.inspection
        scopes = self.on_held_thread(functools.partial(inspection.scopes, frames[0]["id"]), stop["threadId"])
        shown = self.on_held_thread(functools.partial(inspection.variables, scopes[0]["variablesReference"]),
                                    stop["threadId"])
        self.assertIn("<shown>", [v["value"] for v in shown])
        self.debugger.set_task_filters([])
        self.debugger.resume("continue")
        self.expect_finish(thread)
        thread.thread.join(DEADLINE)
        # At once: resume waits until the worker is gone for good, not only past its last line (a
        # window of 1 s, as long as CPython's threading_cleanup() waits, was missed under load).
        self.assertEqual(_thread._count(), threads_before)


def expected_handles():
    run_def = def_line(programs.Worker.run)
    return [
        ("main", def_line(programs.interleave), 1),
        ("alpha", run_def, 2), ("beta", run_def, 2), (None, None, 2),       # Future.set_result
        ("alpha", line("worker-await"), 3), ("beta", line("worker-await"), 3), ("main", line("main-future"), 3),
        ("alpha", line("worker-await"), 4), ("beta", line("worker-await"), 4),
        ("alpha", line("leaf-await"), 5), ("beta", line("leaf-await"), 5),
        (None, None, 6), (None, None, 6),                                     # gather's done callbacks
        ("main", line("main-gather"), 7),
        (None, None, 8),                                                      # _run_until_complete_cb
    ]


class StepByHandle(DebuggerTest):
    def check(self, task_factory):
        self.debugger.start({"stopOnEntry": True})
        program = Program(programs.interleave)
        thread = self.launch(program, task_factory)
        thread_id = self.expect_stop()["threadId"]
        main_name = None
        previous = None
        for index, (task, resume_line, iteration) in enumerate(expected_handles()):
            self.debugger.resume("handle", thread_id)
            stop = self.expect_stop()
            handle = stop["handle"]
            where = "handle #%d: %r" % (index, stop)
            self.assertEqual((stop["reason"], stop["where"], stop["iteration"]), ("step", "handle", iteration), where)
            if task is None:
                self.assertNotIn("taskName", handle, where)
                self.assertNotIn("resumeAt", handle, where)
                self.assertIn("about to run", stop["description"])
            else:
                if task == "main":
                    main_name = main_name or handle["taskName"]
                    task = main_name
                self.assertEqual(handle["taskName"], task, where)
                self.assertEqual(handle["resumeAt"], {"path": PROGRAM_FILE, "line": resume_line}, where)
                self.assertIn("Task %s" % task, stop["description"])
                self.assertIsInstance(handle["taskId"], int)
                frames = self.stack(thread_id)
                self.assertEqual(frames[0]["line"], resume_line, where)
                self.assertEqual(frames[0]["path"], PROGRAM_FILE)
            if previous is not None:
                self.assertIn("lastHandle", stop)
                self.assertEqual(stop["lastHandle"]["callback"], previous["callback"])
                if "taskName" in previous:
                    self.assertEqual(stop["lastHandle"]["taskName"], previous["taskName"])
                    self.assertIn(stop["lastHandle"]["taskState"], ("pending", "done"))
            previous = handle
        self.debugger.resume("continue")
        self.assertEqual(self.expect_finish(thread), ["a", "b"])

    def test_c_task(self):
        self.check(None)

    def test_python_task(self):
        self.check(py_task_factory)

    def test_last_handle_says_where_the_task_suspended(self):
        self.debugger.start({"stopOnEntry": True})
        thread = self.launch(Program(programs.interleave))
        thread_id = self.expect_stop()["threadId"]
        for _ in range(3):  # main's first step, alpha's first step, and stop before beta's
            self.debugger.resume("handle", thread_id)
            stop = self.expect_stop()
        self.assertEqual(stop["handle"]["taskName"], "beta")
        self.assertEqual(stop["lastHandle"]["taskName"], "alpha")
        self.assertEqual(stop["lastHandle"]["taskState"], "pending")
        self.assertEqual(stop["lastHandle"]["suspendedAt"], {"path": PROGRAM_FILE, "line": line("worker-await")})
        self.debugger.resume("continue")
        self.expect_finish(thread)


class SwitchesWhileSteppingIterations(DebuggerTest):
    """Stepping whole iterations only logs each handle (instrument._handle_run_logged); the Task
    Switches history read afterwards has every handle, in order, with its iteration and duration."""

    def check(self, task_factory):
        logged = []
        original = instrument._handle_run_logged

        def counting(handle):
            logged.append(handle)
            original(handle)
        instrument._handle_run_logged = counting
        self.addCleanup(setattr, instrument, "_handle_run_logged", original)
        self.debugger.start({"stopOnEntry": True})
        thread = self.launch(Program(programs.interleave), task_factory)
        thread_id = self.expect_stop()["threadId"]
        last_handles = []
        while True:
            self.debugger.resume("iteration", thread_id)
            stop = self.next_stop()
            if stop is None:
                break
            last_handles.append(stop.get("lastHandle"))
        self.assertEqual(thread.join(self), ["a", "b"])
        expected = expected_handles()
        self.assertEqual(len(logged), len(expected), "every handle went through the logging hook")
        entries, _kept = self.debugger.switches.recent({thread_id}, limit=0)
        entries.reverse()
        main_name = entries[0].get("taskName")
        self.assertEqual([(e.get("taskName"), e["iteration"]) for e in entries],
                         [(main_name if task == "main" else task, iteration) for task, _line, iteration in expected])
        for entry in entries:
            schema.check(entry, {"$ref": "TaskSwitch"}, "TaskSwitch")
            self.assertGreaterEqual(entry["durationMs"], 0.0)
            self.assertEqual(entry["loopId"], thread_id)
        # The stop after iteration 5 (alpha and beta's last steps) reports beta's step, and that it ended.
        self.assertEqual((last_handles[4]["taskName"], last_handles[4]["taskState"]), ("beta", "done"))
        self.assertNotIn("taskName", last_handles[5], "iteration 6 ran gather's callbacks")

    def test_c_task(self):
        self.check(None)

    def test_python_task(self):
        self.check(py_task_factory)


class StackTrace(DebuggerTest):
    def check(self, task_factory):
        results = self.debugger.set_function_breakpoints([{"name": "leaf"}])
        self.assertEqual([r["verified"] for r in results], [True])
        thread = self.launch(Program(programs.nested), task_factory)
        # First where leaf starts: its first line, in the running code of task deep...
        started = self.expect_stop()
        self.assertEqual((started["reason"], started["where"]), ("function breakpoint", "code"))
        frames = self.stack(started["threadId"])
        self.assert_frame(frames[0], "leaf", "leaf-first")
        self.assert_frame(frames[1], "middle", "middle-await")
        self.assert_frame(frames[2], "outer", "outer-await")
        self.debugger.resume("continue")
        # ...then before the step that resumes it.
        stop = self.expect_stop()
        self.assertEqual((stop["reason"], stop["where"]), ("function breakpoint", "handle"))
        self.assertEqual(stop["hitBreakpointIds"], [results[0]["id"]])
        self.assertEqual(stop["handle"]["taskName"], "deep")
        frames = self.stack(stop["threadId"])
        self.assert_frame(frames[0], "leaf", "leaf-await")
        self.assert_frame(frames[1], "middle", "middle-await")
        self.assert_frame(frames[2], "outer", "outer-await")
        # Then who created the task (a label at the creating line), then the loop's position.
        self.assertEqual(frames[3]["presentationHint"], "label")
        # (3.13.0's create_task names a task from a task factory 'None': set_name(None), as asyncio shows it.)
        self.assertRegex(frames[3]["name"], r"^created by (Task-\d+|None)$")
        self.assertEqual((frames[3]["path"], frames[3]["line"]),
                         (programs.__file__, fixture_line(programs.__file__, "deep-made")))
        self.assertEqual(frames[4]["presentationHint"], "label")
        self.assertIn("iteration %d" % stop["iteration"], frames[4]["name"])
        for frame in frames[5:]:  # the loop thread's own user frames: only this suite's helpers
            self.assertTrue(frame["path"].startswith(TEST_DIR), frame)
        self.assertEqual(len({f["id"] for f in frames}), len(frames), "frame ids are unique")
        # the frames are live: evaluate in the innermost one sees its locals
        inspection = self.debugger.inspection
        answer = self.on_held_thread(lambda: inspection.evaluate("tag + '!'", frames[0]["id"]), stop["threadId"])
        self.assertEqual(answer["result"], "'deep!'")
        self.debugger.resume("continue")
        self.assertEqual(self.expect_finish(thread), "deep")

    def test_c_task(self):
        self.check(None)

    def test_python_task(self):
        self.check(py_task_factory)

    def test_stack_of_a_task_created_stop(self):
        self.debugger.set_task_filters(["taskCreated"])
        thread = self.launch(Program(programs.interleave))
        while True:
            stop = self.expect_stop()
            if "alpha" in stop["description"]:
                break
            self.debugger.resume("continue")
        self.assertEqual(stop["where"], "code")
        frames = self.stack(stop["threadId"])
        self.assert_frame(frames[0], "interleave", "create-alpha")
        self.assertIn("label", [f.get("presentationHint") for f in frames])
        self.debugger.set_task_filters([])
        self.debugger.resume("continue")
        self.expect_finish(thread)

    def test_stack_trace_needs_a_stop(self):
        with self.assertRaises(LookupError):
            self.debugger.stack_trace(1)
        answers = []
        self.debugger.on_held_thread(lambda: 1, lambda result, error: answers.append((result, error)))
        self.assertEqual(answers[0][0], None)
        self.assertIn("running", answers[0][1])


class FunctionBreakpoints(DebuggerTest):
    def run_collecting(self, breakpoints, program=None):
        results = self.debugger.set_function_breakpoints(breakpoints)
        thread = self.launch(program or Program(programs.interleave))
        stops = []
        while True:
            stop = self.next_stop()
            if stop is None:
                break
            stops.append(stop)
            self.assertLess(len(stops), 50)
            self.debugger.resume("continue")
        thread.join(self)
        return results, stops

    def summary(self, stops):
        """(task, line) of each stop before a task step; ('starts', task, line) of each stop at a
        function's first line."""
        found = []
        for s in stops:
            if s["where"] == "handle":
                found.append((s["handle"]["taskName"], s["handle"]["resumeAt"]["line"]))
            else:
                match = re.match(r"^[\w.]+ starts at control_programs\.py:(\d+) in task (\w+) ", s["description"])
                self.assertIsNotNone(match, s["description"])
                found.append(("starts", match.group(2), int(match.group(1))))
        return found

    def test_by_task_name(self):
        results, stops = self.run_collecting([{"name": "beta"}])
        self.assertEqual(self.summary(stops), [("beta", def_line(programs.Worker.run)), ("beta", line("worker-await")),
                                               ("beta", line("worker-await")), ("beta", line("leaf-await"))])
        for stop in stops:
            self.assertEqual((stop["reason"], stop["where"]), ("function breakpoint", "handle"))
            self.assertEqual(stop["hitBreakpointIds"], [results[0]["id"]])
            self.assertIn("'beta'", stop["description"])

    def test_only_task_steps_that_may_match_reach_the_debugger(self):
        # Function breakpoints alone do not watch every handle: a step of a task whose name and
        # await chain match no breakpoint runs as asyncio's own Handle._run would.
        seen = []
        original = self.debugger.before_handle
        self.debugger.before_handle = lambda state, handle: (seen.append(handle), original(state, handle))
        results, stops = self.run_collecting([{"name": "beta", "condition": "False"}])
        self.assertFalse(instrument.watch.handles)
        self.assertEqual(instrument.watch.task_step_names, {"beta"})
        self.assertEqual(stops, [])
        self.assertEqual({registry.task_of_handle(h).get_name() for h in seen}, {"beta"})
        self.assertEqual(len(seen), 4, "beta's four steps, nothing else")

    def test_by_coroutine_qualname_with_hit_count(self):
        # Worker.run is in alpha's and beta's chains: hits alternate alpha, beta, alpha, ...
        results, stops = self.run_collecting([{"name": "Worker.run", "hitCondition": "3"}])
        self.assertTrue(results[0]["verified"])
        self.assertEqual(self.summary(stops), [("alpha", line("worker-await"))])

    def test_hit_condition_at_least(self):
        _, stops = self.run_collecting([{"name": "Worker.run", "hitCondition": ">= 7"}])
        self.assertEqual(self.summary(stops), [("alpha", line("leaf-await")), ("beta", line("leaf-await"))])

    def test_hit_condition_modulo(self):
        _, stops = self.run_collecting([{"name": "Worker.run", "hitCondition": "%4"}])
        self.assertEqual(self.summary(stops), [("beta", line("worker-await")), ("beta", line("leaf-await"))])

    def test_inner_coroutine_name(self):
        # Each call stops at leaf's first line; then each step of a task resuming inside it.
        _, stops = self.run_collecting([{"name": "leaf"}])
        self.assertEqual(self.summary(stops), [("starts", "alpha", line("leaf-first")), ("starts", "beta", line("leaf-first")),
                                               ("alpha", line("leaf-await")), ("beta", line("leaf-await"))])
        self.assertEqual([s["where"] for s in stops], ["code", "code", "handle", "handle"])
        self.assertEqual(stops[0]["label"], "breakpoint on leaf")

    def test_set_while_tasks_wait_inside_the_coroutine(self):
        # After four iterations alpha and beta wait inside leaf(). A breakpoint on leaf set now
        # stops their next steps: on 3.12+ the tasks are found by a scan when the names change.
        self.debugger.start({"stopOnEntry": True})
        thread = self.launch(Program(programs.interleave))
        thread_id = self.expect_stop()["threadId"]
        for _ in range(4):
            self.debugger.resume("iteration", thread_id)
            self.expect_stop()
        self.debugger.set_function_breakpoints([{"name": "leaf"}])
        stops = []
        while True:
            self.debugger.resume("continue")
            stop = self.next_stop()
            if stop is None:
                break
            stops.append(stop)
            self.assertLess(len(stops), 10)
        thread.join(self)
        self.assertEqual(self.summary(stops), [("alpha", line("leaf-await")), ("beta", line("leaf-await"))])

    def test_task_named_after_it_was_created(self):
        # asyncio.create_task(name=...) names the task after loop.create_task returns (3.8-3.12).
        async def named():
            await asyncio.gather(asyncio.create_task(asyncio.sleep(0), name="late"), asyncio.sleep(0))
            return "ok"
        results = self.debugger.set_function_breakpoints([{"name": "late"}])
        thread = self.launch(None, target=lambda: run_on_new_loop(named))
        for _step in ("start", "after sleep(0)'s yield"):
            stop = self.expect_stop()
            self.assertEqual((stop["reason"], stop["handle"]["taskName"]), ("function breakpoint", "late"))
            self.assertEqual(stop["hitBreakpointIds"], [results[0]["id"]])
            self.debugger.resume("continue")
        self.assertEqual(self.expect_finish(thread), "ok")

    def test_task_factory_that_returns_no_task(self):
        # A factory may return a wrapper with few of Task's methods (CPython's test_runners
        # does): the create_task hook must leave it alone.
        class Wrapper:
            def __init__(self, loop, coro, **kwargs):
                self.task = asyncio.Task(coro, loop=loop, **kwargs)

            def done(self):
                return self.task.done()

            def set_name(self, name):  # 3.13's create_task calls it
                if name is not None:
                    self.task.set_name(name)

        async def child():
            return 5

        async def wrapped(_progress):
            asyncio.get_running_loop().set_task_factory(Wrapper)
            return await asyncio.get_running_loop().create_task(child()).task
        _, stops = self.run_collecting([{"name": "no task or coroutine is called this"}], Program(wrapped))
        self.assertEqual(stops, [])

    def test_condition(self):
        # Evaluated in the function's own frame at its first line (its arguments are there), and in
        # the task's innermost frame before a step.
        _, stops = self.run_collecting([{"name": "Worker.run", "condition": "tag == 'b'"}])
        self.assertEqual(self.summary(stops), [("starts", "beta", line("run-first")), ("beta", line("worker-await")),
                                               ("beta", line("worker-await")), ("beta", line("leaf-await"))])

    def test_a_task_name_and_its_coroutine_name(self):
        # alpha's first step stops for the task's name; Worker.run, not started yet, stops at its
        # first line when it starts (in that same step), not before the step as well.
        results, stops = self.run_collecting([{"name": "alpha"}, {"name": "Worker.run", "hitCondition": "1"}])
        alpha, run = results[0]["id"], results[1]["id"]
        self.assertEqual(self.summary(stops)[:2], [("alpha", def_line(programs.Worker.run)),
                                                   ("starts", "alpha", line("run-first"))])
        self.assertEqual([s["hitBreakpointIds"] for s in stops], [[alpha], [run]] + [[alpha]] * (len(stops) - 2))

    def test_invalid_breakpoints_are_reported_not_set(self):
        results = self.debugger.set_function_breakpoints([
            {"name": "good"}, {"name": "x", "hitCondition": "often"}, {"name": "y", "condition": "a b"},
            {"name": "   "}, {"name": "z", "hitCondition": ">2"}])
        schema.check_response("setFunctionBreakpoints", {"breakpoints": results})
        self.assertEqual([r["verified"] for r in results], [True, False, False, False, True])
        for result in results[1:4]:
            self.assertTrue(result.get("message"))
        self.assertEqual(len({r["id"] for r in results}), 5)
        self.assertEqual(sorted(bp.name for bp in self.debugger.breakpoints.function_breakpoints), ["good", "z"])

    def test_clearing_breakpoints(self):
        self.debugger.set_function_breakpoints([{"name": "alpha"}])
        self.debugger.set_function_breakpoints([])
        thread = self.launch(Program(programs.interleave))
        self.expect_finish(thread)
        self.assertFalse(instrument.watch.handles, "no per-handle hook when nothing needs it")


class TaskFilters(DebuggerTest):
    def collect(self, filters, program):
        self.debugger.set_task_filters(filters)
        thread = self.launch(program)
        stops = []
        while True:
            stop = self.next_stop()
            if stop is None:
                break
            stops.append(stop)
            self.assertLess(len(stops), 50)
            self.debugger.resume("continue")
        return stops, thread.join(self)

    def test_task_switch(self):
        stops, result = self.collect(["taskSwitch"], Program(programs.interleave))
        self.assertEqual(result, ["a", "b"])
        expected = [(task, resume_line) for task, resume_line, _ in expected_handles() if task is not None]
        main_name = stops[0]["handle"]["taskName"]
        got = [(s["handle"]["taskName"], s["handle"]["resumeAt"]["line"]) for s in stops]
        self.assertEqual(got, [(main_name if t == "main" else t, n) for t, n in expected])
        for stop in stops:
            self.assertEqual((stop["reason"], stop["where"]), ("task switch", "handle"))

    def test_task_created(self):
        stops, _ = self.collect(["taskCreated"], Program(programs.interleave))
        for stop in stops:
            self.assertEqual((stop["reason"], stop["where"]), ("task created", "code"))
        mine = [s["description"] for s in stops if "alpha" in s["description"] or "beta" in s["description"]]
        self.assertEqual(mine, ["Task alpha (Worker.run) created at control_programs.py:%d" % line("create-alpha"),
                                "Task beta (Worker.run) created at control_programs.py:%d" % line("create-beta")])

    def test_task_created_by_asyncio_create_task_with_a_name(self):
        stops, result = self.collect(["taskCreated"], Program(programs.spawn_named))
        self.assertEqual(result, "g")
        self.assertIn("Task gamma (leaf) created at control_programs.py:%d" % line("create-gamma"),
                      [s["description"] for s in stops])

    @unittest.skipIf(not hasattr(asyncio, "eager_task_factory"), "eager tasks are 3.12+")
    def test_task_created_eager_and_already_done(self):
        # The task ran to its end inside create_task; 3.12.1's Task.get_coro() would crash on it.
        async def quick():
            return 7

        async def eager(_progress):
            asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
            task = asyncio.get_running_loop().create_task(quick())
            return task.done(), task.result()
        self.debugger.set_function_breakpoints([{"name": "never called this"}])
        stops, result = self.collect(["taskCreated"], Program(eager))
        self.assertEqual(result, (True, 7))
        self.assertEqual(len(stops), 2, [s["description"] for s in stops])  # the main task, then quick's
        self.assertIn("created", stops[1]["description"])

    def test_task_done(self):
        stops, result = self.collect(["taskDone"], Program(programs.outcomes))
        self.assertEqual(result, ["str", "ValueError", "CancelledError"])
        descriptions = [s["description"] for s in stops]
        for stop in stops:
            self.assertEqual((stop["reason"], stop["where"]), ("task done", "code"))
        self.assertIn("Task returns finished: returned 'r'", descriptions)
        self.assertIn("Task fails failed: ValueError('no good')", descriptions)
        self.assertIn("Task cancelled was cancelled", descriptions)
        self.assertTrue(any(d.endswith("finished: returned ['str', 'ValueError', 'CancelledError']")
                            for d in descriptions), descriptions)

    def test_filters_and_watch_flags(self):
        self.debugger.set_task_filters(["taskCreated"])
        self.assertTrue(instrument.watch.creation)
        self.assertFalse(instrument.watch.handles)
        self.debugger.set_task_filters(["taskDone"])
        self.assertFalse(instrument.watch.creation)
        self.assertTrue(instrument.watch.handles)
        self.debugger.set_task_filters([])
        self.assertFalse(instrument.watch.handles or instrument.watch.creation or instrument.watch.iterations)


class Pause(DebuggerTest):
    def test_pause_while_the_loop_sleeps(self):
        holder = {}  # the sleeper puts its loop and the future it waits on here
        progress_program = Program(programs.sleeper, holder)
        in_long_select = threading.Event()

        def target():
            loop = asyncio.new_event_loop()
            selector = loop._selector
            original = selector.select

            def select(timeout=None):
                if timeout is None or timeout > 5:
                    in_long_select.set()
                return original(timeout)
            selector.select = select
            try:
                return loop.run_until_complete(progress_program.make())
            finally:
                loop.close()
        thread = self.launch(None, target=target)
        self.assertTrue(in_long_select.wait(DEADLINE), "the program never went to sleep")
        started = time.monotonic()
        self.debugger.pause()
        stop = self.expect_stop()
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, 2.0, "pause took %.2fs to land on a loop sleeping for 60s" % elapsed)
        self.assertEqual((stop["reason"], stop["where"]), ("pause", "iteration"))
        self.assertEqual(progress_program.progress.snapshot(), ["sleeping"])
        frames = self.stack(stop["threadId"])
        # Between iterations the top frame is the loop's own run_forever, named for the position.
        self.assertRegex(frames[0]["name"], r"· before iteration \d+$")
        self.assertTrue(frames[0]["path"].endswith(os.path.join("asyncio", "base_events.py")), frames[0])
        self.debugger.resume("continue")
        holder["loop"].call_soon_threadsafe(holder["release"].set_result, None)
        self.assertEqual(self.expect_finish(thread), "woke")

    def test_pause_before_any_loop_lands_at_the_threads_next_line(self):
        # The program's thread runs no loop yet: it is a thread of its own, held at its next user line.
        self.debugger.pause()
        program = Program(programs.interleave)
        thread = self.launch(program)
        stop = self.expect_stop()
        self.assertEqual((stop["reason"], stop["where"]), ("pause", "code"))
        self.assertNotIn("loopId", stop)
        self.assertEqual(registry.loop_states(), [])
        self.assertEqual(program.progress.snapshot(), [])
        self.assertRegex(stop["description"], r"^Paused at \w+\.py:\d+ on thread program$")
        self.assertEqual(self.debugger.threads()[0], [{"id": stop["threadId"], "name": "Thread program"}])
        self.debugger.resume("continue")
        self.expect_finish(thread)

    @unittest.skipIf(threading.current_thread() is not threading.main_thread(), "needs the main thread")
    def test_pause_busy_code_on_the_main_thread(self):
        """A callback that never yields: the pause signal stops it inside its own code."""
        if signal.getsignal(PAUSE_SIGNAL) not in (signal.SIG_DFL, None):
            self.skipTest("the pause signal is in use")
        self.debugger.install_busy_pause()
        self.addCleanup(signal.signal, PAUSE_SIGNAL, signal.SIG_DFL)
        release = threading.Event()
        program = Program(programs.busy, release, DEADLINE)
        seen = {}

        def adapter():
            self.debugger.plain_threads.leave_alone(threading.get_ident())  # it plays the adapter
            try:
                if not program.progress.wait_for("busy", DEADLINE):
                    return
                self.debugger.pause()
                event, body = self.events.next(("stopped",))
                seen["stop"] = body
                seen["frames"] = self.on_held_thread(functools.partial(self.debugger.stack_trace, body["threadId"]),
                                                     body["threadId"])
            except BaseException as error:  # reported by the main thread
                seen["error"] = error
            finally:
                release.set()
                self.debugger.resume("continue")
        helper = threading.Thread(target=adapter, daemon=True)
        helper.start()
        self.assertTrue(run_on_new_loop(program.make), "the busy callback was never released")
        helper.join(DEADLINE)
        if "error" in seen:
            raise seen["error"]
        self.assertEqual((seen["stop"]["reason"], seen["stop"]["where"]), ("pause", "code"))
        self.assert_frame(seen["frames"][0], "busy", "busy-spin")


class LoopEvents(DebuggerTest):
    def test_loop_started_and_closed(self):
        thread = self.launch(Program(programs.interleave))
        self.assertEqual(self.expect_finish(thread), ["a", "b"])
        lifecycle = [(e, b) for e, b in self.events.all if e in ("loopStarted", "loopClosed")]
        self.assertEqual([e for e, _ in lifecycle], ["loopStarted", "loopClosed"])
        self.assertEqual(lifecycle[0][1]["threadId"], lifecycle[1][1]["threadId"])
        self.assertIn(thread.thread.name, lifecycle[0][1]["name"])
        self.assertEqual(self.debugger.threads(), ([], 0))

    def test_unclosed_loop_is_reported_closed_when_collected(self):
        """A loop the program drops without close() must not be kept alive by Loopscope (it would leak,
        and loopClosed would never come) - also while handles are watched."""
        import gc
        import warnings
        self.debugger.set_task_filters(["taskException"])  # every handle watched (and no task fails here)
        self.assertTrue(instrument.watch.handles)

        def target():
            loop = asyncio.new_event_loop()
            loop.run_until_complete(programs.two_runs_first(programs.Progress()))
            return len(registry.loop_states())
        self.assertEqual(self.launch(None, target=target).join(self), 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # "unclosed event loop": that is the point
            gc.collect()
        self.assertIn("loopClosed", [e for e, _ in self.events.all], "the dropped loop was never collected")
        self.assertEqual(self.debugger.threads(), ([], 0))


class AllStop(DebuggerTest):
    def test_every_loop_holds_while_one_is_stopped(self):
        stops = [threading.Event(), threading.Event()]
        tickers = [Program(programs.ticker, stop) for stop in stops]
        self.debugger.start({"stopOnEntry": True})
        threads = [self.launch(p) for p in tickers]
        entry = self.expect_stop()
        self.assertEqual(entry["reason"], "entry")
        held = set()
        deadline = time.monotonic() + DEADLINE
        while len(held) < 2:
            try:
                held.add(self.debugger.holds.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                self.fail("only %r held" % held)
        # The other program thread holds at its loop's next boundary or, if its loop has not begun,
        # as a thread of its own at its next line.
        loop_ids = {state.id for state in registry.loop_states()}
        thread_ids = {state.id for state in self.debugger.plain_threads.listed()}
        self.assertIn(entry["threadId"], loop_ids)
        self.assertTrue(held <= loop_ids | thread_ids, (held, loop_ids, thread_ids))
        before = [p.progress.snapshot() for p in tickers]
        other = (held - {entry["threadId"]}).pop()
        quiet = self.stack(other)  # runs on the quietly held thread itself
        if other in loop_ids:
            self.assertIn("iteration", quiet[0]["name"])
        else:
            self.assertTrue(quiet[0]["path"].startswith(TEST_DIR), quiet[0])
        self.assertEqual([p.progress.snapshot() for p in tickers], before, "a held loop made progress")
        self.assertEqual([e for e, _ in self.events.all].count("stopped"), 1, "only one stop is reported")
        self.debugger.resume("continue")
        for stop in stops:
            stop.set()
        for thread, snapshot in zip(threads, before):
            self.assertGreaterEqual(thread.join(self), len(snapshot))



class LoopWithItsOwnClock(asyncio.SelectorEventLoop):
    """A loop subclass whose time() is the program's own code, as test_asyncio's TestLoop."""

    def time(self):
        now = super().time()
        return now


class LoopscopesOwnWorkNeverStops(DebuggerTest):
    """What the runtime runs of the program's code while it builds a stop (a loop's own time(), a
    repr) runs on the thread that is stopping: it must not stop that thread a second time."""

    def test_a_loop_run_by_hand_stops_once_though_its_time_is_user_code(self):
        self.debugger.start({"stopOnEntry": True})
        parked = threading.Event()
        others = threading.Thread(target=parked.wait, args=(DEADLINE,), name="another program thread", daemon=True)
        others.start()  # a thread that runs no loop: the all-stop holds it at its next line
        self.addCleanup(parked.set)

        def run_by_hand():
            # _run_once called directly, as test_asyncio does: no loop is running on this thread.
            loop = LoopWithItsOwnClock()
            try:
                loop.call_soon(lambda: None)
                loop._run_once()
                return "ran"
            finally:
                loop.close()
        program = self.launch(None, target=run_by_hand)
        entry = self.expect_stop()
        self.assertEqual(entry["reason"], "entry")
        self.debugger.resume("continue")
        parked.set()
        self.assertEqual(program.join(self), "ran")


if __name__ == "__main__":
    unittest.main()
