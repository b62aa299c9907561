"""The names by which the program reaches an object: a local of a task's innermost user frame, an
attribute of that frame's `self`, a global of its module. The Futures view says under which names
tasks hold a future; the Asyncio Tasks view names the lock or queue a task waits on by them.
Nothing of the program's runs: locals are read with inspection.frame_locals, attributes through
CPython's own __dict__ descriptor, and objects are compared by identity."""

import collections
import os

from . import frames as frame_tools
from .asyncio_internals import instance_dict
from .inspection import frame_locals

Holder = collections.namedtuple("Holder", "name description task parameter")
Holder.__doc__ = """One name for an object: name ('jobs', 'self.jobs'), description ('local jobs of
worker()', 'self.jobs of Pipeline', 'global jobs of app.py'), the task whose frame has it (None
for a global), and whether it is a parameter of that frame (a name the callee gave, often generic)."""

_PARAMETER_FLAGS = 0x04 | 0x08  # CO_VARARGS, CO_VARKEYWORDS


def _parameters(code):
    count = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)
    return frozenset(code.co_varnames[:count])


class Holders:
    """The names under which some tasks hold some objects, found in one pass over those tasks'
    user frames, whatever the number of objects. chains: {task: await chain}; with innermost_only,
    only each task's innermost user frame is read (the Futures view: what the waiting code holds)."""

    def __init__(self, chains, objects, innermost_only=True):
        wanted = {id(obj) for obj in objects}
        self._found = collections.defaultdict(list)  # id(obj) -> [Holder]
        modules = {}
        for task, chain in chains.items():
            user = [f for _c, f in chain if frame_tools.is_user_file(f.f_code.co_filename)]
            for frame in (user[-1:] if innermost_only else reversed(user)):
                self._read_frame(task, frame, wanted)
                modules.setdefault(id(frame.f_globals), (frame.f_code.co_filename, frame.f_globals))
        for filename, names in modules.values():
            for name, value in list(names.items()):
                if id(value) in wanted:
                    self._found[id(value)].append(
                        Holder(name, "global %s of %s" % (name, os.path.basename(filename)), None, False))

    def _read_frame(self, task, frame, wanted):
        local_items = frame_locals(frame)
        parameters = _parameters(frame.f_code)
        for name, value in local_items:
            if id(value) in wanted:
                self._found[id(value)].append(
                    Holder(name, "local %s of %s()" % (name, frame.f_code.co_name), task, name in parameters))
        owner = dict(local_items).get("self")
        attributes = instance_dict(owner)
        if attributes is not None:
            for name, value in list(attributes.items()):
                if id(value) in wanted:
                    self._found[id(value)].append(
                        Holder("self.%s" % name, "self.%s of %s" % (name, type(owner).__qualname__), task, False))

    def of(self, obj):
        """[Holder] of one of the objects: globals last."""
        return self._found.get(id(obj), [])

    def name_of(self, obj):
        """The name the program gave obj ('jobs', 'self.jobs'), or None: where it was made (a
        local, an attribute, a global) before a parameter that only passes it on."""
        found = self.of(obj)
        for holder in sorted(found, key=lambda h: h.parameter):
            return holder.name
        return None
