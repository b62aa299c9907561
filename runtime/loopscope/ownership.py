"""Who holds each asyncio lock and semaphore slot, who last woke each task through one, where the
program made each primitive, and the order in which tasks take locks (issue #16).

asyncio's Lock, Semaphore, Event and Queue are pure Python and keep their state in one attribute
each (asyncio_internals.PRIMITIVE_STATE: Lock._locked, Semaphore._value, Event._value,
Queue._unfinished_tasks). While installed, a
data descriptor of Loopscope's sits in the class under that name: it stores the value where
asyncio keeps it (the instance's own dict, so vars(), repr() and pickling see what they always
see) and notes each change in the task that makes it. The first store, in __init__, is where the
program made the object. Cost: one Python call per read and write of that attribute, only while
installed (the `trackOwners` launch option).

Everything is kept by identity, weakly (IdentityMap): a class of the program's that defines __eq__
or __hash__ is never asked.
"""

import asyncio
import collections
import sys
import weakref

from . import asyncio_internals as internals
from . import frames
from . import registry

_ABSENT = object()


class IdentityMap:
    """object -> value by identity, forgetting an object when it is collected."""

    def __init__(self):
        self._entries = {}  # id(obj) -> (weakref, value)

    def get(self, obj, default=None):
        entry = self._entries.get(id(obj))
        return entry[1] if entry is not None and entry[0]() is obj else default

    def set(self, obj, value):
        key = id(obj)
        entries = self._entries
        entry = entries.get(key)
        if entry is not None and entry[0]() is obj:
            entries[key] = (entry[0], value)
            return
        try:
            reference = weakref.ref(obj, lambda _ref, key=key: _forget(entries, key, _ref))
        except TypeError:
            return  # not weakly referable: not tracked
        entries[key] = (reference, value)

    def pop(self, obj, default=None):
        entry = self._entries.get(id(obj))
        if entry is None or entry[0]() is not obj:
            return default
        del self._entries[id(obj)]
        return entry[1]

    def items(self):
        for reference, value in list(self._entries.values()):
            obj = reference()
            if obj is not None:
                yield obj, value

    def clear(self):
        self._entries.clear()


def _forget(entries, key, reference):
    entry = entries.get(key)
    if entry is not None and entry[0] is reference:
        del entries[key]


Mark = collections.namedtuple("Mark", "task_id task_name place iteration task_ref")
Mark.__doc__ = """Who did something to a primitive, where in the program, in which loop iteration:
a task that has ended may still be named; task_ref is a weak reference to the task, or None."""

Wake = collections.namedtuple("Wake", "by what")
Wake.__doc__ = """What woke a task last through a primitive: by (a Mark), what ('released Lock')."""


class Ownership:
    """The records the descriptors keep, read by the snapshot (blockers.py) and by deadlocks.py."""

    def __init__(self):
        self.made_at = IdentityMap()     # primitive -> (filename, line) of the user code that made it
        self.lock_owner = IdentityMap()  # Lock -> Mark of the acquiring task
        self.slot_holders = IdentityMap()  # Semaphore -> [Mark], oldest first
        self.last_set = IdentityMap()    # Event -> Mark of the task that last set it
        self.last_put = IdentityMap()    # Queue -> Mark of the task that last put into it
        self.held_by_task = {}           # task id -> [weakref to Lock] in the order taken
        self.lock_order = {}             # id(Lock) -> {id(Lock) taken while holding it: (Mark, Mark)}
        self._ordered_locks = {}         # id(Lock) -> weakref that drops its edges when it is collected
        self.inversions = []             # (first Lock's description, second's, marks) seen, in order
        self._reported = set()
        self.on_inversion = None         # (text) once per pair of locks taken in both orders

    def clear(self):
        for record in (self.made_at, self.lock_owner, self.slot_holders, self.last_set, self.last_put):
            record.clear()
        self.held_by_task.clear()
        self.lock_order.clear()
        self._ordered_locks.clear()
        del self.inversions[:]
        self._reported.clear()

    # --- the descriptors' notes ------------------------------------------------------------------

    def lock_changed(self, lock, old, new):
        if old is _ABSENT:
            self._made(lock)
            return
        task = _current_task()
        if new and not old:
            mark = _mark(task)
            self.lock_owner.set(lock, mark)
            if task is not None:
                held = self.held_by_task.setdefault(mark.task_id, [])
                for reference in list(held):
                    earlier = reference()
                    if earlier is not None and earlier is not lock:
                        self._ordered(earlier, lock, mark)
                held.append(weakref.ref(lock))
        elif old and not new:
            owner = self.lock_owner.pop(lock)
            if owner is not None:
                held = self.held_by_task.get(owner.task_id)
                if held is not None:
                    held[:] = [reference for reference in held if reference() is not None and reference() is not lock]
                    if not held:
                        del self.held_by_task[owner.task_id]
            self._woke(_first_waiter(lock), Wake(_mark(task), "released Lock"))

    def semaphore_changed(self, semaphore, old, new):
        if old is _ABSENT:
            self._made(semaphore)
            return
        if not isinstance(old, int) or not isinstance(new, int) or old == new:
            return
        holders = self.slot_holders.get(semaphore)
        if holders is None:
            holders = []
            self.slot_holders.set(semaphore, holders)
        caller = sys._getframe(2)
        task = _current_task()
        if new < old:
            # A slot is taken: by the task acquiring it, or (3.11+) by _wake_up_next for the waiter
            # whose future it completes, on the releasing task's turn.
            taker = _task_of_future(_frame_local(caller, "fut")) if caller.f_code.co_name == "_wake_up_next" else task
            holders.append(_mark(taker))
        else:
            mark = _mark(task)
            # The releasing task gives back its own slot; a slot given back for someone else (or a
            # waiter that was cancelled after being woken) goes back from the oldest holder.
            mine = [i for i, held in enumerate(holders) if held.task_id == mark.task_id]
            if mine:
                del holders[mine[0]]
            elif holders:
                del holders[0]
            if caller.f_code.co_name == "release":
                self._woke(_first_waiter(semaphore), Wake(mark, "released %s" % type(semaphore).__name__))

    def event_changed(self, event, old, new):
        if old is _ABSENT:
            self._made(event)
            return
        if new and not old:
            mark = _mark(_current_task())
            self.last_set.set(event, mark)
            wake = Wake(mark, "set Event")  # one for all the tasks it wakes
            for waiter in internals.primitive_waiters(event):
                if not waiter.done():
                    self._woke(waiter, wake)

    def queue_changed(self, queue, old, new):
        if old is _ABSENT:
            self._made(queue)
            return
        if isinstance(old, int) and isinstance(new, int) and new > old:
            mark = _mark(_current_task())
            self.last_put.set(queue, mark)
            getters = internals.queue_getters(queue)
            self._woke(next((g for g in getters if not g.done()), None), Wake(mark, "put into Queue"))

    # ---------------------------------------------------------------------------------------------

    def _made(self, primitive):
        place = _user_place(sys._getframe(3))
        if place is not None:
            self.made_at.set(primitive, place)

    def _woke(self, future, wake):
        task = _task_of_future(future)
        if task is not None:
            registry.record_wake(task, wake)

    def _ordered(self, first, second, mark):
        """`second` taken while holding `first`: an inversion if `first` was ever taken while
        holding `second` (directly or through other locks)."""
        edges = self.lock_order.setdefault(id(first), {})
        if id(second) in edges:
            return
        for lock in (first, second):
            if id(lock) not in self._ordered_locks:
                self._ordered_locks[id(lock)] = weakref.ref(lock, lambda _ref, key=id(lock): self._drop_lock(key))
        earlier = self.lock_owner.get(first)
        edges[id(second)] = (earlier, mark)
        path = self._path(id(second), id(first))
        if path is None:
            return
        pair = frozenset((id(first), id(second)))
        if pair in self._reported:
            return
        self._reported.add(pair)
        back = self.lock_order[path[0]][path[1]] if len(path) > 1 else None
        text = ("Lock order inversion: task %s took %s (%s) while holding %s (%s); earlier, %s took them the other way "
                "round%s. Two tasks doing both at once deadlock." % (
                    mark.task_name, describe_primitive(second, self), _place_text(mark.place),
                    describe_primitive(first, self), _place_text(earlier.place if earlier else None),
                    back[1].task_name if back else "a task",
                    " (%s)" % _place_text(back[1].place) if back and back[1].place else ""))
        self.inversions.append(text)
        if self.on_inversion is not None:
            self.on_inversion(text)

    def _drop_lock(self, key):
        self._ordered_locks.pop(key, None)
        self.lock_order.pop(key, None)
        for edges in self.lock_order.values():
            edges.pop(key, None)

    def _path(self, start, goal):
        """Lock ids from start to goal along lock_order edges, or None."""
        seen, stack = {start}, [(start, [start])]
        while stack:
            node, path = stack.pop()
            if node == goal:
                return path
            for following in self.lock_order.get(node, ()):
                if following not in seen:
                    seen.add(following)
                    stack.append((following, path + [following]))
        return None


def describe_primitive(primitive, ownership=None):
    """'Lock made at app.py:12' or 'Lock 0x7f…' when the program's making of it was not seen."""
    kind = type(primitive).__name__
    place = ownership.made_at.get(primitive) if ownership is not None else None
    return "%s made at %s" % (kind, _place_text(place)) if place else "%s %#x" % (kind, id(primitive))


def _place_text(place):
    if not place:
        return "an unknown place"
    return "%s:%d" % (place[0].rsplit("/", 1)[-1], place[1])


class _Watched:
    """The data descriptor put in place of one attribute of an asyncio class."""

    __slots__ = ("name", "changed")

    def __init__(self, name, changed):
        self.name = name
        self.changed = changed

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        try:
            return obj.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None

    def __set__(self, obj, value):
        attributes = obj.__dict__
        old = attributes.get(self.name, _ABSENT)
        attributes[self.name] = value
        try:
            self.changed(obj, old, value)
        except Exception as error:  # the program's lock works on; only the record is lost
            _failed(error)

    def __delete__(self, obj):
        try:
            del obj.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None


_CHANGED = {asyncio.Lock: "lock_changed", asyncio.Semaphore: "semaphore_changed", asyncio.Event: "event_changed",
            asyncio.Queue: "queue_changed"}
_WATCHED = tuple((cls, attribute, _CHANGED[cls]) for cls, attribute in internals.PRIMITIVE_STATE)
ownership = Ownership()
_on_failure = None


def install(on_failure=None):
    """Watch the primitives from now on. on_failure(text) hears once if a note ever fails."""
    global _on_failure
    _on_failure = on_failure
    for cls, attribute, method in _WATCHED:
        if not isinstance(vars(cls).get(attribute), _Watched):
            setattr(cls, attribute, _Watched(attribute, getattr(ownership, method)))


def uninstall():
    for cls, attribute, _method in _WATCHED:
        if isinstance(vars(cls).get(attribute), _Watched):
            delattr(cls, attribute)
    ownership.clear()


def installed():
    return any(isinstance(vars(cls).get(attribute), _Watched) for cls, attribute, _method in _WATCHED)


def _failed(error):
    global _on_failure
    report, _on_failure = _on_failure, None
    uninstall()
    if report is not None:
        report("Loopscope stopped tracking lock owners after an error of its own: %s: %s"
               % (type(error).__name__, error))


def _current_task():
    loop = internals.get_running_loop()
    return internals.current_task(loop) if loop is not None else None


def _mark(task):
    place = _user_place(sys._getframe(3))
    if task is None:
        return Mark(None, "(no task)", place, None, None)
    state = registry.state_of(internals.future_loop(task))
    return Mark(registry.task_id(task), registry.task_name(task), place, state.iteration if state else None,
                _weak(task))


def _weak(obj):
    try:
        return weakref.ref(obj)
    except TypeError:
        return None


def _user_place(frame):
    """(filename, line) of the innermost user frame from frame outwards, or None."""
    for _ in range(32):
        if frame is None:
            return None
        if frames.is_user_file(frame.f_code.co_filename):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def _first_waiter(primitive):
    return next((w for w in internals.primitive_waiters(primitive) if not w.done()), None)


def _task_of_future(future):
    """The task a future's done-callbacks would wake, if any."""
    if future is None:
        return None
    for callback in internals.future_callbacks(future):
        if internals.is_task_wakeup(callback):
            return callback.__self__
    return None


def _frame_local(frame, name):
    """One local of a running asyncio frame (its own code, not the program's)."""
    try:
        return frame.f_locals.get(name)
    except Exception:
        return None
