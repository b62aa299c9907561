"""Loopscope keeps nothing of the program's alive longer than asyncio would: a task that fails and
is dropped is reported ("Task exception was never retrieved") when it would be without Loopscope.

The hooks' frames sit on the program's stack (under every handle, and under create_task, where an
eager task runs its first step). A traceback keeps the frames it passed through, and those keep
their locals: a hook frame left holding the handle or the task makes a cycle that only the
garbage collector breaks, so the report comes late or never (CPython's test_futures2
test_task_exc_handler_correct_context, gh-128552). Compared here with the collector off, plain
asyncio first, then under every weight of the per-handle hook.
"""

import asyncio
import collections
import gc
import unittest

from runtime_support import py_task_factory  # first: puts the runtime on sys.path
from loopscope import instrument

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


if __name__ == "__main__":
    unittest.main()
