"""subProcess: which child command lines run under the runtime, and how (subprocesses.py); a child's
token; and `-c CODE`, which multiprocessing's spawn uses, run as python -c runs it."""

import hashlib
import hmac
import os
import sys
import unittest

from runtime_support import RUNTIME, clean_environment, run
from loopscope import subprocesses

PYTHON = sys.executable
MAIN = os.path.join(RUNTIME, "loopscope", "__main__.py")


class ChildCommandLines(unittest.TestCase):
    def setUp(self):
        subprocesses._Settings.address = "127.0.0.1:4242"
        self.connect = [MAIN, "--connect", "127.0.0.1:4242"]

    def rewritten(self, *args):
        return subprocesses.child_arguments([PYTHON] + list(args), PYTHON)

    def test_a_script_keeps_its_arguments_and_interpreter_options(self):
        self.assertEqual(self.rewritten("app.py", "-v", "x"), [PYTHON] + self.connect + ["--", "app.py", "-v", "x"])
        self.assertEqual(self.rewritten("-u", "-B", "app.py"), [PYTHON, "-u", "-B"] + self.connect + ["--", "app.py"])
        self.assertEqual(self.rewritten("-Bs", "-OO", "app.py"), [PYTHON, "-B", "-s", "-O", "-O"] + self.connect + ["--", "app.py"])
        self.assertEqual(self.rewritten("-W", "ignore", "-Xdev", "app.py"),
                         [PYTHON, "-Wignore", "-Xdev"] + self.connect + ["--", "app.py"])
        self.assertEqual(self.rewritten("--", "-odd-name.py"), [PYTHON] + self.connect + ["--", "-odd-name.py"])

    def test_module_and_code(self):
        self.assertEqual(self.rewritten("-m", "pkg.tool", "a"), [PYTHON] + self.connect + ["-m", "pkg.tool", "a"])
        self.assertEqual(self.rewritten("-mpkg"), [PYTHON] + self.connect + ["-m", "pkg"])
        self.assertEqual(self.rewritten("-B", "-c", "print(1)", "--flag"), [PYTHON, "-B"] + self.connect + ["-c", "print(1)", "--flag"])
        self.assertEqual(self.rewritten("-Bc", "print(1)"), [PYTHON, "-B"] + self.connect + ["-c", "print(1)"])

    def test_multiprocessing_spawn_is_a_child_its_helpers_are_not(self):
        spawn = "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7)"
        self.assertEqual(self.rewritten("-s", "-c", spawn, "--multiprocessing-fork"),
                         [PYTHON, "-s"] + self.connect + ["-c", spawn, "--multiprocessing-fork"])
        self.assertIsNone(self.rewritten("-c", "from multiprocessing.resource_tracker import main;main(5)"))
        self.assertIsNone(self.rewritten("-c", "from multiprocessing.forkserver import main; main(1, 2)"))

    def test_children_left_alone_say_why(self):
        for args, why in ((["-i", "app.py"], "-i (interactive)"), (["-I", "app.py"], "-I (isolated mode)"),
                          (["-x", "app.py"], "-x (skip the first line)"), (["-"], "no script"), ([], "no script"),
                          (["--check-hash-based-pycs", "always", "app.py"], "--check-hash-based-pycs")):
            self.assertIsNone(self.rewritten(*args), args)
            self.assertIn(why, subprocesses.child_arguments.why, args)

    def test_only_this_interpreter(self):
        self.assertIsNone(subprocesses.child_arguments(["/bin/echo", "app.py"], "/bin/echo"))
        self.assertIsNone(subprocesses.child_arguments(["python", "app.py"], None))
        link = os.path.realpath(PYTHON)
        self.assertIsNotNone(subprocesses.child_arguments([link, "app.py"], link), "the same file by another name")

    def test_bytes_arguments(self):
        rewritten = subprocesses.child_arguments([os.fsencode(PYTHON), b"app.py", b"\xff"], os.fsencode(PYTHON))
        self.assertEqual(rewritten[-2:], ["app.py", b"\xff"])

    def test_each_child_gets_its_own_token_made_from_the_key(self):
        subprocesses._Settings.key = b"k" * 64
        environment = subprocesses._environment_list([b"LOOPSCOPE_TOKEN=stale", b"HOME=/home/x"])
        variables = dict(entry.split(b"=", 1) for entry in environment)
        self.assertEqual(variables[b"HOME"], b"/home/x")
        nonce, token = variables[b"LOOPSCOPE_NONCE"], variables[b"LOOPSCOPE_TOKEN"]
        self.assertEqual(token.decode(), hmac.new(b"k" * 64, nonce, hashlib.sha256).hexdigest())
        again = dict(entry.split(b"=", 1) for entry in subprocesses._environment_list(None))
        self.assertNotEqual(again[b"LOOPSCOPE_NONCE"], nonce)
        self.assertEqual(sum(1 for entry in environment if entry.startswith(b"LOOPSCOPE_TOKEN=")), 1)


class CodeOnTheCommandLine(unittest.TestCase):
    def test_runs_as_python_c(self):
        code = "import sys; print(sys.argv, repr(sys.path[0]), __name__, '__file__' in globals()); sys.exit(7)"
        plain = run([PYTHON, "-c", code, "a", "b"], env=clean_environment())
        loopscope = run([PYTHON, MAIN, "-c", code, "a", "b"], env=clean_environment())
        self.assertEqual(loopscope.returncode, 7)
        self.assertEqual(loopscope.stdout, plain.stdout)
        self.assertEqual(loopscope.stdout.decode().split()[:2], ["['-c',", "'a',"])

    def test_an_uncaught_exception_is_reported_as_python_c_reports_it(self):
        code = "raise ValueError('boom')"
        plain = run([PYTHON, "-c", code], env=clean_environment())
        loopscope = run([PYTHON, MAIN, "-c", code], env=clean_environment())
        self.assertEqual((loopscope.returncode, loopscope.stderr), (plain.returncode, plain.stderr))


if __name__ == "__main__":
    unittest.main()
