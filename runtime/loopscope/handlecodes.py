"""Small integers that name a ready handle the same way in every run of a program: the codes a
recording keeps for the handles of each loop iteration, and replay compares.

A task's step or wakeup is coded by the task's ordinal on its loop (1 for the first task made on
it, in creation order); any other callback by its name, as a negative number (-1 for the first
name seen). Codes are worked out once per iteration for the whole ready queue, at C speed
wherever the handle belongs to a known task: a Python loop touches only plain callbacks and tasks
seen for the first time.
"""

import weakref
from itertools import compress, repeat
from operator import attrgetter, is_

from . import asyncio_internals as internals
from . import frames as frame_tools
from . import registry

_CALLBACK = internals.HANDLE_CALLBACK
# A handle's callback's owner in one C call: the task of a task's step or wakeup. AttributeError
# for a plain function (no __self__), which the slower pass then takes.
_OWNER = attrgetter(internals.HANDLE_CALLBACK_NAME + ".__self__")
_weakref = weakref.ref
_is_task = registry.is_task


class NameTable:
    """Callback names and their codes, shared by every loop of one recording. `added` keeps the
    names not yet written out (recordfile.py writes them with the iterations that use them)."""

    def __init__(self, names=()):
        self.codes = {}
        self.names = []
        self.added = []
        for name in names:
            self.code(name)
        self.added = []

    def code(self, name):
        code = self.codes.get(name)
        if code is None:
            self.names.append(name)
            code = self.codes[name] = -len(self.names)
            self.added.append(name)
        return code

    def name(self, code):
        index = -code - 1
        return self.names[index] if 0 <= index < len(self.names) else "callback #%d" % -code

    def take_added(self):
        added, self.added = self.added, []
        return added


class HandleCoder:
    """The codes of one loop's handles. Task ordinals are kept by id() while the task lives (a
    weak reference's callback drops the entry when it dies, before its id can be reused)."""

    def __init__(self, names, on_new_task):
        self._names = names
        self._by_id = {}        # id(task) -> ordinal
        self._refs = {}         # weak reference to the task -> id(task)
        self._on_new_task = on_new_task  # called with (ordinal, task) for each task given an ordinal
        self.tasks = 0

    def ordinal(self, task):
        """The task's ordinal, given now if it has none."""
        ordinal = self._by_id.get(id(task))
        if ordinal is None:
            self.tasks += 1
            ordinal = self._by_id[id(task)] = self.tasks
            try:
                self._refs[_weakref(task, self._forget)] = id(task)
            except TypeError:  # an odd task-like object without weak references: kept by id until replaced
                pass
            self._on_new_task(ordinal, task)
        return ordinal

    def _forget(self, ref):
        ident = self._refs.pop(ref, None)
        if ident is not None:
            self._by_id.pop(ident, None)

    def codes(self, handles):
        """[code] of a sequence of handles (a list, or the ready deque itself), in order."""
        count = len(handles)
        if not count:
            return []
        try:
            codes = self._known_codes(handles, count)
        except RuntimeError:  # changed all the same (a finalizer that queued a callback): take a copy
            handles = list(handles)
            count = len(handles)
            codes = self._known_codes(handles, count)
        if None not in codes:
            return codes
        handles = list(handles)[:count]
        callbacks = list(map(_CALLBACK, handles))
        owners = list(map(getattr, callbacks, repeat("__self__", count), repeat(None, count)))
        # Plain callbacks, and tasks not seen before: by name, or given an ordinal now.
        missing = list(map(is_, codes, repeat(None, count)))
        for index, code in zip(compress(range(count), missing),
                               map(self._names.codes.get, map(getattr, compress(callbacks, missing),
                                                              repeat("__qualname__"), repeat(None)))):
            if code is None:
                owner = owners[index]
                code = self.ordinal(owner) if _is_task(owner) else self._names.code(callback_label(callbacks[index]))
            codes[index] = code
        return codes

    def _known_codes(self, handles, count):
        """[ordinal or None] of the handles, by the task each steps or wakes. One pass at C speed:
        no Python code runs in it, so the deque cannot change meanwhile."""
        try:
            return list(map(self._by_id.get, map(id, map(_OWNER, handles))))
        except AttributeError:  # a plain function among them
            return list(map(self._by_id.get, map(id, map(getattr, map(_CALLBACK, handles), repeat("__self__", count),
                                                                repeat(None, count)))))

    def code(self, handle):
        return self.codes([handle])[0]


def callback_label(callback):
    """The name a plain callback is coded by: its qualified name, or what it wraps."""
    name = getattr(callback, "__qualname__", None)
    if isinstance(name, str):
        return name
    inner = getattr(callback, "func", None)  # functools.partial
    if inner is not None:
        return "partial(%s)" % callback_label(inner)
    return type(callback).__name__


def task_facts(task):
    """[name, coroutine, path, line] of a task when it gets its ordinal: what a divergence report
    says of a task the recording expected."""
    coro = internals.task_coroutine(task)
    created = registry.created_at(task)
    if created is None:
        frame = frame_tools.coroutine_frame(coro)
        created = (frame.f_code.co_filename, frame.f_code.co_firstlineno) if frame is not None else ("?", 0)
    return [registry.task_name(task), frame_tools.coroutine_name(coro), frame_tools.absolute(created[0]), created[1]]
