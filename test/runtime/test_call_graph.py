"""The snapshot's await chains and awaited-by links agree with CPython's own view of the program,
asyncio.capture_call_graph() (3.14+), at every iteration of a program that awaits in every way
asyncio offers (test/fixtures/runtime/call_graph_program.py)."""

import asyncio
import threading
import functools
import queue
import unittest

from runtime_support import DEADLINE, EventRecorder, ProgramThread, run_on_new_loop
from loopscope import frames, instrument, registry
from loopscope.debugger import Debugger

import call_graph_program


def user_frames(entries):
    return [(f.frame.f_code.co_filename, f.frame.f_lineno) for f in entries
            if frames.is_user_file(f.frame.f_code.co_filename)]


def awaiting_tasks(graph):
    """The tasks that wait for graph.future, seeing through futures (gather's, shield's)."""
    found = set()
    for parent in graph.awaited_by:
        if registry.is_task(parent.future):
            found.add(registry.task_id(parent.future))
        else:
            found |= awaiting_tasks(parent)
    return found


@unittest.skipUnless(hasattr(asyncio, "capture_call_graph"), "asyncio.capture_call_graph is new in 3.14")
class AgreesWithCaptureCallGraph(unittest.TestCase):
    def setUp(self):
        self.events = EventRecorder()
        self.debugger = Debugger(self.events)
        self.debugger.plain_threads.leave_alone(threading.get_ident())  # this thread plays the adapter
        instrument.install(self.debugger)

    def tearDown(self):
        self.debugger.entry_pending = False
        self.debugger.resume("continue")
        instrument.uninstall()

    def compare_at_this_stop(self, loop_id):
        snapshot = self.debugger.snapshot(loop_id, 10000)["loops"][0]
        differences = []
        for entry in snapshot["tasks"]:
            task = registry.task_by_id(entry["id"])
            if task is None or task.done():
                continue
            graph = asyncio.capture_call_graph(task)
            theirs = user_frames(graph.call_stack)
            ours = [(frame["path"], frame["line"]) for frame in entry["stack"]]
            if ours != theirs:
                differences.append("%s: stack %r, capture_call_graph %r" % (entry["name"], ours, theirs))
            ours = sorted(waiter["id"] for waiter in entry["awaitedBy"])
            if ours != sorted(awaiting_tasks(graph)):
                differences.append("%s: awaited by %r, capture_call_graph %r"
                                   % (entry["name"], ours, sorted(awaiting_tasks(graph))))
        return len(snapshot["tasks"]), differences

    def test_every_iteration(self):
        self.debugger.start({"stopOnEntry": True, "clock": "wall"})
        thread = ProgramThread(lambda: run_on_new_loop(call_graph_program.main), self.events).start()
        compared = stops = 0
        while True:
            event, body = self.events.next(("stopped", "finished"))
            if event == "finished":
                break
            answers = queue.Queue()
            self.debugger.on_held_thread(functools.partial(self.compare_at_this_stop, body["loopId"]),
                                         lambda result, error: answers.put((result, error)))
            (count, differences), error = answers.get(timeout=DEADLINE)
            self.assertIsNone(error)
            self.assertEqual(differences, [], "at iteration %d" % body["iteration"])
            compared += count
            stops += 1
            self.debugger.resume("iteration", body["threadId"])
        self.assertEqual(len(thread.join(self)), 6)
        self.assertGreater(stops, 5)
        self.assertGreater(compared, 50, "tasks compared over all stops")


if __name__ == "__main__":
    unittest.main()
