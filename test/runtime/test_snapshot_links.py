"""What the snapshot says about who waits for whom holds at every iteration: every task id it
mentions is one it lists (issue #15, 4), and tasks gathered inside wait_for are awaited by the task
that waits (issue #15, 5: 3.11 lost that link)."""

import functools
import queue
import threading
import unittest

from runtime_support import DEADLINE, EventRecorder, ProgramThread, run_on_new_loop
from loopscope import instrument
from loopscope.debugger import Debugger

import linked_tasks


class AtEveryIteration(unittest.TestCase):
    def setUp(self):
        self.events = EventRecorder()
        self.debugger = Debugger(self.events)
        self.debugger.plain_threads.leave_alone(threading.get_ident())  # this thread plays the adapter
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
                mentioned = [waiter["id"] for waiter in task["awaitedBy"]]
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
                self.assertEqual([t["id"] for t in task["awaitedBy"]], [waiting[0]["id"]], "%s at iteration %d"
                                 % (task["name"], snapshot["iteration"]))
                seen += 1
            if pending:
                gathers = [f for f in snapshot["futures"] if f["description"] == "gather of 2"]
                self.assertEqual([[t["id"] for t in f["awaitedBy"]] for f in gathers], [[waiting[0]["id"]]],
                                 "the gather's future, awaited by the waiting task: %r" % snapshot["futures"])
        self.assertGreater(seen, 3)

    def test_a_future_says_where_it_was_made_and_who_holds_it(self):
        with open(linked_tasks.__file__) as source:
            lines = source.read().splitlines()
        made = {name: lines.index("    %s = loop.create_future()" % name) + 1 for name in ("first_done", "second_done")}
        seen = 0
        for snapshot in self.snapshots(linked_tasks.futures_deadlock):
            by_line = {f.get("createdAt", {}).get("line"): f for f in snapshot["futures"]}
            if made["first_done"] not in by_line:
                continue
            first_done = by_line[made["first_done"]]
            self.assertEqual(first_done["createdAt"]["path"], linked_tasks.__file__)
            self.assertEqual([t["name"] for t in first_done["awaitedBy"]], ["first"])
            holders = {(h["description"], h.get("task", {}).get("name")) for h in first_done["heldBy"]}
            # Each task holds the future the other awaits; main's frame holds both, and is looked
            # at when main waits on a future other than a sleep.
            self.assertLessEqual({("local mine of hand_over()", "first"), ("local theirs of hand_over()", "second")},
                                 holders)
            self.assertEqual({description for description, _task in holders} - {
                "local mine of hand_over()", "local theirs of hand_over()", "local first_done of futures_deadlock()"},
                set())
            seen += 1
        self.assertGreater(seen, 0, "the two futures were listed at some iteration")


if __name__ == "__main__":
    unittest.main()
