"""The hooks: every way a loop is made is seen, moments arrive in order, tasks are recognised,
a failing listener is switched off without harming the program, and uninstall puts asyncio back."""

import _thread
import asyncio
import contextvars
import sys
import threading
import unittest
from asyncio import base_events, events

from runtime_support import (ORIGINALS, DEADLINE, RecordingListener, ProgramThread, py_task_factory,
                             run_on_new_loop, watch_everything)
from loopscope import instrument, registry


async def sleeps(count):
    for _ in range(count):
        await asyncio.sleep(0)
    return count


def countdown(loop, n, seen):
    """A plain-callback program: n+1 iterations, then loop.stop()."""
    seen.append(n)
    if n == 0:
        loop.stop()
    else:
        loop.call_soon(countdown, loop, n - 1, seen)


class HookTest(unittest.TestCase):
    def setUp(self):
        self.listener = RecordingListener()
        instrument.install(self.listener)
        watch_everything()

    def tearDown(self):
        instrument.uninstall()

    def states(self):
        return [item[1] for item in self.listener.of("loop_registered")]

    def only_state(self):
        states = self.states()
        self.assertEqual(len(states), 1, "expected exactly one loop registered, got %r" % states)
        return states[0]

    def iterations_of(self, state):
        return [item for item in self.listener.of("before_iteration") if item[1] is state]

    def assert_iterations(self, state, expected=None):
        """before_iteration count == the loop's own counter == select() calls, and the counter runs 0..n-1."""
        seen = self.iterations_of(state)
        self.assertEqual([item[2] for item in seen], list(range(len(seen))),
                         "before_iteration must see iteration 0, 1, 2, ... in order")
        self.assertEqual(len(seen), state.iteration)
        self.assertEqual(self.listener.selects.get(state.id), len(seen),
                         "one before_iteration per select() call of the loop")
        if expected is not None:
            self.assertEqual(len(seen), expected)
        return len(seen)

    def assert_closed(self, state):
        closed = [item[1] for item in self.listener.of("loop_closed")]
        self.assertIn(state, closed)
        self.assertEqual(closed.count(state), 1, "loop_closed once per loop")
        self.assertNotIn(state, registry.loop_states())


class EveryLoopIsHooked(HookTest):
    def test_asyncio_run(self):
        self.assertEqual(asyncio.run(sleeps(3)), 3)
        state = self.only_state()
        # 3 sleeps: the first step, 3 resumptions, the done callback; then asyncgen/executor shutdown
        self.assertGreaterEqual(self.assert_iterations(state), 5)
        self.assert_closed(state)
        self.assertEqual(state.thread_ident, threading.get_ident())

    def test_new_event_loop_run_until_complete(self):
        loop = asyncio.new_event_loop()
        try:
            self.assertEqual(loop.run_until_complete(sleeps(3)), 3)
            state = self.only_state()
            self.assertIs(state.loop, loop)
            self.assertIs(registry.state_of(loop), state)
            # first step + 3 resumptions + _run_until_complete_cb
            self.assert_iterations(state, expected=5)
            self.assertEqual(loop.run_until_complete(sleeps(0)), 0)
            self.assert_iterations(state, expected=5 + 2)
            self.assertEqual(len(self.states()), 1, "a loop run twice is still one loop")
        finally:
            loop.close()
        self.assert_closed(state)

    def test_run_forever_with_stop(self):
        loop = asyncio.new_event_loop()
        seen = []
        try:
            loop.call_soon(countdown, loop, 3, seen)
            loop.run_forever()
        finally:
            loop.close()
        self.assertEqual(seen, [3, 2, 1, 0])
        state = self.only_state()
        self.assert_iterations(state, expected=4)
        self.assert_closed(state)

    def test_user_stepping_loop(self):
        """The loop.stop(); loop.run_forever() idiom runs exactly one iteration per call."""
        loop = asyncio.new_event_loop()
        runs = []
        try:
            task = loop.create_task(sleeps(4))
            steps = 0
            while not task.done():
                loop.stop()
                loop.run_forever()
                steps += 1
                state = registry.state_of(loop)
                runs.append(state.run_number)
                self.assertEqual(state.iteration, steps)
                self.assertLess(steps, 100)
        finally:
            loop.close()
        state = self.only_state()
        self.assertEqual(steps, 5)
        self.assert_iterations(state, expected=5)
        self.assertEqual(runs, sorted(set(runs)), "each run_forever call gets a new, larger run number")
        self.assert_closed(state)

    def test_loop_in_another_thread(self):
        program = ProgramThread(lambda: asyncio.run(sleeps(2)), name="loop-thread").start()
        self.assertEqual(program.join(self), 2)
        state = self.only_state()
        self.assertEqual(state.thread_ident, program.thread.ident)
        self.assertEqual(state.thread_name, "loop-thread")
        self.assertIn("loop-thread", state.name)
        self.assertGreaterEqual(self.assert_iterations(state), 4)
        self.assert_closed(state)

    def test_a_loop_on_a_thread_threading_did_not_start(self):
        """Registering a loop learns its thread's name without making threading invent a _DummyThread,
        which the program would then see (threading.enumerate(); CPython's test_tasks
        test_task_created_during_thread_state_clear changed threading._dangling)."""
        def known_to_threading_after_a_loop():
            known, done = [], _thread.allocate_lock()
            done.acquire()

            def target():
                try:
                    loop = asyncio.new_event_loop()
                    loop.create_task(sleeps(0))  # the loop is first seen here, on this thread
                    loop.run_until_complete(sleeps(1))
                    loop.close()
                    known.append(_thread.get_ident() in threading._active)
                finally:
                    done.release()
            _thread.start_new_thread(target, ())
            self.assertTrue(done.acquire(True, DEADLINE))
            return known

        instrument.uninstall()
        self.assertEqual(known_to_threading_after_a_loop(), [False], "plain asyncio leaves threading alone")
        instrument.install(self.listener)
        watch_everything()
        self.assertEqual(known_to_threading_after_a_loop(), [False])
        self.assertRegex(self.only_state().name, r"^Event loop \d+ \(thread \d+\)$")

    def test_a_loop_belongs_to_the_thread_that_runs_it(self):
        """A loop first seen where a task was made for it, then run on another thread: its stack and
        name are that other thread's."""
        loop = asyncio.new_event_loop()
        try:
            task = loop.create_task(sleeps(1))
            program = ProgramThread(lambda: loop.run_until_complete(task), name="runs-it").start()
            self.assertEqual(program.join(self), 1)
        finally:
            loop.close()
        state = self.only_state()
        self.assertEqual((state.thread_ident, state.thread_name), (program.thread.ident, "runs-it"))

    def test_two_loops_get_distinct_ids(self):
        results = []
        programs = [ProgramThread(lambda: results.append(asyncio.run(sleeps(2))), name="t%d" % i).start()
                    for i in range(2)]
        for program in programs:
            program.join(self)
        states = self.states()
        self.assertEqual(len(states), 2)
        self.assertNotEqual(states[0].id, states[1].id)
        self.assertEqual({s.thread_name for s in states}, {"t0", "t1"})
        for state in states:
            self.assert_iterations(state)
            self.assert_closed(state)

    @unittest.skipUnless(hasattr(asyncio, "Runner"), "asyncio.Runner is new in 3.11")
    def test_asyncio_runner(self):
        with asyncio.Runner() as runner:
            self.assertEqual(runner.run(sleeps(1)), 1)
            self.assertEqual(runner.run(sleeps(2)), 2)
            state = self.only_state()
            self.assertIs(state.loop, runner.get_loop())
        self.assert_iterations(state)
        self.assert_closed(state)

    @unittest.skipUnless(hasattr(asyncio, "EventLoop"), "asyncio.EventLoop is new in 3.13")
    def test_asyncio_event_loop_class(self):
        loop = asyncio.EventLoop()
        try:
            self.assertEqual(loop.run_until_complete(sleeps(2)), 2)
        finally:
            loop.close()
        state = self.only_state()
        self.assert_iterations(state, expected=4)
        self.assert_closed(state)

    @unittest.skipUnless(hasattr(asyncio, "EventLoop"), "asyncio.EventLoop is new in 3.13")
    def test_asyncio_run_with_loop_factory(self):
        self.assertEqual(asyncio.run(sleeps(2), loop_factory=asyncio.EventLoop), 2)
        state = self.only_state()
        self.assert_iterations(state)
        self.assert_closed(state)

    def test_unclosed_loop_is_forgotten_when_collected(self):
        import gc
        import warnings
        instrument.uninstall()  # a listener that keeps no handles (handles hold the loop alive)
        instrument.install(self.listener)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(sleeps(0))
        state = self.only_state()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # "unclosed event loop": that is the point
            del loop
            gc.collect()
        self.assertIsNone(state.loop)
        self.assertEqual([item[1] for item in self.listener.of("loop_closed")], [state])
        self.assertNotIn(state, registry.loop_states())

    def test_moments_are_ordered_per_handle(self):
        run_on_new_loop(lambda: sleeps(2))
        kinds = [k for k in self.listener.kinds() if k in ("before_handle", "after_handle", "before_iteration")]
        depth = 0
        for kind in kinds:
            if kind == "before_handle":
                self.assertEqual(depth, 0, "handles do not nest")
                depth += 1
            elif kind == "after_handle":
                self.assertEqual(depth, 1)
                depth -= 1
            else:
                self.assertEqual(depth, 0, "an iteration never starts inside a handle")
        befores = [item[2] for item in self.listener.of("before_handle")]
        afters = [item[2] for item in self.listener.of("after_handle")]
        self.assertEqual(befores, afters)


class TaskOfHandle(HookTest):
    """task_of_handle maps every task step/wakeup to the task it steps, and plain callbacks to None."""

    def program(self):
        listener = self.listener

        def resumed(tag):
            # From 3.14 the C current_task() does not see pure-Python tasks; their own registry does.
            current = asyncio.current_task() or getattr(asyncio.tasks, "_py_current_task", lambda: None)()
            listener.record("resumed", current, tag)

        async def child(tag, fut):
            resumed(tag + ":start")
            await asyncio.sleep(0)
            resumed(tag + ":after-sleep")
            value = await fut  # woken by Future.set_result's callback
            resumed(tag + ":after-future")
            return value

        async def main():
            loop = asyncio.get_running_loop()
            resumed("main:start")
            futs = [loop.create_future() for _ in range(2)]
            tasks = [loop.create_task(child("c%d" % i, futs[i])) for i in range(2)]
            await asyncio.sleep(0)
            resumed("main:after-sleep")
            loop.call_soon(futs[0].set_result, 10)
            loop.call_soon(futs[1].set_result, 20)
            first = await tasks[0]  # woken by the task's done callback
            resumed("main:after-task")
            rest = await asyncio.gather(tasks[1], sleeps(1))
            resumed("main:after-gather")
            return [first] + rest
        return main

    def check_mapping(self, task_type, factory):
        created = []

        def recording_factory(loop, coro, **kwargs):
            task = factory(loop, coro, **kwargs)
            created.append(task)
            return task

        self.assertEqual(run_on_new_loop(self.program(), recording_factory), [10, 20, 1])
        self.assertTrue(created)
        for task in created:
            self.assertIs(type(task), task_type)
            self.assertTrue(registry.is_task(task))

        current = None        # the task the last before_handle was mapped to
        in_handle = False
        task_handles = 0
        resumptions = 0
        for item in self.listener.events:
            if item[0] == "before_handle":
                _, _, handle, mapped = item
                in_handle = True
                current = mapped
                looks_like_task = "Task" in repr(handle._callback)
                if mapped is not None:
                    task_handles += 1
                    self.assertIn(mapped, created, "mapped to a task this program created")
                    self.assertIs(registry.task_of_handle(handle), mapped)
                self.assertEqual(mapped is not None, looks_like_task,
                                 "task_of_handle(%r) = %r" % (handle, mapped))
            elif item[0] == "after_handle":
                in_handle = False
            elif item[0] == "resumed":
                resumptions += 1
                self.assertTrue(in_handle, "a coroutine resumed outside any handle: %r" % (item,))
                self.assertIs(item[1], current, "%s ran in a handle mapped to %r, not its task" % (item[2], current))
        self.assertEqual(resumptions, 10)
        self.assertGreaterEqual(task_handles, resumptions)
        # every task step the loop ran was reported as created with that task
        reported = [item[2] for item in self.listener.of("task_created")]
        for task in created[1:]:  # created[0] is the main task, made before the loop first ran
            self.assertIn(task, reported)

    @unittest.skipUnless(getattr(asyncio.tasks, "_CTask", None) is not None, "no C Task in this build")
    def test_c_task(self):
        self.check_mapping(asyncio.tasks._CTask, lambda loop, coro, **kw: asyncio.tasks._CTask(coro, loop=loop, **kw))

    def test_pure_python_task(self):
        self.check_mapping(asyncio.tasks._PyTask, py_task_factory)

    def test_plain_callbacks_have_no_task(self):
        loop = asyncio.new_event_loop()
        seen = []
        try:
            loop.call_soon(countdown, loop, 2, seen)
            loop.run_forever()
        finally:
            loop.close()
        handles = self.listener.of("before_handle")
        self.assertEqual(len(handles), 3)
        self.assertEqual([item[3] for item in handles], [None, None, None])

    def test_task_ids_are_small_and_stable(self):
        async def main():
            tasks = [asyncio.ensure_future(sleeps(0)) for _ in range(3)]
            await asyncio.gather(*tasks)
            return tasks
        tasks = run_on_new_loop(main)
        ids = [registry.task_id(t) for t in tasks]
        self.assertEqual(len(set(ids)), 3)
        self.assertEqual(ids, [registry.task_id(t) for t in tasks])
        self.assertTrue(all(isinstance(i, int) and i > 0 for i in ids))


class FailingListener(unittest.TestCase):
    """A listener that raises is switched off and told so; the user's program never notices."""

    def tearDown(self):
        instrument.uninstall()

    def check(self, moment, fail_after=0, program=None):
        listener = RecordingListener(fail_on=moment, fail_after=fail_after)
        instrument.install(listener)
        watch_everything()
        program = program or (lambda: run_on_new_loop(self.tasks_program))
        self.assertEqual(program(), [0, 1, 2])
        disabled = listener.of("hooks_disabled")
        self.assertEqual(len(disabled), 1, "hooks_disabled exactly once; events: %r" % listener.kinds()[-5:])
        self.assertIn(moment, disabled[0][1])
        self.assertIn("on purpose", disabled[0][1])
        self.assertEqual(listener.kinds()[-1], "hooks_disabled", "no moment is delivered after disabling")
        self.assertFalse(instrument.watch.iterations or instrument.watch.handles or instrument.watch.creation)
        self.assertIs(vars(events.Handle)["_run"], ORIGINALS[(events.Handle, "_run")])
        # and the loops keep running normally afterwards
        self.assertEqual(run_on_new_loop(lambda: sleeps(2)), 2)
        self.assertEqual(listener.kinds()[-1], "hooks_disabled")

    async def tasks_program(self):
        async def work(i):
            await asyncio.sleep(0)
            return i
        return list(await asyncio.gather(*(asyncio.ensure_future(work(i)) for i in range(3))))

    def test_before_iteration_raises(self):
        self.check("before_iteration", fail_after=2)

    def test_before_handle_raises(self):
        self.check("before_handle", fail_after=1)

    def test_after_handle_raises(self):
        self.check("after_handle", fail_after=1)

    def test_task_created_raises(self):
        self.check("task_created")

    def test_loop_registered_raises(self):
        self.check("loop_registered")

    def test_loop_closed_raises(self):
        self.check("loop_closed")

    def test_raising_in_a_thread_loop(self):
        def program():
            return ProgramThread(lambda: run_on_new_loop(self.tasks_program)).start().join(self)
        self.check("before_handle", fail_after=3, program=program)

    def test_raising_hooks_disabled_is_swallowed(self):
        class Worse(RecordingListener):
            def hooks_disabled(self, reason):
                RecordingListener.hooks_disabled(self, reason)
                raise RuntimeError("and this one too")
        listener = Worse(fail_on="before_handle")
        instrument.install(listener)
        watch_everything()
        self.assertEqual(run_on_new_loop(self.tasks_program), [0, 1, 2])
        self.assertTrue(listener.disabled.is_set())


class InstallAndUninstall(unittest.TestCase):
    def tearDown(self):
        instrument.uninstall()

    def test_uninstall_restores_the_originals(self):
        for (owner, name), original in ORIGINALS.items():
            if isinstance(owner, type):
                self.assertEqual(getattr(original, "__module__", None), owner.__module__, "captured too late")
            else:
                self.assertFalse(getattr(original, "__module__", "").startswith("loopscope"), "captured too late")
        instrument.install(RecordingListener())
        watch_everything()
        patched = [(owner, name) for (owner, name), original in ORIGINALS.items() if vars(owner)[name] is not original]
        self.assertEqual(len(patched), len(ORIGINALS), "install + handle watch patch them all")
        instrument.uninstall()
        for (owner, name), original in ORIGINALS.items():
            self.assertIs(vars(owner)[name], original, "%s.%s not restored" % (owner.__name__, name))
        self.assertFalse(instrument.watch.iterations or instrument.watch.handles or instrument.watch.creation)
        self.assertEqual(registry.loop_states(), [])

    def test_a_loop_not_built_on_base_event_loop_is_reported_once(self):
        # uvloop's Loop stands apart from BaseEventLoop; it still sets itself as the running loop.
        class ForeignLoop(asyncio.AbstractEventLoop):
            pass
        listener = RecordingListener()
        instrument.install(listener)
        run_on_new_loop(lambda: sleeps(1))
        for _ in range(2):
            asyncio._set_running_loop(ForeignLoop())
            asyncio._set_running_loop(None)
        self.assertEqual([e for e in listener.events if e[0] == "foreign_loop"], [("foreign_loop", "ForeignLoop")])

    def test_nothing_is_reported_after_uninstall(self):
        listener = RecordingListener()
        instrument.install(listener)
        watch_everything()
        run_on_new_loop(lambda: sleeps(1))
        count = len(listener.events)
        self.assertGreater(count, 0)
        instrument.uninstall()
        self.assertEqual(asyncio.run(sleeps(2)), 2)
        self.assertEqual(len(listener.events), count)

    def test_handle_watch_switches_only_handle_run(self):
        instrument.install(RecordingListener())
        instrument.apply(instrument.HookPlan.NOTHING._replace(handles=instrument.HandleHook.EVERY))
        self.assertIsNot(vars(events.Handle)["_run"], ORIGINALS[(events.Handle, "_run")])
        instrument.apply(instrument.HookPlan.NOTHING)
        self.assertIs(vars(events.Handle)["_run"], ORIGINALS[(events.Handle, "_run")])
        self.assertIsNot(vars(base_events.BaseEventLoop)["_run_once"], ORIGINALS[(base_events.BaseEventLoop, "_run_once")])

    def test_unwatched_hooks_report_only_loops(self):
        listener = RecordingListener()
        instrument.install(listener)
        self.assertEqual(run_on_new_loop(lambda: sleeps(2)), 2)
        self.assertEqual(sorted(set(listener.kinds())), ["loop_closed", "loop_registered"])

    def test_hook_code_objects(self):
        codes = instrument.hook_code_objects()
        self.assertIn(instrument._run_once.__code__, codes)
        self.assertIn(instrument._handle_run.__code__, codes)


class TheProgramsOwnWrappers(unittest.TestCase):
    """A program that wraps Handle._run (a slow-callback monitor) or a loop method (nest_asyncio
    wraps _run_once) keeps its wrapper whatever Loopscope switches, and it keeps seeing every handle."""

    EVERY = instrument.HookPlan.NOTHING._replace(handles=instrument.HandleHook.EVERY)
    TASK_STEPS = instrument.HookPlan.NOTHING._replace(handles=instrument.HandleHook.TASK_STEPS,
                                                      task_step_names=frozenset({"no task is called this"}))
    LOGGED = instrument.HookPlan.NOTHING._replace(handles=instrument.HandleHook.LOGGED)

    def setUp(self):
        self.addCleanup(setattr, events.Handle, "_run", ORIGINALS[(events.Handle, "_run")])
        self.listener = RecordingListener()
        instrument.install(self.listener)
        self.addCleanup(instrument.uninstall)

    def wrap_handle_run(self):
        """The program's monitor, on whatever Handle._run is now; returns the handles it sees."""
        seen, inner = [], events.Handle._run

        def monitored_run(handle):
            seen.append(handle)
            return inner(handle)
        events.Handle._run = monitored_run
        self.monitor = monitored_run
        return seen

    def handles_reported(self):
        return len(self.listener.of("before_handle"))

    def test_a_wrapper_installed_while_the_hooks_are_off(self):
        seen = self.wrap_handle_run()
        for plan in (self.EVERY, self.LOGGED, self.TASK_STEPS, self.EVERY):
            instrument.apply(plan)
            run_on_new_loop(lambda: sleeps(2))
        instrument.apply(instrument.HookPlan.NOTHING)
        self.assertIs(vars(events.Handle)["_run"], self.monitor, "the program's wrapper is back")
        before, reported = len(seen), self.handles_reported()
        run_on_new_loop(lambda: sleeps(2))
        self.assertGreater(len(seen), before, "the wrapper still sees the handles")
        self.assertGreater(reported, 0)
        self.assertEqual(self.handles_reported(), reported, "the hooks are off")

    def test_a_wrapper_installed_over_a_hook_that_is_on(self):
        instrument.apply(self.TASK_STEPS)
        seen = self.wrap_handle_run()  # the program wraps Loopscope's hook
        instrument.apply(self.EVERY)
        run_on_new_loop(lambda: sleeps(2))
        self.assertGreater(self.handles_reported(), 0, "the hook inside the wrapper reports")
        self.assertGreater(len(seen), 0)
        for plan in (self.LOGGED, instrument.HookPlan.NOTHING):
            instrument.apply(plan)
            self.assertIs(vars(events.Handle)["_run"], self.monitor)
        before, reported = len(seen), self.handles_reported()
        self.assertEqual(run_on_new_loop(lambda: sleeps(2)), 2)
        self.assertGreater(len(seen), before)
        self.assertEqual(self.handles_reported(), reported, "the hook inside the wrapper hands handles on")

    def test_uninstall_leaves_a_wrapper_of_a_loop_method(self):
        hooked = vars(base_events.BaseEventLoop)["_run_once"]
        calls = []

        def wrapped_run_once(loop):
            calls.append(loop)
            return hooked(loop)
        base_events.BaseEventLoop._run_once = wrapped_run_once
        self.addCleanup(setattr, base_events.BaseEventLoop, "_run_once",
                        ORIGINALS[(base_events.BaseEventLoop, "_run_once")])
        instrument.uninstall()
        self.assertIs(vars(base_events.BaseEventLoop)["_run_once"], wrapped_run_once)
        self.assertEqual(run_on_new_loop(lambda: sleeps(2)), 2)
        self.assertTrue(calls)


class UserCustomisationStillWorks(HookTest):
    def test_user_task_factory(self):
        class MyTask(asyncio.Task):
            pass
        made = []

        def factory(loop, coro, **kwargs):
            task = MyTask(coro, loop=loop, **kwargs)
            made.append(task)
            return task

        async def main():
            loop = asyncio.get_running_loop()
            self.assertIs(loop.get_task_factory(), factory)
            inner = loop.create_task(sleeps(1), name="inner")
            self.assertIsInstance(inner, MyTask)
            self.assertEqual(inner.get_name(), "inner")
            return await inner

        self.assertEqual(run_on_new_loop(main, factory), 1)
        self.assertEqual(len(made), 2)
        mapped = {item[3] for item in self.listener.of("before_handle")} - {None}
        self.assertEqual(mapped, set(made))
        self.assertIn(made[1], [item[2] for item in self.listener.of("task_created")])

    def test_create_task_arguments_pass_through(self):
        async def main():
            loop = asyncio.get_running_loop()
            kwargs = {"name": "named"}
            var = contextvars.ContextVar("var", default="outer")
            if sys.version_info >= (3, 11):
                context = contextvars.copy_context()
                context.run(var.set, "inner")
                kwargs["context"] = context

            async def read():
                return var.get()
            task = loop.create_task(read(), **kwargs)
            return task.get_name(), await task
        name, value = run_on_new_loop(main)
        self.assertEqual(name, "named")
        self.assertEqual(value, "inner" if sys.version_info >= (3, 11) else "outer")

    @unittest.skipUnless(hasattr(asyncio, "eager_task_factory"), "eager tasks are new in 3.12")
    def test_eager_task_factory(self):
        async def main():
            task = asyncio.get_running_loop().create_task(sleeps(2))
            return await task
        self.assertEqual(run_on_new_loop(main, asyncio.eager_task_factory), 2)
        mapped = [item[3] for item in self.listener.of("before_handle") if item[3] is not None]
        self.assertTrue(mapped)

    def test_user_exception_handler(self):
        contexts = []
        done = threading.Event()

        def boom():
            raise ValueError("in a callback")

        def handler(loop, context):
            contexts.append(context)
            done.set()

        async def main():
            loop = asyncio.get_running_loop()
            loop.set_exception_handler(handler)
            loop.call_soon(boom)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            return "survived"

        self.assertEqual(run_on_new_loop(main), "survived")
        self.assertTrue(done.wait(DEADLINE))
        self.assertEqual(len(contexts), 1)
        self.assertIsInstance(contexts[0]["exception"], ValueError)
        self.assertIn("boom", repr(contexts[0].get("handle")))
        # the hook still closed the handle's bracket even though the callback raised
        befores = [item[2] for item in self.listener.of("before_handle")]
        afters = [item[2] for item in self.listener.of("after_handle")]
        self.assertEqual(befores, afters)
        # and the listener heard of the exception before the program's handler did, on the loop's thread
        (reported,) = self.listener.of("exception_reported")
        self.assertIs(reported[2], contexts[0])
        self.assertIsNotNone(reported[1], "the loop's state")

    def test_exception_from_run_until_complete_is_unchanged(self):
        async def fails():
            await asyncio.sleep(0)
            raise KeyError("mine")
        with self.assertRaises(KeyError) as caught:
            run_on_new_loop(fails)
        self.assertEqual(caught.exception.args, ("mine",))

    def test_close_twice_and_run_forever_result(self):
        loop = asyncio.new_event_loop()
        loop.call_soon(loop.stop)
        self.assertIsNone(loop.run_forever())
        loop.close()
        loop.close()
        self.assertTrue(loop.is_closed())
        self.assertEqual(len(self.listener.of("loop_closed")), 1)


if __name__ == "__main__":
    unittest.main()
