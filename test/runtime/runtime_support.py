"""Shared helpers for the runtime tests (not a test module: discovery only loads test_*.py).

Everything waits on events with deadlines; nothing sleeps to "let things happen".
"""

import asyncio
import os
import queue
import re
import subprocess
import sys
import threading
from asyncio import base_events, events

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# LOOPSCOPE_TEST_RUNTIME runs the suite against another copy of the runtime (e.g. one with a patch).
RUNTIME = os.path.abspath(os.environ.get("LOOPSCOPE_TEST_RUNTIME") or os.path.join(REPO, "runtime"))
FIXTURES = os.path.join(REPO, "test", "fixtures", "runtime")
PROGRAMS = os.path.join(FIXTURES, "programs")

# The methods and functions instrument.py patches, as asyncio defines them, captured before anything is installed.
ORIGINALS = {
    (base_events.BaseEventLoop, "_run_once"): vars(base_events.BaseEventLoop)["_run_once"],
    (base_events.BaseEventLoop, "run_forever"): vars(base_events.BaseEventLoop)["run_forever"],
    (base_events.BaseEventLoop, "close"): vars(base_events.BaseEventLoop)["close"],
    (base_events.BaseEventLoop, "create_task"): vars(base_events.BaseEventLoop)["create_task"],
    (base_events.BaseEventLoop, "call_exception_handler"): vars(base_events.BaseEventLoop)["call_exception_handler"],
    (events.Handle, "_run"): vars(events.Handle)["_run"],
    (events, "_set_running_loop"): vars(events)["_set_running_loop"],
    (asyncio, "_set_running_loop"): vars(asyncio)["_set_running_loop"],
}

if RUNTIME not in sys.path:
    sys.path.insert(0, RUNTIME)
if FIXTURES not in sys.path:
    sys.path.insert(0, FIXTURES)

from loopscope import instrument, registry, schema  # noqa: E402  (after the originals are captured)

# Generous: only reached when something is broken. Every wait in the suite uses this.
DEADLINE = float(os.environ.get("LOOPSCOPE_TEST_DEADLINE", "10"))


def fixture_line(path, marker):
    """The line number carrying the comment `# @marker` in a fixture file."""
    pattern = re.compile(r"#.*@%s(?![\w-])" % re.escape(marker))
    with open(path, "r", encoding="utf-8") as source:
        for number, text in enumerate(source, 1):
            if pattern.search(text):
                return number
    raise AssertionError("no marker @%s in %s" % (marker, path))


def def_line(function):
    """The line of a coroutine function's `def` (where an unstarted coroutine's frame points)."""
    return function.__code__.co_firstlineno


# --- the instrument listener ------------------------------------------------------------------------

class RecordingListener:
    """Records every moment instrument.py reports, as tuples, in one ordered list."""

    def __init__(self, fail_on=None, fail_after=0):
        self.events = []
        self.lock = threading.Lock()
        self.fail_on = fail_on          # a moment name that raises...
        self.fail_after = fail_after    # ...after this many successful calls
        self.calls = {}
        self.selects = {}               # loop id -> select() calls seen by a counting selector wrapper
        self.disabled = threading.Event()

    def record(self, *item):
        with self.lock:
            self.events.append(item)

    def _moment(self, name, *item):
        count = self.calls.get(name, 0)
        self.calls[name] = count + 1
        if name == self.fail_on and count >= self.fail_after:
            raise RuntimeError("listener fails in %s on purpose" % name)
        self.record(name, *item)

    def loop_registered(self, state):
        self._count_selects(state)
        self._moment("loop_registered", state)

    def loop_closed(self, state):
        self._moment("loop_closed", state)

    def before_iteration(self, state):
        self._moment("before_iteration", state, state.iteration)

    def before_handle(self, state, handle):
        self._moment("before_handle", state, handle, registry.task_of_handle(handle))

    def after_handle(self, state, handle):
        self._moment("after_handle", state, handle)

    def task_created(self, state, task):
        self._moment("task_created", state, task)

    def task_finished(self, task):
        self.record("task_finished", task)

    def exception_reported(self, state, context):
        self._moment("exception_reported", state, context)

    def foreign_loop(self, loop):
        self.record("foreign_loop", type(loop).__name__)

    def hooks_disabled(self, reason):
        self.record("hooks_disabled", reason)
        self.disabled.set()

    def _count_selects(self, state):
        """An iteration count that does not come from the hooks: _run_once calls select() once."""
        loop = state.loop
        selector = getattr(loop, "_selector", None)
        if selector is None:
            return
        original = selector.select
        counts = self.selects
        counts[state.id] = 0

        def select(*args, **kwargs):
            counts[state.id] += 1
            return original(*args, **kwargs)
        selector.select = select

    def of(self, kind):
        with self.lock:
            return [item for item in self.events if item[0] == kind]

    def kinds(self):
        with self.lock:
            return [item[0] for item in self.events]


def watch_everything():
    """Every moment on: iterations, task creation, and before_handle and after_handle."""
    instrument.apply(EVERY_MOMENT)


EVERY_MOMENT = instrument.HookPlan.NOTHING._replace(iterations=True, creation=True, after_handles=True,
                                                    handles=instrument.HandleHook.EVERY)


# --- the debugger's outgoing events -------------------------------------------------------------------

class EventRecorder:
    """A fake send_event for debugger.Debugger: every event goes into a queue.Queue, schema-checked."""

    def __init__(self):
        self.queue = queue.Queue()
        self.all = []
        self.violations = []

    def __call__(self, event, body):
        try:
            schema.check_event(event, body)
        except schema.ProtocolError as error:
            self.violations.append("%s: %s" % (event, error))
        self.all.append((event, body))
        self.queue.put((event, body))

    def put_marker(self, name, value=None):
        """Lets a program thread report into the same ordered stream (e.g. that it finished)."""
        self.queue.put((name, value))

    def next(self, wanted=("stopped",), timeout=None):
        """The next event whose name is in wanted; other events are skipped. Fails at the deadline."""
        timeout = DEADLINE if timeout is None else timeout
        deadline = _monotonic() + timeout
        while True:
            remaining = deadline - _monotonic()
            if remaining <= 0:
                raise AssertionError("no %s event within %.1fs; saw %r" % ("/".join(wanted), timeout,
                                                                          [e for e, _ in self.all[-10:]]))
            try:
                event, body = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if event in wanted:
                return event, body

    def stopped(self, timeout=None):
        return self.next(("stopped",), timeout)[1]


def _monotonic():
    import time
    return time.monotonic()


class ProgramThread:
    """Runs an asyncio program on its own thread; its end goes into the recorder as a 'finished' marker."""

    def __init__(self, target, recorder=None, name="program"):
        self.result = None
        self.error = None
        self.done = threading.Event()
        self._target = target
        self._recorder = recorder
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self):
        try:
            self.result = self._target()
        except BaseException as error:  # reported to the test through self.error
            self.error = error
        finally:
            self.done.set()
            if self._recorder is not None:
                self._recorder.put_marker("finished", self)

    def start(self):
        self.thread.start()
        return self

    def join(self, test):
        if not self.done.wait(DEADLINE):
            test.fail("the program thread did not finish within %.1fs" % DEADLINE)
        self.thread.join(DEADLINE)
        if self.error is not None:
            raise self.error
        return self.result


def run_on_new_loop(coro_factory, task_factory=None):
    """new_event_loop + run_until_complete + close, returning the result."""
    loop = asyncio.new_event_loop()
    try:
        if task_factory is not None:
            loop.set_task_factory(task_factory)
        return loop.run_until_complete(coro_factory())
    finally:
        loop.close()


def py_task_factory(loop, coro, **kwargs):
    """Pure-Python tasks (asyncio.tasks._PyTask) instead of the C Task."""
    return asyncio.tasks._PyTask(coro, loop=loop, **kwargs)


# --- subprocesses ------------------------------------------------------------------------------------

def clean_environment(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOOPSCOPE_") and k not in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONINSPECT")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def start(argv, cwd=None, env=None):
    return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def finish(process, timeout=None):
    """Wait (with a deadline) for a process from start(); a CompletedProcess like subprocess.run's."""
    try:
        stdout, stderr = process.communicate(timeout=timeout or DEADLINE * 3)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("%s did not finish within %.0fs" % (" ".join(process.args), timeout or DEADLINE * 3))
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run(argv, cwd=None, env=None, timeout=None):
    return finish(start(argv, cwd, env), timeout)


def pyenv_root():
    root = os.environ.get("PYENV_ROOT")
    return root or os.path.expanduser("~/.pyenv")
