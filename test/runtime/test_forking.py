"""Loopscope's resident threads step aside while the program forks and come back after it, so that
from Python 3.12 the program's os.fork() does not warn about threads it did not start; one too busy
to step aside in time stays, and is not lost."""

import _thread
import os
import subprocess
import sys
import threading
import unittest

from runtime_support import DEADLINE, RUNTIME, clean_environment
from loopscope import forking

ON_LINUX = os.path.isdir("/proc/self/task")


class Resident:
    """A ResidentThread whose body goes round once per poke(), and can be ended for good."""

    def __init__(self, test):
        self.poked = threading.Event()
        self.laps = 0
        self.ended = False
        self.busy = threading.Event()  # while set, the body does not look at stepping_aside()
        self.thread = forking.ResidentThread(self._body, self.poked.set)
        self.thread.start()
        test.addCleanup(self.end)

    def _body(self, stepping_aside):
        while not self.ended:
            if not self.busy.is_set() and stepping_aside():
                return
            self.laps += 1
            self.poked.wait(DEADLINE)
            self.poked.clear()

    def end(self):
        self.busy.clear()
        self.ended = True
        self.poked.set()


def task_exists(native_id):
    return os.path.exists("/proc/self/task/%d" % native_id)


class SteppingAside(unittest.TestCase):
    @unittest.skipUnless(ON_LINUX, "the kernel's own thread list is read from /proc")
    def test_it_leaves_the_process_for_the_fork_and_comes_back(self):
        resident = Resident(self)
        before = resident.thread.native_id
        count = _thread._count()
        forking._before_fork()  # os.fork() runs this first, then forks
        try:
            self.assertFalse(task_exists(before), "the thread is out of the process")
        finally:
            forking._after_fork_in_parent()
        self.assertTrue(task_exists(resident.thread.native_id))
        self.assertNotEqual(resident.thread.native_id, before)
        self.assertEqual(_thread._count(), count, "running again before os.fork() returns")
        laps = resident.laps
        resident.poked.set()
        self.assertTrue(self.wait_until(lambda: resident.laps > laps), "and working")

    def test_one_too_busy_stays_and_keeps_working(self):
        resident = Resident(self)
        resident.busy.set()
        limit, forking.STEP_ASIDE_TIME_LIMIT = forking.STEP_ASIDE_TIME_LIMIT, 0.2
        try:
            forking._before_fork()
            forking._after_fork_in_parent()
        finally:
            forking.STEP_ASIDE_TIME_LIMIT = limit
        resident.busy.clear()
        laps = resident.laps
        resident.poked.set()
        self.assertTrue(self.wait_until(lambda: resident.laps > laps), "still there, not told to leave")

    def wait_until(self, condition):
        done = threading.Event()
        for _ in range(int(DEADLINE / 0.01)):
            if condition():
                return True
            done.wait(0.01)
        return condition()


@unittest.skipUnless(hasattr(os, "fork") and sys.version_info >= (3, 12), "os.fork() warns from Python 3.12")
@unittest.skipIf(sys.version_info[:2] == (3, 13), "3.13 counts threads its fork hooks start (python/cpython#137109)")
class TheProgramsFork(unittest.TestCase):
    def test_no_warning_about_loopscope_s_threads(self):
        program = "\n".join([
            "import os, sys, warnings",
            "from loopscope import timelimit",
            "timelimit.start()  # a resident thread, as under Loopscope",
            "warnings.simplefilter('always', DeprecationWarning)  # os.fork() clears an 'error' one",
            "pid = os.fork()",
            "if pid == 0:",
            "    os._exit(0)",
            "os.waitpid(pid, 0)",
            "print('forked without a warning')",
        ])
        run = subprocess.run([sys.executable, "-c", program], env=clean_environment(PYTHONPATH=RUNTIME),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=DEADLINE * 3)
        self.assertEqual(run.returncode, 0, run.stderr.decode())
        self.assertEqual(run.stdout, b"forked without a warning\n")
        self.assertEqual(run.stderr, b"", "no warning about a thread the program did not start")


if __name__ == "__main__":
    unittest.main()
