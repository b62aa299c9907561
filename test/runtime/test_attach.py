"""Attaching to a running program by process id, under the interpreter running this suite: the
helper gets the ticket run (sys.remote_exec from 3.14, gdb before and as the fallback), the
runtime connects, holds every loop where it is (idle in select(), busy in a callback, on any
thread), serves the session, and at detach leaves the program as it was, ten times in a row."""

import asyncio
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

from attach_support import CLI, HAS_GDB, PLAIN, TARGET, AdapterSide, Target, run_helper
from runtime_support import DEADLINE, RUNTIME, clean_environment

from loopscope import asyncio_internals as internals
from loopscope import bootstrap, pausing, timelimit
from loopscope.vocabulary import InjectionFailure

VERSION = sys.version_info[:2]
REMOTE_EXEC = VERSION >= (3, 14)
CAN_ATTACH = HAS_GDB or REMOTE_EXEC


def eventually(read, holds, what, timeout=DEADLINE):
    """read() until holds(value), or fail at the deadline with the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if holds(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError("not %s within %.0f s: %r" % (what, timeout, value))
        time.sleep(0.02)


NOBODY = 65534


def runs_as(uid, python, reads=(TARGET, CLI)):
    """Whether user uid can run python and read the files the test gives it (a checkout in a
    directory only root can enter cannot be run as another user)."""
    command = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", python, "-I", "-S", "-c",
               "import sys\nfor path in sys.argv[1:]: open(path).close()"] + list(reads)
    return subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


NO_PYTHON_FOR_NOBODY = ("no Python that user %d can run on files of this checkout it can read (clone it where "
                        "every user can read it to run this test)" % NOBODY)


class BootstrapDeclarations(unittest.TestCase):
    def test_trampolines_cover_the_runtimes_signals(self):
        """bootstrap.py installs a trampoline for each real-time signal the runtime uses."""
        self.assertEqual(sorted(signal.NSIG - below for below in bootstrap.SIGNALS_BELOW_NSIG),
                         sorted((pausing.PAUSE_SIGNAL, timelimit.INTERRUPT_SIGNAL)))

    def test_lending_waits_in_front_of_the_method_the_hooks_patch(self):
        self.assertEqual(bootstrap.RUN_ONCE, internals.PATCHED_METHODS["run_once"][1])


# After a detach, without ctypes (no pending call): release_hooks() kicks the main thread with each
# of Loopscope's signals, and each trampoline gives way to the default action without ending the
# process. Run in a process of its own: the marker outlives everything in the one that makes it.
KICKED_AWAY = """
import signal, sys
from loopscope import bootstrap
if sys.argv[1] == "without ctypes":
    bootstrap._call_on_main_thread = lambda made, function: False
made = bootstrap.marker()
bootstrap.prepare_main_thread(made)
assert all(signal.getsignal(s) is made.trampoline for s in made.signals)
made.release_hooks()
for _ in range(1000):  # bytecodes, at which the kicks or the pending call are handled
    if all(signal.getsignal(s) == signal.SIG_DFL for s in made.signals):
        break
print("defaults", all(signal.getsignal(s) == signal.SIG_DFL for s in made.signals), "kicks left", sorted(made.kicks))
"""


class TrampolinesAfterADetach(unittest.TestCase):
    def test_they_give_way_to_the_default_action_with_or_without_ctypes(self):
        for how in ("with ctypes", "without ctypes"):
            with self.subTest(how=how):
                done = subprocess.run([sys.executable, "-c", KICKED_AWAY, how], env=clean_environment(PYTHONPATH=RUNTIME),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                                      timeout=DEADLINE)
                self.assertEqual((done.returncode, done.stdout, done.stderr), (0, "defaults True kicks left []\n", ""))


class LendingTheLoops(unittest.TestCase):
    """bootstrap.Lending: every loop waits at its next boundary while the runtime starts."""

    def setUp(self):
        self.owner = internals.base_events.BaseEventLoop
        self.own = vars(self.owner)[bootstrap.RUN_ONCE]
        self.addCleanup(setattr, self.owner, bootstrap.RUN_ONCE, self.own)

    def test_the_wait_wraps_the_class_method_and_goes_again(self):
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        lending = bootstrap.Lending()
        lending.start()
        wait = vars(self.owner)[bootstrap.RUN_ONCE]
        self.assertIsNot(wait, self.own)
        self.assertIs(internals.unlent(wait), self.own, "a runtime imported meanwhile must see asyncio's own")
        ran = []
        loop.call_soon(ran.append, 1)
        lending.end()
        wait(loop)  # as a loop that looked it up before the end: it runs the iteration at once
        self.assertEqual(ran, [1])
        self.assertIs(vars(self.owner)[bootstrap.RUN_ONCE], self.own)
        self.assertEqual(vars(loop).get(bootstrap.RUN_ONCE), None, "nothing was put on the loop itself")
        lending.start()  # over: nothing more is lent
        self.assertIs(vars(self.owner)[bootstrap.RUN_ONCE], self.own)

    def test_hooks_put_in_meanwhile_stay(self):
        lending = bootstrap.Lending()
        lending.start()

        def hook(loop):
            return self.own(loop)
        setattr(self.owner, bootstrap.RUN_ONCE, hook)
        lending.end()
        self.assertIs(vars(self.owner)[bootstrap.RUN_ONCE], hook)


@unittest.skipUnless(CAN_ATTACH, "attaching before Python 3.14 needs gdb")
class AttachByProcessId(unittest.TestCase):
    maxDiff = None

    def target(self, mode, **options):
        target = Target(mode, **options)
        self.addCleanup(target.stop)
        return target

    def attach(self, target, **start):
        adapter = AdapterSide(self)
        result, hello = adapter.attach(target)
        self.assertTrue(result["ok"], result)
        self.assertTrue(hello.get("attached"))
        self.assertNotIn("refusal", hello)
        adapter.start(**start)
        return adapter

    def stack(self, adapter, thread_id):
        return adapter.body("stackTrace", {"threadId": thread_id})["stackFrames"]

    def test_idle_deadlock_is_held_between_iterations(self):
        target = self.target("idle")
        adapter = self.attach(target)
        stopped = adapter.next_event("stopped")
        self.assertEqual((stopped["reason"], stopped["label"], stopped["where"]), ("pause", "attached", "iteration"))
        self.assertIn("Loopscope attached here", stopped["description"])
        (loop,) = adapter.body("snapshot")["loops"]
        self.assertEqual(loop["state"], "paused")
        waiting = sorted(task["name"] for task in loop["tasks"] if task["state"] == "waiting")
        self.assertEqual(waiting, ["Task-1", "waits-for-a", "waits-for-b"])
        threads = {t["name"].split(" · ")[0]: t["id"] for t in adapter.body("threads")["threads"]}
        frames = self.stack(adapter, threads["waits-for-a"])
        self.assertEqual(frames[0]["name"], "deadlock.<locals>.waits_for")
        self.assertTrue(frames[0]["path"].endswith("target.py"))
        adapter.detach()

    def test_busy_callback_is_held_in_its_code(self):
        target = self.target("busy")
        adapter = self.attach(target)
        stopped = adapter.next_event("stopped")
        self.assertEqual((stopped["label"], stopped["where"]), ("attached", "code"))
        top = self.stack(adapter, stopped["threadId"])[0]
        self.assertEqual(top["name"], "spin")
        spins = target.state()["progress"]["spins"]
        time.sleep(0.05)
        self.assertEqual(target.state()["progress"]["spins"], spins, "the busy callback ran on while held")
        adapter.detach()
        eventually(lambda: target.state()["progress"]["spins"], lambda n: n > spins, "spinning again after detach")

    def test_loop_on_another_thread(self):
        target = self.target("thread")
        adapter = self.attach(target)
        stopped = adapter.next_event("stopped")
        self.assertEqual(stopped["where"], "iteration")
        (thread,) = [t for t in adapter.body("threads")["threads"] if t["id"] == stopped["loopId"]]
        self.assertIn("loop-thread", thread["name"])
        # Ending the program is not Loopscope's to do: terminate is refused, and detach still works.
        refused = adapter.request("terminate")
        self.assertFalse(refused["success"])
        self.assertIn("did not start this program", refused["message"])
        adapter.detach()

    def test_busy_loop_on_another_thread(self):
        target = self.target("tbusy")
        adapter = self.attach(target)
        if VERSION < (3, 9):
            message = adapter.next_event("log")["message"]
            self.assertIn("cannot stop code running on a thread other than the main one", message)
        else:
            stopped = adapter.next_event("stopped")
            self.assertEqual(stopped["where"], "code")
            self.assertEqual(self.stack(adapter, stopped["threadId"])[0]["name"], "spin")
        adapter.detach()
        spins = target.state()["progress"]["spins"]
        eventually(lambda: target.state()["progress"]["spins"], lambda n: n > spins, "spinning after detach")

    def test_loop_whose_tasks_are_always_ready(self):
        """Its main thread takes the GIL back after each select(0) before the thread the runtime
        imports itself on wakes: the hello came after 9-32 s on 3.8-3.12 (DEADLINE is 10 s) until
        the loop was lent to the starting runtime (bootstrap.Lending)."""
        target = self.target("ready")
        adapter = self.attach(target)
        stopped = adapter.next_event("stopped")
        self.assertEqual(stopped["label"], "attached")
        adapter.detach()
        ticks = target.state()["progress"]["ticks"]
        eventually(lambda: target.state()["progress"]["ticks"], lambda n: n > ticks, "running after detach")

    def test_pausing_a_loop_whose_tasks_are_always_ready(self):
        """Each request waited for the GIL on the channel thread: a pause took 0.03-2.4 s on 3.8
        and 3.12 (gilturns.py). A hundred pauses, each after a resume, took 2-4 ms each after the fix."""
        target = self.target("ready")
        adapter = self.attach(target)
        adapter.next_event("stopped")
        started = time.monotonic()
        for _ in range(100):
            left = max(0.01, started + DEADLINE - time.monotonic())
            adapter.body("resume", {"mode": "continue"}, timeout=left)
            adapter.body("pause", timeout=left)
            self.assertEqual(adapter.next_event("stopped", timeout=left)["reason"], "pause")
        took = time.monotonic() - started
        self.assertLess(took, DEADLINE, "100 pauses took %.1f s" % took)
        adapter.detach()

    def test_main_thread_waiting_for_the_gil(self):
        """A main thread that joins a busy thread 1 ms at a time is mostly waiting for the GIL when
        stopped; gdb's direct call there hung until gdb gave up (11 attaches in 12 on 3.12)."""
        for attempt in range(3):
            with self.subTest(attempt=attempt):
                target = self.target("gilwait")
                adapter = self.attach(target)
                # 3.8 cannot stop the busy loop on its thread, and says so.
                adapter.next_event("log" if VERSION < (3, 9) else "stopped")
                adapter.detach()
                target.stop()

    def test_several_loops_are_all_held(self):
        target = self.target("multi")
        adapter = self.attach(target)
        adapter.next_event("stopped")
        started = [body for event, body in adapter.seen if event == "loopStarted"]
        self.assertEqual(len(started), 3, adapter.seen)
        held = 2 if VERSION < (3, 9) else 3  # 3.8 cannot stop the busy loop on its thread
        eventually(lambda: [l["state"] for l in adapter.body("snapshot")["loops"]],
                   lambda states: states.count("paused") == held, "all loops held")
        adapter.detach()

    def test_detach_leaves_the_program_as_it_was_ten_times(self):
        """The program's own view of itself after each detach: nothing of Loopscope's patched, no
        trace function, monitoring tool, signal handler, thread or descriptor left, no objects
        piling up, its loop clock the plain clock again, and its timers still firing."""
        target = self.target("counter")
        before = target.state()
        calls_before = target.calls()
        after_first = None
        for cycle in range(10):
            adapter = self.attach(target)
            adapter.next_event("stopped")
            adapter.body("snapshot")
            if cycle == 0:
                time.sleep(0.3)  # held: the frozen loop clock falls behind the plain one by this much
            seen = len(target.state()["seen"])
            adapter.detach()
            state = eventually(target.state, lambda s: s["signals"] == before["signals"], "signals back to default")
            with self.subTest(cycle=cycle):
                # No signal of Loopscope's on the way out: it would interrupt what the main thread
                # waits in and reach the program's wakeup descriptor (asyncio's, for a loop with
                # signal handlers), as the program's own signals do.
                ours = [signal.NSIG - below for below in bootstrap.SIGNALS_BELOW_NSIG]
                self.assertEqual([n for n in state["seen"][seen:] if n in ours], [], "signals sent at detach")
                self.assertEqual(state["patched"], [])
                self.assertEqual(state["monitoring"], before["monitoring"])
                self.assertEqual((state["trace"], state["thread_trace"]), ("None", "None"))
                self.assertEqual(state["loopscope_modules"], [])
                self.assertEqual(state["importer_cache"], [])
                self.assertEqual(state["path"], before["path"])
                self.assertEqual(state["switch_interval"], before["switch_interval"])
                self.assertLess(state["clock_skew"], 0.05, "the loop clock is not the plain clock again")
                eventually(lambda: target.state(), lambda s: s["os_threads"] == before["os_threads"],
                           "Loopscope's threads gone")
            if cycle == 1:
                after_first = state
        final = eventually(target.state, lambda s: s["objects"] <= after_first["objects"] + 100,
                           "no more objects than after the second attach")
        # The standard library modules the runtime imported stay (json, socket, ctypes...), as
        # does ctypes' descriptor of libffi from 3.14; nothing grows after the first attach.
        self.assertEqual(final["modules"], after_first["modules"])
        # After the second detach a descriptor of its session may still be closing (seen under load:
        # 10 then, 8 at the end): nothing may be added, what goes away late is fine.
        self.assertLessEqual(final["fds"], after_first["fds"])
        ticks = final["progress"]["ticks"]
        eventually(lambda: target.state()["progress"]["ticks"], lambda n: n > ticks + 5, "the timers firing")
        # An event loop does exactly the work it did before the first attach: no call more, none less.
        self.assertEqual(target.calls(), calls_before)

    def test_a_second_attach_is_refused_while_one_is_active(self):
        target = self.target("idle")
        first = self.attach(target)
        first.next_event("stopped")
        second = AdapterSide(self)
        result, hello = second.attach(target)
        self.assertTrue(result["ok"], result)
        self.assertIn("attached to this program already", hello["refusal"])
        self.assertEqual(first.body("snapshot")["loops"][0]["state"], "paused")
        # Once the refused runtime has gone (it closes last), the active session's modules are still there.
        self.assertTrue(second.closed.wait(DEADLINE), "the refused runtime kept its connection open")
        self.assertTrue(target.state()["loopscope_modules"], "the refused runtime took the active session's modules")
        first.detach()
        self.assertEqual(target.state()["loopscope_modules"], [])

    def test_a_program_under_another_debugger_is_refused(self):
        target = self.target("traced")
        adapter = AdapterSide(self)
        result, hello = adapter.attach(target)
        self.assertTrue(result["ok"], result)
        expected = "sys.monitoring tool 'another debugger'" if VERSION >= (3, 12) else "another debugger or tracer"
        self.assertIn(expected, hello["refusal"])
        self.assertIn("disconnect it first", hello["refusal"])
        # The runtime closes the connection once its modules have left (attachment.finish()).
        self.assertTrue(adapter.closed.wait(DEADLINE), "the refused runtime kept its connection open")
        self.assertEqual(target.state()["loopscope_modules"], [])

    def test_a_program_without_asyncio_is_refused(self):
        target = self.target("-", program=PLAIN)
        adapter = AdapterSide(self)
        result, hello = adapter.attach(target)
        self.assertTrue(result["ok"], result)
        self.assertIn("has not imported asyncio", hello["refusal"])

    def test_no_loop_yet_holds_the_first_that_starts(self):
        target = self.target("noloop")
        adapter = self.attach(target)
        self.assertIn("No asyncio event loop is running", adapter.next_event("log")["message"])
        os.kill(target.pid, signal.SIGUSR2)
        stopped = adapter.next_event("stopped")
        self.assertEqual(stopped["label"], "attached")
        adapter.detach()

    def test_an_exited_process(self):
        target = self.target("idle")
        os.kill(target.pid, signal.SIGKILL)  # not waited for: a zombie, then gone
        adapter = AdapterSide(self)
        result, _hello = adapter.attach(target)
        self.assertFalse(result["ok"])
        self.assertEqual(result["reason"], InjectionFailure.EXITED, result)
        self.assertIn("exited", result["message"])

    @unittest.skipUnless(os.getuid() == 0 and shutil.which("setpriv"), "needs root, to act as other users")
    def test_without_the_right_to_trace_it(self):
        """Another user's program; and one of the same user that is not dumpable, which the kernel
        itself keeps gdb out of."""
        helper = next((python for python in (sys.executable, "/usr/bin/python3") if runs_as(NOBODY, python)), None)
        if helper is None:
            self.skipTest(NO_PYTHON_FOR_NOBODY)
        target = self.target("idle")
        result = run_helper(target.pid, AdapterSide(self).settings(), python=helper, user=NOBODY)
        self.assertEqual((result["ok"], result.get("reason")), (False, InjectionFailure.NOT_PERMITTED), result)
        self.assertIn("belongs to user 0", result["message"])
        if not HAS_GDB:
            return
        as_nobody = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
        target = self.target("idle", python=helper, prefix=as_nobody, env=clean_environment(TARGET_NOT_DUMPABLE="1"))
        result = run_helper(target.pid, AdapterSide(self).settings(), python=helper, user=NOBODY, method="gdb")
        self.assertEqual((result["ok"], result.get("reason")), (False, InjectionFailure.NOT_PERMITTED), result)
        self.assertIn("dumpable", result["message"])

    @unittest.skipUnless(os.getuid() == 0 and shutil.which("setpriv") and HAS_GDB, "needs root and gdb")
    def test_root_attaches_to_another_users_program(self):
        """The program's user cannot read this runtime: the helper copies it into that user's private
        directory, safely, and the bootstrap runs it from there, with the program's credentials."""
        helper = next((python for python in ("/usr/bin/python3",) if runs_as(NOBODY, python)), None)
        if helper is None:
            self.skipTest(NO_PYTHON_FOR_NOBODY)
        hidden = tempfile.mkdtemp()  # 0700, root's
        self.addCleanup(shutil.rmtree, hidden, True)
        shutil.copytree(RUNTIME, os.path.join(hidden, "runtime"), ignore=shutil.ignore_patterns("__pycache__"))
        target = self.target("idle", python=helper, prefix=["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                                                            "--clear-groups"])
        adapter = AdapterSide(self)
        result, hello = adapter.attach(target, python=helper,
                                       cli=os.path.join(hidden, "runtime", "loopscope", "outside", "cli.py"))
        self.assertTrue(result["ok"], result)
        self.assertNotIn("refusal", hello)
        adapter.start()
        self.assertEqual(adapter.next_event("stopped")["label"], "attached")
        copies = [name for name in os.listdir("/tmp/loopscope-%d" % NOBODY) if name.startswith("runtime-")]
        self.assertTrue(copies)
        facts = os.lstat(os.path.join("/tmp/loopscope-%d" % NOBODY, copies[0]))
        self.assertEqual((facts.st_uid, stat.S_IMODE(facts.st_mode)), (NOBODY, 0o700))
        adapter.detach()
        self.assertEqual(target.state()["loopscope_modules"], [])

    @unittest.skipUnless(REMOTE_EXEC, "PYTHON_DISABLE_REMOTE_DEBUG is 3.14+")
    def test_remote_debugging_disabled_is_respected(self):
        for name, options in (("environment", dict(env=clean_environment(PYTHON_DISABLE_REMOTE_DEBUG="1"))),
                              ("-X", dict(interpreter_options=["-X", "disable-remote-debug"]))):
            with self.subTest(name):
                target = self.target("idle", **options)
                adapter = AdapterSide(self)
                result, _hello = adapter.attach(target)
                self.assertEqual(result.get("reason"), InjectionFailure.REMOTE_DEBUG_DISABLED, result)
                self.assertEqual(target.state()["loopscope_modules"], [], "gdb got in regardless")


if __name__ == "__main__":
    unittest.main()
