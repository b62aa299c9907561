"""asyncio_internals.py: every read of asyncio's private state works on this interpreter, and no
other module of the runtime reads asyncio's private attributes (a new CPython version is then a
change to one module)."""

import ast
import asyncio
import collections
import glob
import os
import unittest
from asyncio import base_events, events

from runtime_support import RUNTIME, run_on_new_loop
from loopscope import asyncio_internals as internals
from loopscope import vocabulary

PACKAGE = os.path.join(RUNTIME, "loopscope")
# Private names of other things that asyncio happens to use too.
NOT_ASYNCIO = {"os._exit", "_watchdog._lock"}


def asyncio_private_names():
    """Names asyncio's own classes give their private attributes (self._x = ..., class-level _x)."""
    names = set()
    for path in glob.glob(os.path.join(os.path.dirname(asyncio.__file__), "*.py")):
        with open(path, "rb") as source:
            tree = ast.parse(source.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" \
                    and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.ClassDef):
                names.update(item.name for item in node.body if isinstance(item, ast.FunctionDef))
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


class PrivateReadsLiveInOneModule(unittest.TestCase):
    def test_no_other_module_reads_asyncio_private_attributes(self):
        private = asyncio_private_names()
        self.assertIn("_fut_waiter", private)
        self.assertIn("_ready", private)
        offenders = []
        for path in sorted(glob.glob(os.path.join(PACKAGE, "*.py"))):
            if os.path.basename(path) == "asyncio_internals.py":
                continue
            with open(path, "rb") as source:
                tree = ast.parse(source.read())
            for node in ast.walk(tree):
                if not isinstance(node, ast.Attribute) or node.attr not in private:
                    continue
                receiver = node.value
                # The methods instrument.py puts on asyncio's classes read their own self (the
                # HOT_PATH attributes); Loopscope's own objects keep their own private state.
                if isinstance(receiver, ast.Name) and (receiver.id == "self"
                                                       or "%s.%s" % (receiver.id, node.attr) in NOT_ASYNCIO):
                    continue
                offenders.append("%s:%d: .%s" % (os.path.basename(path), node.lineno, node.attr))
        self.assertEqual(offenders, [], "read these through asyncio_internals.py")

    def test_the_patched_methods_exist_on_this_version(self):
        for name, (owner, attribute) in internals.PATCHED_METHODS.items():
            self.assertIn(attribute, vars(owner), name)

    def test_supported_range_comes_from_the_vocabulary(self):
        self.assertEqual(internals.SUPPORTED, vocabulary.OLDEST_PYTHON <= internals.VERSION <= vocabulary.NEWEST_PYTHON)
        self.assertTrue(internals.SUPPORTED, "the suite runs on a supported CPython")


class TaskSubclassesRunNoCode(unittest.TestCase):
    """A Task subclass's get_name and get_coro, a Future subclass's get_loop, are the program's code:
    the debugger reads what asyncio keeps with asyncio's own methods, for C and pure-Python classes."""

    def test_task_overrides_are_never_called(self):
        for base in dict.fromkeys(internals.TASK_TYPES):  # the C Task is asyncio.Task too
            class Hostile(base):
                def get_name(self):
                    raise AssertionError("get_name of the program's called")

                def get_coro(self):
                    raise AssertionError("get_coro of the program's called")

            async def gated(gate):
                await gate.wait()

            async def main():
                gate = asyncio.Event()
                task = Hostile(gated(gate), loop=asyncio.get_running_loop(), name="kept by asyncio")
                await asyncio.sleep(0)
                read = (internals.task_name(task), internals.task_coroutine(task).__name__)
                gate.set()
                await asyncio.gather(task)
                return read
            with self.subTest(base=base.__name__):
                self.assertEqual(run_on_new_loop(main), ("kept by asyncio", "gated"))

    def test_future_loop_override_is_never_called(self):
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        for base in dict.fromkeys(internals.FUTURE_TYPES):
            class Hostile(base):
                def get_loop(self):
                    raise AssertionError("get_loop of the program's called")
            with self.subTest(base=base.__name__):
                self.assertIs(internals.future_loop(Hostile(loop=loop)), loop)


class ReadsOfARunningLoop(unittest.TestCase):
    def test_loop_task_future_and_timer_reads(self):
        seen = {}

        async def waiter(future):
            return await future

        async def main():
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            task = loop.create_task(waiter(future))
            gathered = asyncio.gather(asyncio.sleep(0), asyncio.sleep(0))
            timer = loop.call_later(30, lambda: None)
            loop.call_soon(lambda: None)
            await asyncio.sleep(0)
            seen["ready"] = internals.ready_queue(loop)
            seen["timers"] = [t for t in internals.scheduled_timers(loop) if t is timer]
            seen["waiter"] = internals.task_waiter(task)
            seen["callbacks"] = internals.future_callbacks(future)
            seen["children"] = internals.gather_children(gathered)
            seen["no children"] = internals.gather_children(future)
            seen["stopping"] = internals.is_stopping(loop)
            seen["selector"] = internals.selector_of(loop)
            seen["self pipe"] = internals.self_pipe_fd(loop) in seen["selector"].get_map()
            seen["timer args"] = internals.handle_args(timer)
            seen["timer loop"] = internals.timer_loop(timer) is loop
            seen["coroutine"] = internals.task_coroutine(task)
            seen["future loop"] = internals.future_loop(future) is loop
            future.set_result(7)
            seen["result"] = await task
            seen["task result"] = internals.future_result(task)
            timer.cancel()
            await gathered
            broken = loop.create_future()
            broken.set_exception(ValueError("x"))
            seen["exception"] = internals.future_exception(broken)
            broken.exception()  # retrieved: no warning at exit
            return future, task
        future, task = run_on_new_loop(main)
        self.assertIsInstance(seen["ready"], collections.deque)
        self.assertEqual(len(seen["timers"]), 1)
        self.assertIs(seen["waiter"], future)
        self.assertEqual([getattr(cb, "__self__", None) for cb in seen["callbacks"]], [task])
        self.assertEqual(len(seen["children"]), 2)
        self.assertIsNone(seen["no children"])
        self.assertFalse(seen["stopping"])
        self.assertIsNotNone(seen["selector"])
        self.assertTrue(seen["self pipe"], "the wake-up pipe is registered with the selector")
        self.assertEqual(seen["timer args"], ())
        self.assertTrue(seen["timer loop"] and seen["future loop"])
        self.assertEqual(seen["coroutine"].__qualname__, "ReadsOfARunningLoop.test_loop_task_future_and_timer_reads."
                                                         "<locals>.waiter")
        self.assertEqual((seen["result"], seen["task result"]), (7, 7))
        self.assertIsInstance(seen["exception"], ValueError)

    def test_wake_returns_a_loop_from_select(self):
        loop = asyncio.new_event_loop()
        try:
            woke = []
            loop.call_soon(lambda: internals.wake(loop))  # from inside: the next select() returns at once
            loop.call_later(0.01, woke.append, 1)
            loop.run_until_complete(asyncio.sleep(0.02))
            self.assertEqual(woke, [1])
        finally:
            loop.close()

    def test_set_running_loop_hook_reaches_asyncio_and_events(self):
        calls = []

        def hook(loop):
            calls.append(loop)
            return internals.original_set_running_loop(loop)
        internals.set_running_loop_hook(hook)
        try:
            self.assertIs(events._set_running_loop, hook)
            self.assertIs(asyncio._set_running_loop, hook)
        finally:
            internals.set_running_loop_hook(None)
        self.assertIs(events._set_running_loop, internals.original_set_running_loop)
        self.assertIsInstance(base_events.BaseEventLoop, type)


if __name__ == "__main__":
    unittest.main()
