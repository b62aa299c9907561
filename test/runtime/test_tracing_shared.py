"""Line breakpoints share the interpreter's tracing with the program. Before 3.12 a thread has one
trace function: the program's own (sys.settrace) is left in place, and the user is told why line
breakpoints cannot stop there. From 3.12 Loopscope takes a sys.monitoring tool id the program is
unlikely to want, never DEBUGGER_ID while another is free, and says so when it must take a named one."""

import sys
import threading
import unittest

from loopscope import asyncio_internals as internals
from loopscope import linetrace

HERE_LINE = 1  # a line with code in this file, for a breakpoint that never stops


class Warnings(list):
    def __call__(self, message):
        self.append(message)


def tracer_with_a_breakpoint(warnings):
    table = linetrace.BreakpointTable()
    table.set(__file__, [{"line": HERE_LINE}], {HERE_LINE})
    tracer = linetrace.make_tracer(table, lambda frame: None, on_warning=warnings)
    tracer.update()
    return table, tracer


def on_a_new_thread(function):
    """Runs function on a thread of its own (so that its trace function is its own) and returns its result."""
    result = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


@unittest.skipIf(internals.HAS_MONITORING, "Python 3.12+ traces with sys.monitoring")
class TheProgramsTraceFunction(unittest.TestCase):
    def setUp(self):
        self.warnings = Warnings()
        self.table, self.tracer = tracer_with_a_breakpoint(self.warnings)
        self.addCleanup(self.tracer.update)
        self.addCleanup(self.table.by_path.clear)

    def test_set_after_loopscope_s_is_left_in_place_and_told(self):
        def program(frame, event, arg):
            return None

        def thread():
            self.tracer.sync_thread()
            installed = sys.gettrace()
            sys.settrace(program)  # the program's own, while line breakpoints are set
            self.tracer.sync_thread()
            self.tracer.sync_thread()
            kept = sys.gettrace()
            sys.settrace(None)
            return installed, kept
        installed, kept = on_a_new_thread(thread)
        self.assertEqual(installed, self.tracer._global)
        self.assertIs(kept, program, "the program's trace function is not replaced")
        self.assertEqual(len(self.warnings), 1, self.warnings)
        self.assertIn("sys.settrace", self.warnings[0])
        self.assertIn("Python 3.12", self.warnings[0])

    def test_set_before_loopscope_s_is_not_replaced(self):
        def program(frame, event, arg):
            return None

        def thread():
            sys.settrace(program)
            self.tracer.sync_thread()
            kept = sys.gettrace()
            sys.settrace(None)
            return kept
        self.assertIs(on_a_new_thread(thread), program)
        self.assertEqual(len(self.warnings), 1, self.warnings)


@unittest.skipUnless(internals.HAS_MONITORING, "sys.monitoring is Python 3.12+")
class MonitoringToolIds(unittest.TestCase):
    def setUp(self):
        self.warnings = Warnings()
        self.taken = []
        self.addCleanup(self.give_back)

    def give_back(self):
        for tool in self.taken:
            if sys.monitoring.get_tool(tool) == "the program's":
                sys.monitoring.free_tool_id(tool)

    def take(self, *tools):
        for tool in tools:
            sys.monitoring.use_tool_id(tool, "the program's")
            self.taken.append(tool)

    def start_tracer(self):
        table, tracer = tracer_with_a_breakpoint(self.warnings)

        def stop():
            table.by_path.clear()
            tracer.update()
        self.addCleanup(stop)
        return tracer

    def test_the_debugger_id_stays_free_for_the_program(self):
        self.start_tracer()
        self.assertIsNone(sys.monitoring.get_tool(sys.monitoring.DEBUGGER_ID))
        self.take(sys.monitoring.DEBUGGER_ID)  # pdb, or the program's own debugger
        self.assertEqual(self.warnings, [])

    def test_a_named_id_only_when_the_others_are_taken_and_then_said(self):
        self.take(3, 4)
        self.start_tracer()
        self.assertIsNone(sys.monitoring.get_tool(sys.monitoring.DEBUGGER_ID), "the debugger's id comes last")
        self.assertEqual(len(self.warnings), 1, self.warnings)
        self.assertIn("sys.monitoring tool id", self.warnings[0])


if __name__ == "__main__":
    unittest.main()
