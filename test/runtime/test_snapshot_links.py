"""What the snapshot says about who waits for whom holds at every iteration: every task id it
mentions is one it lists (issue #15, 4), and tasks gathered inside wait_for are awaited by the task
that waits (issue #15, 5: 3.11 lost that link)."""

import functools
import queue
import unittest

from runtime_support import DEADLINE, EventRecorder, ProgramThread, run_on_new_loop
from loopscope import instrument
from loopscope.debugger import Debugger

import linked_tasks


class AtEveryIteration(unittest.TestCase):
    def setUp(self):
        self.events = EventRecorder()
        self.debugger = Debugger(self.events)
        instrument.install(self.debugger)

    def tearDown(self):
        self.debugger.entry_pending = False
        self.debugger.resume("continue")
        instrument.uninstall()

    def snapshots(self, program):
        """The snapshot of the program's loop at every iteration boundary, oldest first."""
        self.debugger.start({"stopOnEntry": True, "clock": "wall"})
        thread = ProgramThread(lambda: run_on_new_loop(program), self.events).start()
        taken = []
        while True:
            event, body = self.events.next(("stopped", "finished"))
            if event == "finished":
                break
            answers = queue.Queue()
            self.debugger.on_held_thread(functools.partial(self.debugger.snapshot, body["loopId"], 1000),
                                         lambda result, error: answers.put((result, error)))
            result, error = answers.get(timeout=DEADLINE)
            self.assertIsNone(error)
            taken.append(result["loops"][0])
            self.debugger.resume("iteration", body["threadId"])
        thread.join(self)
        return taken

    def test_every_mentioned_task_is_listed(self):
        checked = 0
        for snapshot in self.snapshots(linked_tasks.many_parents):
            listed = {task["id"] for task in snapshot["tasks"]}
            for task in snapshot["tasks"]:
                mentioned = list(task["awaitedBy"])
                if task.get("awaiting", {}).get("kind") == "task":
                    mentioned.append(task["awaiting"]["id"])
                missing = [ident for ident in mentioned if ident not in listed]
                self.assertEqual(missing, [], "%s mentions tasks the snapshot does not list" % task["name"])
                checked += len(mentioned)
        self.assertGreater(checked, 600, "references checked over all iterations")

    def test_tasks_gathered_inside_wait_for_are_awaited_by_the_waiting_task(self):
        seen = 0
        for snapshot in self.snapshots(linked_tasks.wait_for_gather):
            by_name = {task["name"]: task for task in snapshot["tasks"]}
            gathered = [by_name.get(name) for name in ("gathered-a", "gathered-b")]
            waiting = [task for task in snapshot["tasks"] if task["coroutine"] == "wait_for_gather"]
            if not waiting or waiting[0]["state"] != "waiting":
                continue
            pending = [task for task in gathered if task is not None and task["state"] not in ("done", "cancelled", "failed")]
            for task in pending:
                self.assertEqual(task["awaitedBy"], [waiting[0]["id"]], "%s at iteration %d"
                                 % (task["name"], snapshot["iteration"]))
                seen += 1
            if pending:
                gathers = [f for f in snapshot["futures"] if f["description"] == "gather of 2"]
                self.assertEqual([f["awaitedBy"] for f in gathers], [[waiting[0]["id"]]],
                                 "the gather's future, awaited by the waiting task: %r" % snapshot["futures"])
        self.assertGreater(seen, 3)


if __name__ == "__main__":
    unittest.main()
