"""Keeps the runtime's own imports out of the program's way: the program starts with the sys.modules
a plain `python PROGRAM` starts with, and imports its own queue.py, json.py or loopscope.py as plain
Python would, whatever the runtime imported for itself.

While the runtime starts, every import is recorded (which module's body imported what). Just before
the program's first line, hand_over() takes out of sys.modules every module the interpreter had not
imported before Loopscope; the runtime keeps its references, so it works on unchanged. Those modules
are lent to the program, not copied: when the program imports one of their names and Python would
import the very same file, the runtime's module is handed back (with what its own import imported),
so there is one asyncio, one threading, as in a plain run. Where the program's sys.path finds another
file first, the program imports that one, as plain Python would. This module itself imports only
what the interpreter has imported before any program starts.
"""

import _thread
import builtins
import os
import sys

from _frozen_importlib import ModuleSpec

_OWN_PACKAGE = __name__.rpartition(".")[0]
_plain_import = builtins.__import__
_baseline = frozenset()   # the modules a plain run starts with
_imported_by = {}         # module name -> names its module body imported (while the runtime started)


def start_recording(modules_before):
    """Called first thing: modules_before is sys.modules as the interpreter had it, before Loopscope."""
    global _baseline
    _baseline = frozenset(name for name in modules_before if not _is_own(name))
    builtins.__import__ = _recording_import


def hand_over(imported_too=()):
    """Just before the program's first line: lend the program every module the runtime brought in.
    imported_too names modules a plain run has imported by then as well (runpy, for python -m)."""
    if builtins.__import__ is _recording_import:
        builtins.__import__ = _plain_import
    lent = {name: sys.modules.pop(name) for name in list(sys.modules) if name not in _baseline}
    finder = LentModules(lent, _imported_by)
    sys.meta_path.insert(0, finder)
    for name in imported_too:
        finder.give_back(name)
    return finder


def _is_own(name):
    return name == _OWN_PACKAGE or name.startswith(_OWN_PACKAGE + ".")


# --- recording ---------------------------------------------------------------------------------

def _recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    module = _plain_import(name, globals, locals, fromlist, level)
    try:
        _record(name, globals, fromlist, level)
    except Exception:
        pass  # a missed record only means that module is handed back when it is imported by name
    return module


def _record(name, globals, fromlist, level):
    importer = _module_body_running()
    target = _absolute_name(name, globals, level)
    if importer is None or not target:
        return
    names = _imported_by.setdefault(importer, set())
    parts = target.split(".")
    names.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    for item in fromlist or ():
        if item != "*" and "%s.%s" % (target, item) in sys.modules:
            names.add("%s.%s" % (target, item))


def _module_body_running():
    """The module whose body is running now (the innermost): what it imports, importing it imports,
    even from a function it calls."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "<module>":
            return frame.f_globals.get("__name__")
        frame = frame.f_back
    return None


def _absolute_name(name, globals, level):
    if level == 0:
        return name
    globals = globals or {}
    package = globals.get("__package__")
    if package is None:
        package = globals.get("__name__", "")
        if "__path__" not in globals:
            package = package.rpartition(".")[0]
    bits = package.rsplit(".", level - 1)
    if len(bits) < level or not bits[0]:
        return None
    return "%s.%s" % (bits[0], name) if name else bits[0]


# --- lending -----------------------------------------------------------------------------------

class LentModules:
    """The first finder on sys.meta_path: hands a lent module back when the program imports its name
    and the finders after it would import the same file; else it lets them import the program's."""

    def __init__(self, lent, imported_by):
        self._lent = lent
        self._imported_by = imported_by
        self._lock = _thread.RLock()  # a finder asked from find_spec may import, and so ask this one again

    def __repr__(self):
        return "<Loopscope's own imports, lent to the program: %d not asked for yet>" % len(self._lent)

    def find_spec(self, name, path=None, target=None):
        if name not in self._lent or target is not None:  # target: a reload, which imports afresh
            return None
        with self._lock:
            module = self._lent.get(name)
            if module is None:
                return None
            members = self._imported_with(name)
            for member in members:
                if not self._would_import(member, path if member == name else None):
                    return None  # the program's sys.path finds another file: plain Python imports that one
            own = getattr(module, "__spec__", None)
            spec = ModuleSpec(name, _HandBack(self, module, own, members), origin=getattr(own, "origin", None),
                              is_package=hasattr(module, "__path__"))
        return spec

    def give_back(self, name):
        """Put a lent module (and what came with it) back into sys.modules now, if Python would import
        that file; returns the module, or None."""
        spec = self.find_spec(name)
        if spec is None:
            return None
        loader = spec.loader
        module = loader.create_module(spec)
        sys.modules[name] = module
        return module

    def _imported_with(self, name):
        """name, and the lent modules its import imported, and theirs, and so on. A module that its
        package put into sys.modules under another name (importlib._bootstrap is _frozen_importlib)
        comes with its package."""
        lent = self._lent
        members, todo = [], [name]
        seen = set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            members.append(current)
            todo.extend(other for other in self._imported_by.get(current, ())
                        if other in lent and other not in sys.modules)
            prefix = current + "."
            todo.extend(other for other, module in lent.items()
                        if other.startswith(prefix) and "." not in other[len(prefix):] and _is_alias(other, module))
        return members

    def _would_import(self, name, path):
        """Would the finders after this one import the lent module's own file for name?"""
        module = self._lent.get(name)
        if module is None:
            return True  # handed back meanwhile
        if _is_alias(name, module):
            return True
        parent = name.rpartition(".")[0]
        if parent and path is None:
            path = getattr(sys.modules.get(parent) or self._lent.get(parent), "__path__", None)
            if path is None:
                return False
        for finder in list(sys.meta_path):
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            try:
                spec = find_spec(name, path)
            except Exception:  # a finder of the environment's that fails: let the import machinery say so
                return False
            if spec is not None:
                return _same_place(spec, getattr(module, "__spec__", None))
        return False

    def _hand_back(self, name, members):
        with self._lock:
            for member in members:
                module = self._lent.pop(member, None)
                if member == name or module is None or member in sys.modules:
                    continue
                sys.modules[member] = module
                # As the import machinery does for a submodule: the package (maybe one the program
                # imported afresh) names it.
                parent, _, child = member.rpartition(".")
                if parent in sys.modules and not hasattr(sys.modules[parent], child):
                    setattr(sys.modules[parent], child, module)


class _HandBack:
    """The loader of a lent module: the module already ran; it only comes back, with what it imported."""

    def __init__(self, lender, module, own_spec, members):
        self._lender = lender
        self._module = module
        self._own_spec = own_spec
        self._members = members

    def create_module(self, spec):
        self._lender._hand_back(spec.name, self._members)
        return self._module

    def exec_module(self, module):
        if self._own_spec is not None:
            module.__spec__ = self._own_spec  # the import machinery set ours; the module keeps its own


def _is_alias(name, module):
    """Put into sys.modules under a name that is not its own: no finder finds it by that name."""
    spec = getattr(module, "__spec__", None)
    return getattr(spec, "name", None) != name


def _same_place(spec, own):
    if own is None:
        return False
    if (spec.submodule_search_locations is None) != (own.submodule_search_locations is None):
        return False
    if spec.origin == own.origin:
        return True
    if not spec.origin or not own.origin or not os.path.isabs(spec.origin):
        return False
    return os.path.realpath(spec.origin) == os.path.realpath(own.origin)
