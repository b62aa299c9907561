"""The tracer behind line breakpoints and line stepping (linetrace.py), driven directly on the test's
own thread with whichever backend this Python has (sys.monitoring from 3.12, settrace before):
which lines it reports while breakpoints and the stepping switch change around code that has
already run, is running, is suspended, or is not loaded yet."""

import colorsys
import importlib.util
import json
import os
import sys
import threading
import unittest

from runtime_support import DEADLINE, FIXTURES, fixture_line
from loopscope import asyncio_internals as internals
from loopscope import breakpoints
from loopscope import frames as frame_tools
from loopscope import linetrace

import line_programs as programs

PROGRAM = os.path.join(FIXTURES, "line_programs.py")
LATER = os.path.join(FIXTURES, "imported_later.py")


def line(marker, path=PROGRAM):
    return fixture_line(path, marker)


class TracerTest(unittest.TestCase):
    def setUp(self):
        self.table = linetrace.BreakpointTable()
        self.reported = []
        self.on_report = None   # called with (path, line) after each report, to act while "held"
        self.tracer = linetrace.make_tracer(self.table, self._on_line)
        self.loaded = 0

    def tearDown(self):
        for path in list(self.table.by_path):
            self.table.set(path, [], ())
        self.tracer.update(stepping=False, catching=False, any_code=False, suspending=False, entries=None)
        self.tracer.sync_thread()
        if internals.HAS_MONITORING:
            self.assertNotIn("loopscope", [sys.monitoring.get_tool(tool) for tool in range(6)],
                             "the tool id was not given back")

    def _on_line(self, frame):
        where = (frame.f_code.co_filename, frame.f_lineno)
        self.reported.append(where)
        if self.on_report is not None:
            self.on_report(*where)

    def set_breakpoints(self, path, *lines, running=None):
        """As the debugger does: the table, then the tracer, then this thread catches up (settrace)."""
        results = self.table.set(path, [{"line": number} for number in lines], linetrace.code_lines(path))
        self.assertTrue(all(result["verified"] for result in results), results)
        self.tracer.update()
        self.tracer.sync_thread(running)
        return [result["line"] for result in results]

    def step(self, stepping):
        self.tracer.update(stepping=stepping)
        self.tracer.sync_thread()

    def lines_in(self, path=PROGRAM):
        return [number for filename, number in self.reported if filename == path]

    def load_later_module(self):
        """imported_later.py as a new module (new code objects) each time."""
        self.loaded += 1
        spec = importlib.util.spec_from_file_location("imported_later_%d" % self.loaded, LATER)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


class LineBreakpoints(TracerTest):
    def test_only_the_breakpoint_line_is_reported(self):
        self.set_breakpoints(PROGRAM, line("add-second"))
        programs.add(1, 2)
        programs.add(3, 4)
        self.assertEqual(self.reported, [(PROGRAM, line("add-second"))] * 2)

    def test_code_that_ran_while_another_file_had_breakpoints(self):
        # add() runs while only imported_later.py is watched, so whatever noticed it then is off.
        self.set_breakpoints(LATER, line("double-body", LATER))
        programs.add(1, 2)
        self.set_breakpoints(PROGRAM, line("add-first"))
        programs.add(1, 2)
        self.assertEqual(self.lines_in(), [line("add-first")])

    def test_a_second_breakpoint_in_code_that_already_ran(self):
        self.set_breakpoints(PROGRAM, line("add-first"))
        programs.add(1, 2)  # its other lines are passed over from here on
        self.set_breakpoints(PROGRAM, line("add-first"), line("add-return"))
        programs.add(1, 2)
        self.assertEqual(self.lines_in(), [line("add-first"), line("add-first"), line("add-return")])

    def test_a_breakpoint_set_while_held_at_another_in_the_same_call(self):
        def held_at(path, number):
            if number == line("add-first"):
                self.set_breakpoints(PROGRAM, line("add-first"), line("add-return"))
        self.on_report = held_at
        self.set_breakpoints(PROGRAM, line("add-first"))
        programs.add(1, 2)
        self.assertEqual(self.lines_in(), [line("add-first"), line("add-return")])

    def test_a_module_imported_after_its_breakpoints_were_set(self):
        self.set_breakpoints(LATER, line("module-level", LATER), line("double-body", LATER))
        for _ in range(2):  # twice: each import makes equal but distinct code objects
            self.assertEqual(self.load_later_module().double(21), 42)
        expected = [line("module-level", LATER), line("double-body", LATER)] * 2
        self.assertEqual(self.lines_in(LATER), expected)

    def test_code_running_when_the_breakpoint_is_set(self):
        # count_to() neither starts nor resumes after the breakpoint is set: its frame is running.
        def set_now():
            self.set_breakpoints(PROGRAM, line("count-body"), running=sys._getframe(1))
        self.assertEqual(programs.count_to(4, set_now), 6)
        self.assertEqual(self.lines_in(), [line("count-body")] * 3)  # i = 1, 2, 3

    def test_generator_resumed_after_the_breakpoint_is_set(self):
        generator = programs.pausing()
        self.assertEqual(next(generator), 1)
        self.set_breakpoints(PROGRAM, line("pausing-after"))
        self.assertEqual(next(generator), 2)
        self.assertEqual(self.lines_in(), [line("pausing-after")])

    def test_removed_breakpoints_report_nothing(self):
        self.set_breakpoints(PROGRAM, line("add-first"))
        programs.add(1, 2)
        self.set_breakpoints(PROGRAM)
        self.set_breakpoints(LATER, line("double-body", LATER))  # the tracer stays on for another file
        programs.add(1, 2)
        self.assertEqual(self.lines_in(), [line("add-first")])


class LineStepping(TracerTest):
    def test_every_user_line_while_stepping_then_only_breakpoints(self):
        self.set_breakpoints(PROGRAM, line("add-second"))
        programs.add(1, 2)  # add-first and add-return are passed over from here on
        self.step(True)
        programs.add(1, 2)
        self.step(False)
        programs.add(1, 2)
        add_lines = [line("add-first"), line("add-second"), line("add-return")]
        self.assertEqual(self.lines_in(), [line("add-second")] + add_lines + [line("add-second")])

    def test_stepping_without_breakpoints_reports_lines_of_any_user_file(self):
        self.step(True)
        self.assertEqual(self.load_later_module().double(1), 2)
        self.step(False)
        self.load_later_module().double(1)
        # Every line with code, once: the module's lines, then double()'s body.
        self.assertEqual(self.lines_in(LATER), sorted(linetrace.code_lines(LATER)))
        self.assertIn(line("double-body", LATER), self.lines_in(LATER))

    def test_a_breakpoint_in_library_code_is_reported_while_stepping(self):
        library_file = colorsys.__file__
        self.assertFalse(frame_tools.is_user_file(library_file))
        first_body_line = colorsys.rgb_to_yiq.__code__.co_firstlineno + 1
        (actual,) = self.set_breakpoints(library_file, first_body_line)
        self.step(True)
        colorsys.rgb_to_yiq(0.1, 0.2, 0.3)
        self.step(False)  # before reading: the test's own lines are user lines too
        self.assertIn(actual, self.lines_in(library_file))


class FunctionEntries(TracerTest):
    """The first line of each call of a function a function breakpoint names."""

    def setUp(self):
        TracerTest.setUp(self)
        self.entered = []
        self.tracer.on_entry = lambda frame: self.entered.append((frame.f_code.co_name, frame.f_lineno)) or False

    def name(self, *names):
        table = breakpoints.TaskBreakpoints()
        table.set_function_breakpoints([{"name": name} for name in names])
        self.tracer.update(entries=table.function_names())
        self.tracer.sync_thread()

    def test_each_call_once_at_its_first_line(self):
        self.name("add", "line_programs.Counter.bump")
        programs.add(1, 2)
        counter = programs.Counter()
        counter.bump(1)
        counter.bump(2)
        programs.count_to(2)  # named by nothing
        self.tracer.update(entries=None)
        programs.add(1, 2)
        self.assertEqual(self.entered, [("add", line("add-first")), ("bump", line("bump-first")),
                                        ("bump", line("bump-first"))])

    def test_a_generator_at_its_start_not_when_it_resumes(self):
        self.name("pausing")
        list(programs.pausing())
        self.assertEqual(self.entered, [("pausing", line("pausing-first"))])

    def test_a_name_that_ends_no_function_names_nothing(self):
        self.name("Counter.add", "programs.bump")
        programs.add(1, 2)
        programs.Counter().bump(1)
        self.assertEqual(self.entered, [])


class RaisedExceptions(TracerTest):
    """Where the 'raised' filter hears of an exception: where it is raised, or where one from a
    library first reaches user code; not again in each caller it passes through."""

    def setUp(self):
        TracerTest.setUp(self)
        self.raised = []
        self.tracer.on_raise = lambda frame, error: self.raised.append((frame.f_code.co_name, frame.f_lineno))
        self.tracer.update(catching=True)
        self.tracer.sync_thread()

    def test_where_raised_and_where_a_library_fails_into_user_code(self):
        try:
            programs.calls_raiser()
        except KeyError:
            pass
        self.assertEqual(programs.library_fails_into_me(), "caught")
        self.tracer.update(catching=False)
        self.assertEqual(self.raised, [("raises_here", line("raises-here")),
                                       ("library_fails_into_me", line("library-fails"))])

    def test_in_any_code_where_raised_only(self):
        self.tracer.on_raise = lambda frame, error: self.raised.append((frame.f_code.co_filename, type(error)))
        self.tracer.update(any_code=True)
        self.tracer.sync_thread()
        programs.library_fails_into_me()
        self.tracer.update(catching=False, any_code=False)
        where = {(os.path.basename(path), kind) for path, kind in self.raised}
        self.assertIn(("decoder.py", json.JSONDecodeError), where)
        self.assertNotIn((os.path.basename(PROGRAM), json.JSONDecodeError), where, "reported again where it passed")


class HeldProgram(TracerTest):
    """While the program is held, the user lines of other threads are reported (where they hold),
    also in a frame that was already running there."""

    def test_a_frame_running_on_another_thread(self):
        seen = threading.Event()
        stop = threading.Event()
        self.on_report = lambda path, number: number == line("spins-body") and seen.set()
        # Traced from its start before 3.12, as a thread started while anything is watched is.
        self.set_breakpoints(LATER, line("double-body", LATER))
        running = threading.Event()
        spinner = threading.Thread(target=programs.spins, args=(lambda: running.set() or stop.is_set(),))
        spinner.start()
        try:
            self.assertTrue(running.wait(DEADLINE))
            self.assertFalse(seen.is_set())
            self.tracer.update(suspending=True)
            self.assertTrue(seen.wait(DEADLINE), "no line of the running frame was reported")
        finally:
            self.tracer.update(suspending=False)
            stop.set()
            spinner.join(DEADLINE)


@unittest.skipUnless(internals.HAS_MONITORING, "sys.monitoring is 3.12+")
class MonitoringCost(TracerTest):
    """What keeps a line breakpoint nearly free on 3.12+: no LINE events outside its file's code."""

    def test_line_events_only_in_the_code_of_files_with_breakpoints(self):
        monitoring = sys.monitoring
        self.set_breakpoints(LATER, line("double-body", LATER))
        programs.add(1, 2)
        module = self.load_later_module()
        module.double(1)
        tool = self.tracer._tool
        self.assertEqual(monitoring.get_tool(tool), "loopscope")
        self.assertFalse(monitoring.get_events(tool) & monitoring.events.LINE, "LINE events everywhere")
        self.assertEqual(monitoring.get_local_events(tool, programs.add.__code__), 0)
        self.assertEqual(monitoring.get_local_events(tool, module.double.__code__), monitoring.events.LINE)
        self.set_breakpoints(PROGRAM, line("add-first"))  # the tool stays in use...
        self.set_breakpoints(LATER)  # ...while imported_later.py's code is let go
        self.assertEqual(monitoring.get_local_events(tool, module.double.__code__), 0, "still watched")


if __name__ == "__main__":
    unittest.main()
