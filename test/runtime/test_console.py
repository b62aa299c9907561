"""The Debug Console on a held loop, driven in-process (the program on a thread of its own, the
test playing the adapter): await in expressions (consoleawait.py), what it lets run and what it
keeps back, the loop clock meanwhile, assignments that stick (frameedit.py), setVariable,
setExpression and completions that run none of the program's code."""

import asyncio
import functools
import os
import queue
import threading
import time
import unittest

from runtime_support import DEADLINE, FIXTURES, EventRecorder, ProgramThread, fixture_line, run_on_new_loop
from loopscope import asyncio_internals as internals
from loopscope import consoleawait, instrument, linetrace, registry, schema
from loopscope.debugger import Debugger

import console_programs as programs

PROGRAM_FILE = os.path.join(FIXTURES, "console_programs.py")


def line(marker):
    return fixture_line(PROGRAM_FILE, marker)


_REFERENCE = []


def reference_run():
    """What main() logs without a debugger (worked out once, before any test installs one)."""
    if not _REFERENCE:
        progress = programs.Progress()
        _REFERENCE.append(run_on_new_loop(lambda: programs.main(progress, programs.Box())))
    return _REFERENCE[0]


class ConsoleTest(unittest.TestCase):
    maxDiff = None
    settings = {}

    def setUp(self):
        reference_run()
        self.events = EventRecorder()
        self.debugger = Debugger(self.events)
        self.debugger.plain_threads.leave_alone(threading.get_ident())  # this thread plays the adapter
        instrument.install(self.debugger)
        self.threads = []

    def tearDown(self):
        self.debugger.set_line_breakpoints(PROGRAM_FILE, [], linetrace.code_lines(PROGRAM_FILE))
        deadline = time.monotonic() + DEADLINE
        for thread in self.threads:
            while not thread.done.is_set() and time.monotonic() < deadline:
                self.debugger.resume("continue")
                thread.done.wait(0.05)
        instrument.uninstall()
        self.assertEqual(self.events.violations, [], "events that break protocol.json")

    def stop_at(self, marker, make, **settings):
        """Run make() on a new loop, held at the line marked marker; the top frame's id."""
        self.debugger.start(dict(self.settings, **settings))
        self.debugger.set_line_breakpoints(PROGRAM_FILE, [{"line": line(marker)}], linetrace.code_lines(PROGRAM_FILE))
        thread = ProgramThread(lambda: run_on_new_loop(make), self.events)
        self.threads.append(thread)
        thread.start()
        event, self.stop = self.events.next(("stopped", "finished"))
        self.assertEqual(event, "stopped", "the program finished without stopping at @%s" % marker)
        frames = self.held(functools.partial(self.debugger.stack_trace, self.stop["threadId"]))
        return frames[0]["id"]

    def held(self, work, thread_id=None):
        """work() on the held loop's thread; fails on an error."""
        result, error = self.try_held(work, thread_id)
        self.assertIsNone(error)
        return result

    def try_held(self, work, thread_id=None):
        answers = queue.Queue()
        self.debugger.on_held_thread(work, lambda result, error: answers.put((result, error)), thread_id)
        try:
            return answers.get(timeout=DEADLINE * 4)
        except queue.Empty:
            self.fail("no answer from the held loop")

    def evaluate(self, expression, frame_id, context="repl"):
        """(result text or None, error text or None)"""
        inspection = self.debugger.inspection
        body, error = self.try_held(lambda: inspection.evaluate(expression, frame_id, context))
        if body is not None:
            schema.check_response("evaluate", body)
            return body["result"], None
        return None, error

    def value(self, expression, frame_id, context="repl"):
        result, error = self.evaluate(expression, frame_id, context)
        self.assertIsNone(error, "%s failed" % expression)
        return result

    def finish(self):
        self.debugger.resume("continue")
        event, thread = self.events.next(("stopped", "finished"))
        self.assertEqual(event, "finished", "the program stopped again")
        return thread.join(self)

    def held_loop(self):
        return registry.state_for_thread(self.stop["loopId"]).loop


class AwaitInTheConsole(ConsoleTest):
    def launch_main(self, **settings):
        self.progress, self.box = programs.Progress(), programs.Box()
        return self.stop_at("main-stop", lambda: programs.main(self.progress, self.box), **settings)

    def test_await_expressions_and_the_program_runs_as_without_them(self):
        frame = self.launch_main()
        self.assertEqual(self.value("await fetch(3)", frame), "30")
        self.assertEqual(self.value("await asyncio.sleep(0.05, 'woke')", frame), "'woke'")
        self.assertEqual(self.value("[n async for n in numbers()]", frame), "[0, 1, 2]")
        self.assertEqual(self.value("(await asyncio.sleep(0)) or asyncio.current_task().get_name()", frame),
                         "'%s'" % consoleawait.TASK_NAME)
        self.assertIn(self.value("asyncio.current_task().get_name()", frame).strip("'"), self.stop["description"],
                      "without await it runs in the held task")
        self.assertEqual(self.value("(await fetch(1)) + (await fetch(2)) + x", frame), "31")
        self.assertEqual(self.value("await asyncio.gather(fetch(4), fetch(5))", frame), "[40, 50]")
        self.assertEqual(self.progress.snapshot(), ["tick 0"], "nothing more of the program ran")
        self.assertEqual(self.finish(), reference_run())

    def test_the_program_handles_are_kept_back_and_put_back_where_they_were(self):
        frame = self.launch_main()
        loop = self.held_loop()
        queues = lambda: (list(internals.ready_queue(loop)), sorted(map(id, internals.scheduled_timers(loop))),
                          internals.current_task(loop))
        before = self.held(queues)
        self.assertTrue(before[0], "the program has ready handles at the stop")
        self.assertEqual(self.value("await asyncio.sleep(0.06)", frame), "None")
        after = self.held(queues)
        self.assertEqual(after[0], before[0])
        self.assertEqual(after[1], before[1], "the program's timers (one is due meanwhile) are where they were")
        self.assertIs(after[2], before[2], "the task held in its step is the current task again")
        self.assertEqual(self.progress.snapshot(), ["tick 0"])
        self.assertEqual(self.finish(), reference_run())

    def test_a_frozen_clock_runs_for_the_await_and_goes_back(self):
        frame = self.launch_main()
        before = float(self.value("asyncio.get_running_loop().time()", frame))
        during = float(self.value("(await asyncio.sleep(0.2)) or asyncio.get_running_loop().time()", frame))
        after = float(self.value("asyncio.get_running_loop().time()", frame))
        self.assertGreaterEqual(during - before, 0.2)
        self.assertEqual(after, before, "the program sees no time pass")
        self.finish()

    def test_a_virtual_clock_jumps_to_the_expressions_timers(self):
        frame = self.launch_main(clock="virtual")
        started = time.monotonic()
        self.assertEqual(self.value("await asyncio.sleep(3600, 'an hour')", frame), "'an hour'")
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(self.finish(), reference_run())

    def test_awaiting_a_held_task_fails_at_once_and_says_which(self):
        frame = self.launch_main()
        started = time.monotonic()
        result, error = self.evaluate("await ticks", frame)
        self.assertIsNone(result)
        self.assertRegex(error, r"waits on task Task-\d+ \(ticker, ready to resume at console_programs.py:%d\), "
                                r"which is held" % line("ticker-await"))
        self.assertIn('"consoleAwait": "runLoop"', error)
        self.assertLess(time.monotonic() - started, 5, "said at once, not at the time limit")
        result, error = self.evaluate("await asyncio.wait_for(keeper, 100)", frame)
        self.assertRegex(error, r"waits on task Task-\d+ \(holder, ready to resume at console_programs.py:%d\)"
                         % line("holder-await"))
        self.assertEqual(self.finish(), reference_run(), "the held tasks were not cancelled")

    def test_run_loop_lets_the_program_run_until_the_expression_is_done(self):
        frame = self.launch_main(consoleAwait="runLoop")
        before = float(self.value("asyncio.get_running_loop().time()", frame))
        self.assertEqual(self.value("await ticks", frame), "None")
        self.assertEqual(self.progress.snapshot()[:3], ["tick 0", "tick 1", "tick 2"])
        self.assertEqual(self.value("await asyncio.sleep(0.06)", frame), "None")
        self.assertIn("timer", self.progress.snapshot())
        self.assertGreater(float(self.value("asyncio.get_running_loop().time()", frame)), before + 0.05,
                           "the time the program ran stays")
        log = self.finish()
        self.assertEqual(log[-3:], ["main before", "main x=1 box.value=1", "main done"])

    def test_run_loop_held_inside_an_iteration_leaves_that_iteration_whole(self):
        """The iteration below the hold goes on taking the handles it counted; the loop run for the
        console took them already, so placeholders stand in for them."""
        progress = programs.Progress()
        frame = self.stop_at("one-ready", lambda: programs.with_one_ready(progress), consoleAwait="runLoop")
        self.assertEqual(self.value("await asyncio.sleep(0.01)", frame), "None")
        self.assertEqual(progress.snapshot(), ["second"])
        self.assertEqual(self.finish(), ["second", "first", "main"])

    def test_over_the_time_limit_it_is_cancelled_at_its_await_only(self):
        frame = self.launch_main()
        result, error = self.evaluate("await asyncio.sleep(60)", frame, context="watch")
        self.assertIsNone(result)
        self.assertIn("ran longer than 1 s and was cancelled", error)
        self.assertIn("meanwhile the program was held", error)
        result, error = self.evaluate("await asyncio.shield(keeper)", frame, context="watch")
        self.assertIn("holder", error)
        self.assertEqual(self.finish(), reference_run())

    def test_exceptions_and_statements(self):
        frame = self.launch_main()
        self.assertEqual(self.evaluate("await fails()", frame), (None, "ValueError: boom"))
        self.assertEqual(self.evaluate("box.table['missing']", frame), (None, "KeyError: 'missing'"))
        self.assertEqual(self.evaluate("await asyncio.wait_for(asyncio.sleep(1), 0.01)", frame),
                         (None, "TimeoutError"), "an exception with no message: its type")
        self.assertEqual(self.value("import json; result = await fetch(6)", frame), "")
        self.assertEqual(self.value("json.dumps(result)", frame), "'60'")
        self.assertEqual(self.finish(), reference_run())

    def test_executor_work_comes_back_and_the_program_threads_callbacks_wait(self):
        progress, go, handed = programs.Progress(), threading.Event(), threading.Event()
        frame = self.stop_at("fed-stop", lambda: programs.fed_by_thread(progress, go, handed))
        self.assertEqual(self.value("await asyncio.get_running_loop().run_in_executor(None, sum, [1, 2])", frame), "3")
        # The program's thread hands in its callback; the executor's answer comes after it.
        self.assertEqual(self.value("go.set() or await asyncio.get_running_loop().run_in_executor(None, handed.wait, %d)"
                                    % DEADLINE, frame), "True")
        self.assertTrue(handed.is_set())
        self.assertEqual(progress.snapshot(), [], "the program thread's callback was held")
        self.assertEqual(self.finish(), ["fed before", "from thread", "fed done"])

    def test_await_needs_a_held_loop_on_the_thread(self):
        async def coroutine():
            return 1
        coro = coroutine()
        with self.assertRaises(consoleawait.AwaitFailed) as raised:
            consoleawait.await_on_held_loop(coro, None, "holdOthers", 1.0)
        self.assertIn("this frame's thread runs no event loop", str(raised.exception))
        self.assertIsNone(coro.cr_frame, "the coroutine was closed, not left to warn")

    def test_tasks_the_console_creates_do_not_stop_the_program_again(self):
        frame = self.launch_main()
        self.debugger.set_task_filters(["taskCreated", "taskDone"])
        self.assertEqual(self.value("await asyncio.ensure_future(fetch(7))", frame), "70")
        self.debugger.set_task_filters([])
        self.assertEqual(self.finish(), reference_run())


class ChangingState(ConsoleTest):
    def launch_main(self):
        self.progress, self.box = programs.Progress(), programs.Box()
        return self.stop_at("main-stop", lambda: programs.main(self.progress, self.box))

    def scope(self, frame_id, name):
        inspection = self.debugger.inspection
        scopes = self.held(lambda: inspection.scopes(frame_id))
        return next(s["variablesReference"] for s in scopes if s["name"] == name)

    def children(self, reference):
        inspection = self.debugger.inspection
        return {v["name"]: v for v in self.held(lambda: inspection.variables(reference))}

    def set_variable(self, reference, name, value):
        inspection = self.debugger.inspection
        body, error = self.try_held(lambda: inspection.set_variable(reference, name, value))
        if body is not None:
            schema.check_response("setVariable", body)
        return body, error

    def test_assignments_in_the_console_stick_where_python_allows(self):
        frame = self.launch_main()
        self.assertEqual(self.value("x = x + 41", frame), "")
        self.assertEqual(self.value("[x for _ in range(2)]", frame), "[42, 42]", "comprehensions see locals")
        self.assertEqual(self.value("scratch = 'mine'", frame), "")
        self.assertEqual(self.value("scratch", frame), "'mine'", "a new name stays with the frame")
        self.assertFalse(hasattr(programs, "scratch"), "nor in the module")
        _result, error = self.evaluate("del x", frame)
        self.assertIn("the local variable x of a running function cannot be deleted", error)
        self.assertEqual(self.value("x", frame), "42")
        self.assertEqual(self.value("global made_here; made_here = 7", frame), "")
        self.assertEqual(programs.made_here, 7)
        del programs.made_here
        log = self.finish()
        self.assertIn("main x=42 box.value=1", log)

    def test_set_variable_in_the_held_frame_and_in_a_suspended_task(self):
        frame = self.launch_main()
        locals_ref = self.scope(frame, "Locals")
        body, error = self.set_variable(locals_ref, "x", "x * 100 + len(box.items)")
        self.assertIsNone(error)
        self.assertEqual(body["value"], "103")
        # The suspended task holder(): its own frame, in its task's thread.
        keeper = self.value("keeper.get_name()", frame).strip("'")
        task_id = next(t["id"] for t in self.held(lambda: self.debugger.threads()[0]) if t["name"].startswith(keeper))
        keeper_frame = self.held(functools.partial(self.debugger.stack_trace, task_id))[0]["id"]
        body, error = self.set_variable(self.scope(keeper_frame, "Locals"), "count", "count + 41")
        self.assertIsNone(error)
        self.assertEqual(body["value"], "42")
        self.assertEqual(self.children(self.scope(keeper_frame, "Locals"))["count"]["value"], "42")
        log = self.finish()
        self.assertIn("main x=103 box.value=1", log)
        self.assertIn("holder count=42", log)

    def test_set_items_attributes_and_what_cannot_be_set(self):
        frame = self.launch_main()
        box = self.children(self.scope(frame, "Locals"))["box"]
        attributes = self.children(box["variablesReference"])
        self.assertEqual(self.set_variable(box["variablesReference"], "value", "'new'")[0]["value"], "'new'")
        items = attributes["items"]["variablesReference"]
        self.assertEqual(self.set_variable(items, "[1]", "20")[0]["value"], "20")
        table = attributes["table"]["variablesReference"]
        shown = self.children(table)
        self.assertIn("3", shown)
        self.assertEqual(self.set_variable(table, "3", "'THREE'")[0]["value"], "'THREE'")
        self.assertEqual(self.set_variable(table, "'alpha'", "[1, 2]")[0]["indexedVariables"], 2)
        self.assertEqual(self.box.items, [1, 20, 3])
        self.assertEqual(self.box.table, {"alpha": [1, 2], "beta": 2, 3: "THREE"})
        _body, error = self.set_variable(attributes["pair"]["variablesReference"], "[0]", "9")
        self.assertIn("a tuple cannot be changed", error)
        _body, error = self.set_variable(self.scope(frame, "Task"), "name", "'x'")
        self.assertIn("cannot be set", error)
        _body, error = self.set_variable(items, "[0]", "undefined_name")
        self.assertIn("NameError", error)
        self.assertEqual(self.box.items, [1, 20, 3], "a value that fails to evaluate changes nothing")
        self.assertIn("main x=1 box.value='new'", self.finish())

    def test_set_expression(self):
        frame = self.launch_main()
        inspection = self.debugger.inspection
        for target, value, shown in (("x", "x + 1", "2"), ("box.value", "await fetch(9)", "90"),
                                     ("box.table['beta']", "'b'", "'b'"), ("box.items[0:2]", "[]", "[]")):
            body = self.held(lambda: inspection.set_expression(target, value, frame))
            schema.check_response("setExpression", body)
            self.assertEqual(body["value"], shown, target)
        _body, error = self.try_held(lambda: inspection.set_expression("x + 1", "3", frame))
        self.assertIn("cannot be assigned to", error)
        self.assertEqual((self.box.table["beta"], self.box.items), ("b", [3]))
        self.assertIn("main x=2 box.value=90", self.finish())


class Completions(ConsoleTest):
    def complete(self, text, frame_id):
        inspection = self.debugger.inspection
        body = self.held(lambda: inspection.completions(text, frame_id))
        schema.check_response("completions", body)
        return body["fragment"], [t["label"] for t in body["targets"]]

    def test_names_attributes_and_keys_without_running_the_program(self):
        progress, box = programs.Progress(), programs.Box()
        frame = self.stop_at("main-stop", lambda: programs.main(progress, box))
        fragment, labels = self.complete("ti", frame)
        self.assertEqual(fragment, "ti")
        self.assertIn("ticks", labels)
        self.assertIn("ticker", labels)
        fragment, labels = self.complete("print(bo", frame)
        self.assertEqual((fragment, labels[:1]), ("bo", ["bool"]))
        self.assertIn("box", labels)
        fragment, labels = self.complete("box.", frame)
        self.assertEqual(fragment, "")
        for name in ("value", "items", "table", "watched", "reads"):
            self.assertIn(name, labels)
        self.assertLess(labels.index("value"), labels.index("__init__"), "public names come first")
        self.assertEqual(self.complete("box.ta", frame)[1], ["table"])
        self.assertEqual(self.complete("box.table[", frame)[1], ["'alpha'", "'beta'", "3"])
        self.assertEqual(self.complete("box.table['b", frame), ("'b", ["'beta'"]))
        self.assertEqual(self.complete('box.table["a', frame), ('"a', ['"alpha"']))
        self.assertEqual(self.complete("box.watched.", frame)[1], [], "a property is not read")
        self.assertEqual(self.complete("box.missing.", frame)[1], [], "__getattr__ is not called")
        self.assertIn("sleep", self.complete("asyncio.sl", frame)[1])
        self.assertIn("await", self.complete("awa", frame)[1])
        self.assertEqual(box.reads, 0, "completions ran the program's code")
        self.finish()


if __name__ == "__main__":
    unittest.main()
