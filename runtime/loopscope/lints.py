"""Lints: asyncio mistakes found at a source line while the program runs, for VS Code's Problems
panel and `loopscope trace --lint` (protocol.json LintKind). Each kind has its source here, and each
is only observed: the program prints and does exactly what it would without Loopscope.

A lint can be found inside a finalizer (a task collected while pending), on any thread, in the middle
of anything, including Loopscope's own code: add() only appends to a deque. Lints are sent later by
flush(), from a thread of Loopscope's or at a stop, once per kind and line.
"""

import collections
import dis
import itertools
import linecache
import warnings
import weakref

from . import asyncio_internals as internals
from . import frames as frame_tools
from . import registry
from .instrument import task_callback_label
from .vocabulary import LintKind


def _location(path, line):
    return {"path": frame_tools.absolute(path), "line": int(line)}


def _frame_location(frame):
    return frame_tools.location(frame)


def source_line(location):
    """The stripped text of a source line, or ''."""
    try:
        return linecache.getline(location["path"], location["line"]).strip()
    except Exception:
        return ""


class Lints:
    def __init__(self):
        self._pending = collections.deque()
        self._sent = set()                     # (kind, path, line)
        self._discards = {}                    # (code, offset) -> does the caller drop create_task's result?
        self._samples = weakref.WeakKeyDictionary()  # task -> [self wakes, wake-ups] seen in ready samples
        self.found = 0

    def add(self, kind, message, location, related=()):
        """Record a lint (any thread, any moment: no lock, no I/O). Once per kind and line."""
        if location is None:
            return
        key = (kind, location["path"], location["line"])
        if key in self._sent:
            return
        self._sent.add(key)
        lint = {"kind": kind, "message": message, "location": location}
        if related:
            lint["related"] = [{"location": where, "message": text} for where, text in related if where is not None]
        self.found += 1
        self._pending.append(lint)

    def flush(self, send):
        """send(body) for each lint found since the last flush, in order."""
        pending = self._pending
        while pending:
            try:
                lint = pending.popleft()
            except IndexError:
                return
            send(lint)

    # --- coroutines never awaited: Python's own RuntimeWarning ----------------------------------

    def never_awaited(self, message):
        """A shown warning (warnings.WarningMessage): 'coroutine ... was never awaited'."""
        text = str(message.message)
        if message.category is not RuntimeWarning or not text.startswith("coroutine ") \
                or "was never awaited" not in text:
            return
        if not frame_tools.is_user_file(message.filename):
            return
        coro = message.source
        name = getattr(coro, "__qualname__", None) or (text.split("'")[1] if "'" in text else "?")
        related = []
        code = getattr(coro, "cr_code", None)
        if code is not None:
            related.append((_location(code.co_filename, code.co_firstlineno), "%s is defined here" % name))
        for filename, line, _function in reversed(getattr(coro, "cr_origin", None) or ()):
            if frame_tools.is_user_file(filename):  # the program tracks origins (asyncio debug mode)
                related.append((_location(filename, line), "the coroutine was created here"))
                break
        self.add(LintKind.NEVER_AWAITED, "Coroutine %s() was never awaited, so its code never ran: await it, or "
                 "run it as a task with asyncio.create_task()." % name,
                 _location(message.filename, message.lineno), related)

    # --- asyncio's own reports: never retrieved, destroyed while pending -------------------------

    def loop_exception(self, context):
        """A context given to loop.call_exception_handler (any thread, maybe inside a finalizer)."""
        text = context.get("message")
        if text in ("Task exception was never retrieved", "Future exception was never retrieved"):
            self._never_retrieved(context)
        elif text == "Task was destroyed but it is pending!":
            self._destroyed_pending(context.get("task"))

    def _never_retrieved(self, context):
        error = context.get("exception")
        subject = context.get("task") or context.get("future")
        raised = None
        tb = getattr(error, "__traceback__", None)
        while tb is not None:  # the innermost user frame the exception passed through
            if frame_tools.is_user_file(tb.tb_frame.f_code.co_filename):
                raised = _location(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
            tb = tb.tb_next
        created = _created_at(subject)
        what = _describe(subject)
        message = "%s failed with %s: %s, and nothing retrieved the exception. Await it, or call its exception() " \
                  "(or add a done callback that does)." % (what, type(error).__name__, _short(error))
        related = [(created, "%s was created here" % what)] if created is not None and raised is not None else []
        self.add(LintKind.EXCEPTION_NEVER_RETRIEVED, message, raised or created, related)

    def _destroyed_pending(self, task):
        if task is None:
            return
        suspended = None
        try:
            suspended = frame_tools.resume_location(task)
        except Exception:
            pass
        if suspended is not None and not frame_tools.is_user_file(suspended["path"]):
            suspended = None
        created = _created_at(task)
        defined = None
        if suspended is None and created is None:
            # Collected in a cycle: its coroutine may have been closed first, and the registry has
            # forgotten it. Where the coroutine is defined is left, as in asyncio's own message.
            code = getattr(internals.task_coroutine(task), "cr_code", None)
            if code is not None and frame_tools.is_user_file(code.co_filename):
                defined = _location(code.co_filename, code.co_firstlineno)
        what = _describe(task)
        message = "%s was destroyed while still pending%s: nothing kept a reference to it, so it was garbage-" \
                  "collected. Keep a reference until it finishes (a set of tasks, or a TaskGroup)." % (
                      what, " (suspended here)" if suspended is not None else "")
        related = [(created, "%s was created here" % what)] if created is not None and suspended is not None else []
        self.add(LintKind.DESTROYED_PENDING, message, suspended or created or defined, related)

    # --- create_task results not kept ------------------------------------------------------------

    def task_made(self, task, frame, callee):
        """loop.create_task made task for the user code in frame, which called callee (None: the
        loop's create_task directly)."""
        if callee is not None and callee.f_code not in _CREATING_CODES:
            return  # a TaskGroup, gather, wait... keeps its tasks
        key = (frame.f_code, frame.f_lasti)
        dropped = self._discards.get(key)
        if dropped is None:
            dropped = self._discards[key] = result_discarded(frame.f_code, frame.f_lasti)
        if not dropped:
            return
        coroutine = frame_tools.coroutine_name(internals.task_coroutine(task)) if registry.is_task(task) else "?"
        self.add(LintKind.TASK_NOT_KEPT, "The task made here (%s) is not kept: asyncio holds only a weak reference "
                 "to tasks, so it can be garbage-collected before it finishes. Keep a reference (add it to a set and "
                 "discard it when done) or use a TaskGroup." % coroutine, _frame_location(frame))

    # --- tasks that keep waking themselves ---------------------------------------------------------

    def sample_ready(self, loop):
        """At an iteration boundary, now and then (stepStatistics "loops"): which tasks in the ready
        queue scheduled their own next step (a bare yield, asyncio.sleep(0)) rather than being
        woken by something they waited for."""
        ready = internals.ready_queue(loop)
        try:
            handles = list(itertools.islice(ready, SAMPLED_HANDLES))
        except RuntimeError:  # another thread's call_soon_threadsafe changed the deque
            return
        for handle in handles:
            callback = internals.handle_callback(handle)
            task = getattr(callback, "__self__", None)
            if not registry.is_task(task) or handle.cancelled():
                continue
            counts = self._samples.get(task)
            if counts is None:
                counts = self._samples[task] = [0, 0, False]
            counts[0 if task_callback_label(callback) == "Task step" else 1] += 1
            if not counts[2] and counts[0] >= SELF_WAKE_SAMPLES and counts[0] * 2 > counts[0] + counts[1]:
                counts[2] = True
                self.self_wakes(task, "in %d of %d looks at the ready queue its next step was one it had scheduled "
                                "itself" % (counts[0], counts[0] + counts[1]))

    def self_wakes(self, task, evidence):
        where = frame_tools.resume_location(task)
        if where is None or not frame_tools.is_user_file(where["path"]):
            return
        self.add(LintKind.SELF_WAKES, "%s keeps waking itself: %s (asyncio.sleep(0) or a bare yield in a loop), "
                 "so it polls instead of waiting. Wait on an asyncio.Event, Condition or Queue instead."
                 % (_describe(task), evidence), where)

    # --- blocked loops (blockedloop.py finds them) -------------------------------------------------

    def blocked(self, episode, loop_label):
        """A step found holding its loop past the threshold: a blocking call, or code that never yields."""
        location = episode.location
        if location is None:
            return
        who = ("task %s" % episode.task_name) if episode.task_name else "a callback"
        held = "%.0f ms" % (episode.elapsed * 1000.0)
        if episode.busy:
            self.add(LintKind.NEVER_YIELDS, "%s ran code here for over %s without yielding to %s: nothing it "
                     "awaits suspends. Await something that does (asyncio.sleep(0) at least), or run the work in a "
                     "thread (await asyncio.to_thread(...))." % (_capital(who), held, loop_label), location)
        else:
            call = source_line(location)
            self.add(LintKind.BLOCKING_CALL, "%sblocked %s for over %s in %s: the call does not return to the event "
                     "loop while it waits or works. Use its async counterpart (asyncio.sleep, an async client) or run "
                     "it in a thread: await asyncio.to_thread(...)." % ("`%s` " % call if call else "This call ",
                                                                       loop_label, held, who), location)


# A ready_sample looks at no more than this many handles; a task whose own next step shows up in at
# least SELF_WAKE_SAMPLES of them, and more often than its wake-ups, keeps waking itself.
SAMPLED_HANDLES = 64
SELF_WAKE_SAMPLES = 20


def _creating_codes():
    """Code objects of the asyncio functions that make a task and keep no reference to it."""
    codes = set()
    for name in ("create_task", "ensure_future", "_ensure_future"):
        function = getattr(internals.asyncio.tasks, name, None)
        code = getattr(function, "__code__", None)
        if code is not None:
            codes.add(code)
    return frozenset(codes)


_CREATING_CODES = _creating_codes()


def result_discarded(code, offset):
    """True when the instruction after the call at offset drops its result (an expression statement)."""
    try:
        instructions = list(dis.get_instructions(code))
    except Exception:
        return False
    covering = None
    for index, instruction in enumerate(instructions):
        if instruction.offset > offset:
            break
        covering = index
    if covering is None or covering + 1 >= len(instructions):
        return False
    return instructions[covering + 1].opname == "POP_TOP"


def _created_at(subject):
    try:
        created = registry.created_at(subject) if subject is not None else None
    except TypeError:
        return None
    return _location(created[0], created[1]) if created else None


def _describe(subject):
    if registry.is_task(subject):
        try:
            return "Task %s (%s)" % (subject.get_name(), frame_tools.coroutine_name(internals.task_coroutine(subject)))
        except Exception:
            return "A task"
    return "A future"


def _short(error):
    try:
        text = str(error)
    except Exception:
        return "?"
    return text if len(text) <= 120 else text[:119] + "…"


def _capital(text):
    return text[:1].upper() + text[1:]


class WarningHook:
    """Sees every warning Python shows (warnings._showwarnmsg, which the interpreter looks up on each
    warning), passes it on unchanged, and tells on_shown(message) first."""

    def __init__(self, on_shown):
        self._on_shown = on_shown
        self._original = None

    def install(self):
        if self._original is not None:
            return
        original = self._original = getattr(warnings, "_showwarnmsg", None)
        if original is None:
            return
        on_shown = self._on_shown

        def _showwarnmsg(msg):
            try:
                on_shown(msg)
            except Exception:
                pass  # a lint must never cost the program its warning
            return original(msg)
        warnings._showwarnmsg = _showwarnmsg
        self._installed = _showwarnmsg

    def uninstall(self):
        if self._original is not None and getattr(warnings, "_showwarnmsg", None) is getattr(self, "_installed", None):
            warnings._showwarnmsg = self._original
        self._original = None
