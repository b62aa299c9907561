"""The debugger's parts that are plain functions of their inputs: which hooks run (hook_plan), what
a step button means where the program is held (stepping.plan), a stop's label, and that every
request of the vocabulary has its handler."""

import collections
import threading
import types
import unittest

from loopscope import commands, stepping, stops
from loopscope.breakpoints import TaskBreakpoints
from loopscope.debugger import hook_plan, settings_from
from loopscope.instrument import HandleHook
from loopscope.stepping import HandleStep, IterationStep, LineStep, RunStep, Stepper
from loopscope.vocabulary import (REQUEST_NAMES, START_DEFAULTS, ClockMode, ResumeMode, StopPlace, StopReason,
                                  TaskFilter)

Tracer = collections.namedtuple("Tracer", "needs_thread_sync active")
NO_TRACER = Tracer(False, False)
LOG = collections.deque()


class FakeTracer:
    def __init__(self):
        self.stepping = False

    def update(self, stepping=None, catching=None):
        if stepping is not None:
            self.stepping = stepping


def stepper_with(step):
    stepper = Stepper(FakeTracer())
    stepper.loop_step = step
    return stepper


def plan(step=None, names=(), filters=(), pausing=False, stopping=False, entry=False, record_always=False,
         clock=ClockMode.FROZEN, tracer=NO_TRACER):
    breakpoints = TaskBreakpoints()
    breakpoints.set_function_breakpoints([{"name": n} for n in names])
    breakpoints.set_filters(filters)
    return hook_plan(entry, pausing, stopping, stepper_with(step), breakpoints, tracer, record_always, clock, LOG)


class HookPlan(unittest.TestCase):
    def test_nothing_watched_costs_only_the_iteration_hook(self):
        result = plan()
        self.assertEqual((result.iterations, result.handles, result.after_handles, result.creation, result.autojump),
                         (False, HandleHook.OFF, False, False, False))
        self.assertIsNone(result.switch_log)

    def test_function_breakpoints_alone_see_only_task_steps(self):
        result = plan(names=["worker"])
        self.assertEqual((result.handles, result.after_handles, result.task_step_names),
                         (HandleHook.TASK_STEPS, True, frozenset(["worker"])))
        self.assertFalse(result.iterations)

    def test_stepping_whole_iterations_only_logs(self):
        for step in (IterationStep(1), RunStep(3)):
            result = plan(step=step)
            self.assertEqual((result.iterations, result.handles, result.switch_log), (True, HandleHook.LOGGED, LOG))

    def test_stepping_iterations_with_function_breakpoints_watches_every_handle(self):
        result = plan(step=IterationStep(1), names=["worker"])
        self.assertEqual((result.handles, result.switch_log), (HandleHook.EVERY, None))

    def test_what_needs_every_handle(self):
        for needs in (dict(step=HandleStep(1)), dict(pausing=True), dict(stopping=True), dict(record_always=True),
                      dict(filters=[TaskFilter.TASK_SWITCH]), dict(filters=[TaskFilter.TASK_DONE]),
                      dict(filters=[TaskFilter.TASK_EXCEPTION])):
            self.assertEqual(plan(**needs).handles, HandleHook.EVERY, needs)
        for alone in (dict(filters=[TaskFilter.TASK_CREATED]), dict(filters=[TaskFilter.RAISED]), dict(entry=True)):
            self.assertEqual(plan(**alone).handles, HandleHook.OFF, alone)

    def test_what_needs_iteration_boundaries(self):
        for needs in (dict(entry=True), dict(pausing=True), dict(stopping=True), dict(step=IterationStep(1)),
                      dict(tracer=Tracer(True, True))):
            self.assertTrue(plan(**needs).iterations, needs)
        self.assertFalse(plan(tracer=Tracer(False, True)).iterations, "sys.monitoring needs no per-thread sync")

    def test_task_created_and_the_virtual_clock(self):
        self.assertTrue(plan(filters=[TaskFilter.TASK_CREATED]).creation)
        self.assertTrue(plan(clock=ClockMode.VIRTUAL).autojump)
        self.assertFalse(plan(clock=ClockMode.WALL).autojump)


def _parked():
    yield


PARKED_LINE = _parked.__code__.co_firstlineno + 1
_generators = []


def parked_frame():
    """The frame of a suspended generator: its line stays put."""
    generator = _parked()
    next(generator)
    _generators.append(generator)
    return generator.gi_frame


def held(where, frame=None, iteration=4, run_number=2, loop_id=1, is_loop=True):
    state = types.SimpleNamespace(id=loop_id, iteration=iteration, run_number=run_number, is_loop=is_loop)
    return types.SimpleNamespace(where=where, frame=frame, state=state, thread_ident=threading.get_ident())


class StepMeaning(unittest.TestCase):
    def test_between_iterations_and_before_a_handle(self):
        cases = [
            (StopPlace.ITERATION, ResumeMode.OVER, IterationStep), (StopPlace.ITERATION, ResumeMode.INTO, HandleStep),
            (StopPlace.ITERATION, ResumeMode.OUT, RunStep), (StopPlace.HANDLE, ResumeMode.OVER, IterationStep),
            (StopPlace.HANDLE, ResumeMode.INTO, HandleStep), (StopPlace.HANDLE, ResumeMode.OUT, IterationStep),
            (StopPlace.HANDLE, ResumeMode.ITERATION, IterationStep), (StopPlace.ITERATION, ResumeMode.HANDLE, HandleStep),
        ]
        for where, mode, kind in cases:
            loop_step, line_step = stepping.plan(mode, held(where))
            self.assertIsInstance(loop_step, kind, (where, mode))
            self.assertIsNone(line_step)
        self.assertEqual(stepping.plan(ResumeMode.CONTINUE, held(StopPlace.HANDLE)), (None, None))

    def test_in_user_code_the_buttons_step_by_line(self):
        frame = parked_frame()
        for mode in (ResumeMode.OVER, ResumeMode.INTO, ResumeMode.OUT):
            loop_step, line_step = stepping.plan(mode, held(StopPlace.CODE, frame))
            self.assertIsInstance(line_step, LineStep)
            self.assertEqual((line_step.kind, line_step.start_line, line_step.start_iteration), (mode, PARKED_LINE, 4))
            # A line step lands where its frame returns to; no loop step until it has nowhere to land.
            self.assertIsNone(loop_step)

    def test_on_a_thread_that_runs_no_loop_every_step_is_by_line(self):
        library_frame = types.SimpleNamespace(f_code=threading.Thread.run.__code__, f_lineno=1, f_back=None)
        for where, frame in ((StopPlace.CODE, parked_frame()), (StopPlace.CODE, library_frame)):
            for mode in (ResumeMode.OVER, ResumeMode.INTO, ResumeMode.OUT):
                loop_step, line_step = stepping.plan(mode, held(where, frame, is_loop=False))
                self.assertIsNone(loop_step, "there is no loop to step")
                self.assertIsInstance(line_step, LineStep)
        self.assertEqual(stepping.plan(ResumeMode.ITERATION, held(StopPlace.CODE, None, is_loop=False)), (None, None))

    def test_a_line_step_ends_on_its_own_thread_only(self):
        frame = parked_frame()
        line_step = stepping.plan(ResumeMode.INTO, held(StopPlace.CODE, frame))[1]
        state = held(StopPlace.CODE).state
        self.assertTrue(line_step.ends_at(frame, state))
        elsewhere = []
        other = threading.Thread(target=lambda: elsewhere.append(line_step.ends_at(frame, state)))
        other.start()
        other.join()
        self.assertEqual(elsewhere, [False])

    def test_where_each_step_ends(self):
        one, two = types.SimpleNamespace(id=1, run_number=5), types.SimpleNamespace(id=2, run_number=6)
        self.assertEqual([IterationStep(1).ends_at_boundary(s) for s in (one, two)], [True, False])
        self.assertEqual([HandleStep(2).ends_before_handle(s) for s in (one, two)], [False, True])
        self.assertEqual([RunStep(5).ends_at_boundary(s) for s in (one, two)], [False, True])

    def test_stepper_turns_line_watching_on_and_off(self):
        tracer = FakeTracer()
        stepper = Stepper(tracer)
        stepper.begin(ResumeMode.OVER, held(StopPlace.CODE, parked_frame()))
        self.assertTrue(tracer.stepping)
        stepper.end()
        self.assertFalse(tracer.stepping)
        self.assertIsNone(stepper.loop_step)


class StopWords(unittest.TestCase):
    def test_labels(self):
        self.assertEqual(stops.label(StopReason.STEP, StopPlace.ITERATION, 7, None), "before iteration 8")
        self.assertEqual(stops.position(7, StopPlace.HANDLE), "in iteration 7")
        self.assertEqual(stops.label(StopReason.STEP, StopPlace.HANDLE, 7, None), "step")
        self.assertEqual(stops.label(StopReason.FUNCTION_BREAKPOINT, StopPlace.HANDLE, 7, {"taskName": "w-2"}),
                         "breakpoint on w-2")
        self.assertEqual(stops.label(StopReason.ENTRY, StopPlace.ITERATION, 0, None), "entry")
        self.assertEqual(stops.label(StopReason.TASK_DONE, StopPlace.CODE, 3, None), "task done")


class Vocabulary(unittest.TestCase):
    def test_every_request_has_a_handler(self):
        missing = [name for name in sorted(REQUEST_NAMES) if not hasattr(commands.CommandHandlers, "on_" + name)]
        self.assertEqual(missing, [])

    def test_start_defaults(self):
        settings = settings_from({})
        self.assertEqual((settings.stop_on_entry, settings.max_task_threads, settings.clock, settings.just_my_code,
                          settings.record_always, settings.track_owners, settings.console_await),
                         (START_DEFAULTS["stopOnEntry"], START_DEFAULTS["maxTaskThreads"], START_DEFAULTS["clock"],
                          START_DEFAULTS["justMyCode"], False, START_DEFAULTS["trackOwners"], START_DEFAULTS["consoleAwait"]))
        changed = settings_from({"clock": "wall", "taskSwitchHistory": "always", "trackOwners": False,
                                 "consoleAwait": "runLoop"})
        self.assertEqual((changed.clock, changed.just_my_code, changed.record_always, changed.track_owners,
                          changed.console_await), ("wall", True, True, False, "runLoop"))
        self.assertEqual((settings.step_statistics, settings.loop_blocked_warnings),
                         (START_DEFAULTS["stepStatistics"], True))


if __name__ == "__main__":
    unittest.main()
