"""timelimit.py: the time limit on reprs and evaluate, including where a trace function cannot
help (inside a trace callback, where a line-breakpoint stop is served). Each case runs in a child
interpreter with a deadline, so a limit that fails shows as a failure, not a hung suite."""

import subprocess
import sys
import textwrap
import unittest

from runtime_support import DEADLINE, RUNTIME

PRELUDE = textwrap.dedent("""
    import sys, threading
    sys.path.insert(0, %r)
    from loopscope.timelimit import TimeLimitExceeded, run_limited

    def endless():
        while True:
            pass

    def stubborn():
        while True:
            try:
                while True:
                    pass
            except Exception:  # TimeLimitExceeded is not an Exception: this does not keep it
                pass

    def limited(function):
        try:
            run_limited(0.2, function)
        except TimeLimitExceeded:
            return "stopped"
        return "returned"
""") % RUNTIME


def run_child(body):
    completed = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(body)], capture_output=True,
                               text=True, timeout=DEADLINE)
    if completed.returncode != 0:
        raise AssertionError("child failed (%d):\n%s" % (completed.returncode, completed.stderr))
    return completed.stdout.split()


class TimeLimit(unittest.TestCase):
    def test_stops_an_endless_loop_and_one_that_catches_exception(self):
        self.assertEqual(run_child("print(limited(endless), limited(stubborn), limited(lambda: 42))"),
                         ["stopped", "stopped", "returned"])

    def test_stops_code_run_from_inside_a_trace_function(self):
        # A stop at a line breakpoint is served from the trace callback, where tracing is off.
        body = """
            outcome = []
            def tracer(frame, event, arg):
                if event == "call" and frame.f_code.co_name == "target" and not outcome:
                    outcome.append(limited(endless))
                return None
            def target():
                return 1
            sys.settrace(tracer)
            target()
            sys.settrace(None)
            print(outcome[0])
        """
        self.assertEqual(run_child(body), ["stopped"])

    def test_nothing_is_left_pending_and_no_thread_is_listed(self):
        # After many limits fired, ordinary code runs on undisturbed, traced or not; the watchdog
        # thread is not one the program's threading module knows.
        body = """
            outcomes = {limited(stubborn) for _ in range(5)}
            sys.settrace(lambda *a: None)
            total = sum(len(str(i)) for i in range(200000))
            sys.settrace(None)
            print(sorted(outcomes)[0], total, threading.active_count())
        """
        self.assertEqual(run_child(body), ["stopped", "1088890", "1"])


if __name__ == "__main__":
    unittest.main()
