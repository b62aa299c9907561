"""Loopscope keeps nothing of the program's alive longer than asyncio would: a task that fails and
is dropped is reported ("Task exception was never retrieved") when it would be without Loopscope.

The hooks' frames sit on the program's stack (under every handle, and under create_task, where an
eager task runs its first step). A traceback keeps the frames it passed through, and those keep
their locals: a hook frame left holding the handle or the task makes a cycle that only the
garbage collector breaks, so the report comes late or never (CPython's test_futures2
test_task_exc_handler_correct_context, gh-128552). Compared here with the collector off, plain
asyncio first, then under every weight of the per-handle hook.

A stop is the other way to keep things alive: what the views ask for at a stop (the snapshot, its
await graph and blockers, pages of tasks, frames, scopes, variables) must not outlive the stop in
a reference cycle, or whatever it saw lives on until the collector runs (CPython's test_sslproto
test_create_connection_ssl_failed_certificate_no_cycles, with the collector off, in the peer
suite's hold mode).
"""

import asyncio
import collections
import functools
import gc
import os
import queue
import threading
import time
import types
import unittest
import weakref

from runtime_support import DEADLINE, EventRecorder, ProgramThread, py_task_factory, run_on_new_loop  # first: puts the runtime on sys.path
from loopscope import instrument
from loopscope.debugger import Debugger

HOOK_PLANS = {
    "loop hooks only": instrument.HookPlan.NOTHING,
    "every handle": instrument.HookPlan.NOTHING._replace(handles=instrument.HandleHook.EVERY, after_handles=True,
                                                         iterations=True, creation=True),
    "task steps": instrument.HookPlan.NOTHING._replace(handles=instrument.HandleHook.TASK_STEPS, after_handles=True,
                                                       task_step_names=frozenset({"no task is called this"})),
    "logged": instrument.HookPlan.NOTHING._replace(handles=instrument.HandleHook.LOGGED,
                                                   switch_log=collections.deque(maxlen=100)),
}

TASK_FACTORIES = {"C task": None, "Python task": py_task_factory}
if hasattr(asyncio, "eager_task_factory"):  # 3.12+
    TASK_FACTORIES["eager C task"] = asyncio.eager_task_factory
    TASK_FACTORIES["eager Python task"] = asyncio.create_eager_task_factory(asyncio.tasks._PyTask)


async def fails():
    raise ZeroDivisionError("never retrieved")


def reported_in_time(task_factory, in_handle):
    """Drops a task that fails, with the collector off; True if the loop's exception handler heard
    of it before the task that made it went on. in_handle: the task is made in a callback (a plain
    handle) rather than in a task."""
    reported = []

    def drop_a_failing_task(loop):
        loop.create_task(fails())

    async def main():
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: reported.append(context["message"]))
        if in_handle:
            loop.call_soon(drop_a_failing_task, loop)
        else:
            drop_a_failing_task(loop)
        for _ in range(3):
            await asyncio.sleep(0)
        return bool(reported)

    loop = asyncio.new_event_loop()
    if task_factory is not None:
        loop.set_task_factory(task_factory)
    enabled = gc.isenabled()
    gc.disable()
    try:
        return loop.run_until_complete(main())
    finally:
        if enabled:
            gc.enable()
        loop.close()
        gc.collect()


class NeverRetrievedComesInTime(unittest.TestCase):
    def setUp(self):
        self.addCleanup(instrument.uninstall)

    def test_as_without_loopscope(self):
        cases = [(factory_name, in_handle) for factory_name in TASK_FACTORIES for in_handle in (False, True)]
        plain = {case: reported_in_time(TASK_FACTORIES[case[0]], case[1]) for case in cases}
        differences = []
        for plan_name, plan in HOOK_PLANS.items():
            instrument.install(instrument.Listener())
            instrument.apply(plan)
            for case in cases:
                hooked = reported_in_time(TASK_FACTORIES[case[0]], case[1])
                if hooked != plain[case]:
                    differences.append("%s, %s made %s: reported in time %s plain, %s with the hooks" % (
                        plan_name, case[0], "in a callback" if case[1] else "in a task", plain[case], hooked))
            instrument.uninstall()
        self.assertEqual(differences, [])

    def test_plain_asyncio_reports_in_time(self):
        """The comparison means something: plain asyncio breaks the cycles through its own frames
        (Handle._run and Task.__step set self = None), so the report comes at once."""
        for in_handle in (False, True):
            self.assertTrue(reported_in_time(None, in_handle))
            self.assertTrue(reported_in_time(py_task_factory, in_handle))


async def drops_what_it_awaited():
    """Awaits a future, drops it, and says whether it is gone at once, as it is without a debugger
    (nothing else refers to it)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    loop.call_soon(future.set_result, "the peer's answer")
    await future
    await asyncio.sleep(0)
    gone = weakref.ref(future)
    del future
    return gone() is None


def look_at_everything(debugger, body, on_held_thread):
    """What VS Code and the loop views ask for at a stop: the snapshot (await graph, blockers,
    deadlocks), a page of tasks grouped by blocker, the stack, and every scope's variables. Each
    on the held thread as functools.partial, so that no frame of this file is on its stack."""
    on_held_thread(functools.partial(debugger.snapshot, body["loopId"], 1000))
    on_held_thread(functools.partial(debugger.tasks, body["loopId"], "blocker", None, None, 0, 0))
    inspection = debugger.inspection
    for frame in on_held_thread(functools.partial(debugger.stack_trace, body["threadId"])):
        for scope in on_held_thread(functools.partial(inspection.scopes, frame["id"])):
            on_held_thread(functools.partial(inspection.variables, scope["variablesReference"]))


def loopscope_garbage():
    """Loopscope's objects among the unreachable ones the collector finds now: instances of its
    classes, its functions, and frames of its code (a frame kept by a cycle keeps its locals)."""
    def name(thing):
        if isinstance(thing, types.FrameType):
            filename = thing.f_code.co_filename
            return "frame of %s (%s)" % (thing.f_code.co_name, os.path.basename(filename)) if LOOPSCOPE_DIR in filename else None
        if isinstance(thing, types.FunctionType):
            return thing.__qualname__ if (thing.__module__ or "").startswith("loopscope") else None
        return type(thing).__qualname__ if type(thing).__module__.startswith("loopscope") else None

    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return sorted({name(thing) for thing in gc.garbage} - {None})
    finally:
        gc.set_debug(0)
        del gc.garbage[:]


LOOPSCOPE_DIR = os.path.dirname(instrument.__file__) + os.sep


async def waits_for_an_executor_job():
    """The loop goes idle (nothing ready, no timer) while a worker thread runs a job: the idle check
    looks at what every other thread is doing."""
    await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.05)
    return "done"


class AStopLeavesNoCycles(unittest.TestCase):
    """Held at every iteration with the collector off, the views asking everything at each stop."""

    def setUp(self):
        self.events = EventRecorder()
        self.debugger = Debugger(self.events)
        self.debugger.plain_threads.leave_alone(threading.get_ident())  # this thread plays the adapter
        instrument.install(self.debugger)
        self.addCleanup(instrument.uninstall)
        gc.collect()
        self.addCleanup(gc.enable) if gc.isenabled() else None
        gc.disable()

    def step_through(self, program):
        self.debugger.start({"stopOnEntry": True})
        thread = ProgramThread(lambda: run_on_new_loop(program), self.events).start()
        stops = 0
        while True:
            event, body = self.events.next(("stopped", "finished"))
            if event == "finished":
                break
            stops += 1
            look_at_everything(self.debugger, body, functools.partial(self.on_held_thread, body["threadId"]))
            self.debugger.resume("iteration", body["threadId"])
        self.assertGreater(stops, 2, "held at each iteration")
        return thread.join(self)

    def on_held_thread(self, thread_id, work):
        answers = queue.Queue()
        self.debugger.on_held_thread(work, lambda result, error: answers.put((result, error)), thread_id)
        result, error = answers.get(timeout=DEADLINE)
        self.assertIsNone(error)
        return result

    def test_what_the_program_dropped_is_gone_at_once(self):
        self.assertTrue(self.step_through(drops_what_it_awaited),
                        "the future the program awaited and dropped outlived it: a stop's views keep it")

    def test_no_loopscope_object_is_left_in_a_cycle(self):
        self.step_through(drops_what_it_awaited)
        self.assertEqual(loopscope_garbage(), [])

    def test_nor_when_a_task_waits_for_an_executor_job(self):
        """The blockers look at every thread's frames for the worker running the job."""
        self.assertEqual(self.step_through(waits_for_an_executor_job), "done")
        self.assertEqual(loopscope_garbage(), [])

    def test_without_the_views_it_is_gone_too(self):
        """The comparison means something: asyncio itself frees the dropped future at once."""
        instrument.uninstall()
        self.assertTrue(run_on_new_loop(drops_what_it_awaited))


class AnIdleCheckLeavesNoCycles(unittest.TestCase):
    """In a session that just runs (no stop), with the collector off."""

    def test_no_loopscope_frame_is_left_in_a_cycle(self):
        events = EventRecorder()
        debugger = Debugger(events)
        debugger.plain_threads.leave_alone(threading.get_ident())  # this thread plays the adapter
        instrument.install(debugger)
        self.addCleanup(instrument.uninstall)
        debugger.start({})
        gc.collect()
        self.addCleanup(gc.enable) if gc.isenabled() else None
        gc.disable()
        thread = ProgramThread(lambda: run_on_new_loop(waits_for_an_executor_job), events).start()
        self.assertEqual(thread.join(self), "done")
        self.assertEqual(loopscope_garbage(), [])


if __name__ == "__main__":
    unittest.main()
