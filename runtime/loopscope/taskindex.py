"""Every task of one held loop, counted, grouped, filtered and paged for the Asyncio Tasks view.

Built at most once per stop and loop, and kept for the stop: the view asks for group counts
first, then pages of the groups the user opens, so a loop with 100,000 tasks costs what the shown
rows cost plus one cheap pass over all tasks. A task's name, coroutine, place and creator are read
only when a grouping or a filter needs them, and then for every task at once, at C speed where
Python allows.
"""

import collections
import operator
import os

from . import asyncio_internals as internals
from . import frames as frame_tools
from . import registry

# The order a person looks for them in: what runs, what is about to, what waits, what ended.
STATE_ORDER = ("running", "ready", "waiting", "failed", "cancelled", "done")
_FINISHED = frozenset(("failed", "cancelled", "done"))
_GET_NAME = operator.methodcaller("get_name")


class TaskIndex:
    def __init__(self, loop, held_handle, finished):
        """loop's pending tasks, and the recently finished ones (registry.FinishedTasks) still
        alive; held_handle is the handle a stop before a handle holds (it has left the ready queue)."""
        self.pending = sorted(registry.pending_tasks(loop), key=registry.task_id)
        pending = set(self.pending)
        self.finished = [t for t in finished.of_loop(loop) if t not in pending]
        self.current = internals.current_task(loop)
        # The ready queue in running order; before a handle, the held one has left the queue but is
        # the next to run.
        handles = ([held_handle] if held_handle is not None else []) + list(internals.ready_queue(loop))
        self.ready_handles = [h for h in handles if not h.cancelled()]
        self.ready = {}  # task -> its first ready handle
        for handle in self.ready_handles:
            owner = internals.handle_owner(handle)
            if owner is not None and registry.is_task(owner) and not handle.cancelled():
                self.ready.setdefault(owner, handle)
        self._facts = {}      # fact name -> {task: value}
        self._members = {}    # (by, filter) -> OrderedDict key -> [tasks]
        self.blocker_of = lambda task: None  # task -> Blocker (protocol.json); the LoopView sets it
        self._blocker_labels = {}  # blocker id -> its description

    @property
    def tasks(self):
        return self.pending + self.finished

    def state(self, task):
        if task.done():
            return registry.how_task_ended(task)
        if task is self.current:
            return "running"
        return "ready" if task in self.ready else "waiting"

    def counts(self):
        """{state: how many}, over every task: running and ready from the ready queue, the rest of
        the pending tasks waiting, and the finished tasks kept."""
        counts = dict.fromkeys(STATE_ORDER, 0)
        ready = sum(1 for task in self.ready if not task.done() and task is not self.current)
        running = 1 if self.current is not None and not self.current.done() else 0
        counts.update(running=running, ready=ready, waiting=len(self.pending) - ready - running)
        for task in self.finished:
            counts[registry.how_task_ended(task)] += 1
        return counts

    # --- facts, read for every task at once ----------------------------------------------------

    def _fact(self, name):
        found = self._facts.get(name)
        if found is None:
            found = self._facts[name] = getattr(self, "_read_" + name)(self.tasks)
        return found

    @staticmethod
    def _read_name(tasks):
        # The name asyncio keeps, never a subclass's get_name(): at C speed when every task is
        # asyncio's own C Task.
        if all(type(task) is internals.C_TASK for task in tasks):
            return dict(zip(tasks, map(_GET_NAME, tasks)))
        return {task: registry.task_name(task) for task in tasks}

    @staticmethod
    def _read_coroutine(tasks):
        return {task: frame_tools.coroutine_name(internals.task_coroutine(task)) for task in tasks}

    @staticmethod
    def _read_site(tasks):
        """Where each task resumes and in which library call (frames.resume_site)."""
        return {task: frame_tools.resume_site(task) for task in tasks}

    @staticmethod
    def _read_creator(tasks):
        return {task: registry.created_at(task) for task in tasks}

    def name(self, task):
        return self._fact("name")[task]

    # --- grouping and filtering ---------------------------------------------------------------

    def groups(self, by, text=None):
        """[(key, label, count)] of the tasks that match text, grouped `by` (a TaskGroupBy)."""
        return [(key, self._label(by, key), len(members)) for key, members in self._grouped(by, text).items()]

    def members(self, by, text, key):
        """The tasks of one group, in id order (empty for a key no task has now)."""
        return self._grouped(by, text).get(key, [])

    def _grouped(self, by, text):
        cache_key = (by, text or "")
        grouped = self._members.get(cache_key)
        if grouped is None:
            grouped = self._members[cache_key] = self._group(by, [t for t in self.tasks if self.matches(t, text)])
        return grouped

    def _group(self, by, tasks):
        if by == "state":
            buckets = collections.OrderedDict((state, []) for state in STATE_ORDER)
            for task in tasks:
                buckets[self.state(task)].append(task)
            return collections.OrderedDict((k, v) for k, v in buckets.items() if v)
        key_of = {"coroutine": self._coroutine_key, "location": self._location_key, "creator": self._creator_key,
                  "blocker": self._blocker_key}[by]
        buckets = collections.defaultdict(list)
        for task in tasks:
            buckets[key_of(task)].append(task)
        # Biggest groups first: "16 × worker" is what stands out.
        return collections.OrderedDict(sorted(buckets.items(), key=lambda item: (-len(item[1]), item[0])))

    def _coroutine_key(self, task):
        return self._fact("coroutine")[task]

    def _location_key(self, task):
        place, call = self._fact("site")[task]
        where = "%s:%d" % place if place else ""
        return "%s|%s|%s" % (self._fact("coroutine")[task], where, "%s()" % call if call else "")

    def _creator_key(self, task):
        created = self._fact("creator")[task]
        return "%s:%d" % created if created else ""

    def _blocker_key(self, task):
        if task.done():
            return "|%s" % registry.how_task_ended(task)
        blocker = self.blocker_of(task)
        if blocker is None:
            return "|%s" % self.state(task)  # running or ready: waiting on nothing
        self._blocker_labels.setdefault(blocker["id"], blocker["description"])
        return "%d|%s" % (blocker["id"], blocker["kind"])

    def _label(self, by, key):
        if by == "state":
            return key
        if by == "blocker":
            ident, _, kind = key.partition("|")
            return self._blocker_labels.get(int(ident), kind) if ident else "not waiting: %s" % kind
        if by == "coroutine":
            return key
        if by == "creator":
            return "created at %s" % _short_place(key) if key else "created outside user code"
        coroutine, where, call = key.split("|")
        return " · ".join(part for part in (coroutine, _short_place(where) if where else "", call) if part)

    def matches(self, task, text):
        """Does text (any case) appear in the task's name, coroutine, state or the place it resumes?"""
        if not text:
            return True
        wanted = text.lower()
        if wanted in self._fact("name")[task].lower() or wanted in self._fact("coroutine")[task].lower() \
                or wanted in self.state(task):
            return True
        place = self._fact("site")[task][0]
        return place is not None and wanted in ("%s:%d" % place).lower()


def _short_place(where):
    """'/app/pipeline.py:37' -> 'pipeline.py:37'."""
    path, _, line = where.rpartition(":")
    return "%s:%s" % (os.path.basename(path), line)
