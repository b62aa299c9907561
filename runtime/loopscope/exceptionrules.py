"""Which exceptions stop the program: the raised, uncaught and taskException filters with their
conditions, and DAP's exception options (stop, or never stop, on given classes).

A filter's condition is a Python expression, evaluated where the exception is with `exception`
bound (and `task`, for a task's exception): when it gives an exception class or a tuple of them,
it stops for exceptions of those classes; anything else stops when true. Class names it cannot
resolve there (json.JSONDecodeError in code that never imported json) are matched by name against
the exception's class and its bases: by name, qualified name, or module.name, where the module may
be a package the class's module is in (json.JSONDecodeError is json.decoder.JSONDecodeError).

Exception options (DAP's ExceptionOptions) match classes by name the same way; the option naming
the class nearest the exception's own in its MRO wins, an option without names applies to every
exception (after any that names its class). Its break mode decides: 'always' stops where the
exception is raised and where nothing catches it, 'unhandled' and 'userUnhandled' only where
nothing catches it, 'never' nowhere; a task's exception is left to the taskException filter.
"""

import ast

from .vocabulary import TaskFilter

EXCEPTION_FILTERS = frozenset((TaskFilter.RAISED, TaskFilter.UNCAUGHT, TaskFilter.TASK_EXCEPTION))
_CATCHING_MODES = frozenset(("always",))
_UNCAUGHT_MODES = frozenset(("always", "unhandled", "userUnhandled"))


class ExceptionCondition:
    """A filter's condition; holds() says whether an exception meets it."""

    def __init__(self, text):
        self.text = text
        self.code = compile(text, "<condition>", "eval")  # SyntaxError: the caller says so
        self.names = _class_names(text)  # the dotted names it consists of, or None

    def holds(self, error, evaluate):
        """evaluate(code) runs the condition where the exception is (it may raise: the caller
        reports that)."""
        try:
            value = evaluate(self.code)
        except NameError:
            if self.names is None:
                return False  # a local the code has not assigned yet, as for a line breakpoint
            return nearest_named(type(error), self.names) is not None
        if isinstance(value, type) or (isinstance(value, tuple) and value and all(isinstance(v, type) for v in value)):
            try:
                return isinstance(error, value)
            except TypeError:
                return False
        return bool(value)


def _class_names(text):
    """('ValueError', 'json.JSONDecodeError') for 'ValueError, json.JSONDecodeError'; None for any
    other expression."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None
    names = []
    for item in (node.elts if isinstance(node, ast.Tuple) else [node]):
        dotted = _dotted(item)
        if dotted is None:
            return None
        names.append(dotted)
    return tuple(names) or None


def _dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return inner + "." + node.attr if inner is not None else None
    return None


def nearest_named(kind, names):
    """How far up kind's MRO the nearest class one of names names is (0: kind itself), or None."""
    for depth, cls in enumerate(getattr(kind, "__mro__", ())):
        qualified = getattr(cls, "__qualname__", cls.__name__)
        module = getattr(cls, "__module__", "") or ""
        suffix = "." + qualified
        for name in names:
            if name == cls.__name__ or name == qualified:
                return depth
            if name.endswith(suffix):
                prefix = name[:-len(suffix)]
                if module == prefix or module.startswith(prefix + "."):
                    return depth
    return None


class ExceptionRules:
    """The exception filters, their conditions and the exception options the adapter last set."""

    def __init__(self):
        self.conditions = {}  # filter (of EXCEPTION_FILTERS) that is on -> ExceptionCondition or None
        self.options = ()     # (names, negate, breakMode)

    def set(self, filters, filter_options=(), exception_options=()):
        """Replace them all; a FilterResult (protocol.json) per filter, filter option and exception
        option, in that order."""
        results, conditions = [], {}
        for name in filters:
            if name in EXCEPTION_FILTERS:
                conditions.setdefault(name, None)
            results.append({"verified": True})
        for option in filter_options:
            name, text = option["filter"], (option.get("condition") or "").strip()
            if not text:
                if name in EXCEPTION_FILTERS:
                    conditions.setdefault(name, None)
                results.append({"verified": True})
                continue
            if name not in EXCEPTION_FILTERS:
                results.append({"verified": False, "message": "only the exception filters take a condition"})
                continue
            try:
                conditions[name] = ExceptionCondition(text)
            except (SyntaxError, ValueError) as error:
                results.append({"verified": False, "message": "condition is not a Python expression: %s"
                                % (getattr(error, "msg", None) or error)})
                continue
            results.append({"verified": True})
        options = []
        for option in exception_options:
            names = tuple(name.strip() for name in option["names"] if name.strip())
            options.append((names, bool(option.get("negate")), option["breakMode"]))
            results.append({"verified": True})
        self.conditions, self.options = conditions, tuple(options)
        return results

    @property
    def catching(self):
        """Must exceptions be watched where they are raised?"""
        return TaskFilter.RAISED in self.conditions or any(mode in _CATCHING_MODES for _n, _x, mode in self.options)

    @property
    def uncaught_wanted(self):
        return TaskFilter.UNCAUGHT in self.conditions or any(mode in _UNCAUGHT_MODES for _n, _x, mode in self.options)

    def _option_for(self, kind):
        """The break mode of the option that applies to this class, or None."""
        best, best_depth = None, None
        for names, negate, mode in self.options:
            if not names:
                depth = len(getattr(kind, "__mro__", ()))  # every exception: after any option naming its class
            else:
                depth = nearest_named(kind, names)
                if negate:
                    depth = None if depth is not None else len(getattr(kind, "__mro__", ()))
            if depth is not None and (best_depth is None or depth <= best_depth):
                best, best_depth = mode, depth
        return best

    def stops(self, moment, error, evaluate):
        """Does this exception stop the program at this moment (raised, uncaught, taskException)?
        evaluate(code) runs a condition where the exception is; what it raises other than NameError
        reaches the caller."""
        mode = self._option_for(type(error))
        if mode == "never":
            return False
        if mode is not None and moment == TaskFilter.RAISED:
            return mode in _CATCHING_MODES
        if mode is not None and moment == TaskFilter.UNCAUGHT:
            return True
        if moment not in self.conditions:
            return False
        condition = self.conditions[moment]
        return condition is None or condition.holds(error, evaluate)
