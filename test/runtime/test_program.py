"""`python -m loopscope PROGRAM` (no --connect) must be indistinguishable from `python PROGRAM`:
same stdout, same stderr, same exit status, same argv/path/__file__/__name__ as seen by the program."""

import glob
import json
import os
import shutil
import signal
import sys
import tempfile
import unittest

from runtime_support import PROGRAMS, RUNTIME, clean_environment, finish, pyenv_root, run, start

PYTHON = sys.executable
MAIN_BY_PATH = os.path.join(RUNTIME, "loopscope", "__main__.py")
LAUNCH = os.path.join(os.path.dirname(os.path.dirname(PROGRAMS)), "launch")
SHADOWING = os.path.join(os.path.dirname(os.path.dirname(PROGRAMS)), "shadowing")


class FidelityTest(unittest.TestCase):
    maxDiff = None

    def plain_and_loopscope(self, args, cwd=PROGRAMS, by_path=False, **env):
        """Run args under plain Python and under Loopscope with the same environment and directory."""
        if by_path:
            base = clean_environment(**env)
            loopscope_argv = [PYTHON, MAIN_BY_PATH] + list(args)
        else:
            base = clean_environment(PYTHONPATH=RUNTIME, **env)
            loopscope_argv = [PYTHON, "-m", "loopscope"] + list(args)
        plain = start([PYTHON] + list(args), cwd=cwd, env=base)  # both at once: half the wall time
        ours = start(loopscope_argv, cwd=cwd, env=dict(base, LOOPSCOPE_CHECK_PROTOCOL="1"))
        return finish(plain), finish(ours)

    def assert_same(self, args, cwd=PROGRAMS, returncode=None, by_path=False, **env):
        plain, ours = self.plain_and_loopscope(args, cwd, by_path, **env)
        self.ours = ours
        what = " ".join(args)
        # three separate verdicts, so that a difference in one does not hide a difference in another
        with self.subTest("exit status", program=what):
            self.assertEqual(ours.returncode, plain.returncode, "exit status differs for %s" % what)
        with self.subTest("stdout", program=what):
            self.assertEqual(ours.stdout.decode(errors="replace"), plain.stdout.decode(errors="replace"),
                             "stdout differs for %s" % what)
        with self.subTest("stderr", program=what):
            self.assertEqual(ours.stderr.decode(errors="replace"), plain.stderr.decode(errors="replace"),
                             "stderr differs for %s" % what)
        if returncode is not None:
            self.assertEqual(plain.returncode, returncode, "the fixture itself misbehaves: %r" % (plain,))
        return plain

    def identity(self, args, cwd=PROGRAMS, by_path=False):
        plain = self.assert_same(args, cwd, returncode=0, by_path=by_path)
        return json.loads(plain.stdout.decode())


class ExitsAndErrors(FidelityTest):
    def test_normal_exit(self):
        plain = self.assert_same(["normal.py"], returncode=0)
        self.assertIn(b"done ['a', 'b']", plain.stdout)
        self.assertTrue(plain.stdout.endswith(b"unflushed tail without newline"))
        self.assertIn(b"b stderr 1", plain.stderr)

    def test_sys_exit(self):
        cases = [("top", "3", 3), ("task", "3", 3), ("task", "none", 0), ("task", "bye", 1)]
        for where, code, expected in cases:
            with self.subTest(where=where, code=code):
                plain = self.assert_same(["exits.py", where, code], returncode=expected)
                if code == "bye":
                    self.assertEqual(plain.stderr, b"bye\n")

    def test_uncaught_exception(self):
        plain = self.assert_same(["uncaught.py"], returncode=1)
        text = plain.stderr.decode()
        self.assertTrue(text.startswith("Traceback (most recent call last):"), text)
        self.assertIn("The above exception was the direct cause of the following exception", text)
        self.assertTrue(text.rstrip().endswith("ValueError: bad value 'x'"), text)
        ours = self.ours.stderr.decode()
        self.assertNotIn(os.sep + "loopscope" + os.sep, ours, "Loopscope's frames are in the traceback")
        self.assertNotIn("runpy", ours)
        self.assertEqual(ours.count("Traceback (most recent call last):"), 2)

    def test_uncaught_exception_absolute_path(self):
        self.assert_same([os.path.join(PROGRAMS, "uncaught.py")], cwd=tempfile.gettempdir(), returncode=1)

    def test_uncaught_exception_in_a_subdirectory(self):
        self.assert_same([os.path.join("programs", "uncaught.py")], cwd=os.path.dirname(PROGRAMS), returncode=1)

    def test_syntax_error(self):
        plain = self.assert_same(["syntax_error.py"], returncode=1)
        self.assertIn(b"SyntaxError", plain.stderr)
        self.assertEqual(plain.stdout, b"")

    def test_keyboard_interrupt(self):
        for args in (["keyboard_interrupt.py"], ["keyboard_interrupt.py", "task"]):
            with self.subTest(args=args):
                plain = self.assert_same(args, returncode=-signal.SIGINT)
                self.assertIn(b"KeyboardInterrupt", plain.stderr)
                self.assertEqual(plain.stdout, b"before the interrupt\n")


class HowTheProgramSeesItself(FidelityTest):
    def test_relative_script_with_arguments(self):
        seen = self.identity(["identity.py", "one", "--two", "-m", "x"])
        self.assertEqual(seen["argv"], ["identity.py", "one", "--two", "-m", "x"])
        self.assertEqual(seen["path0"], PROGRAMS)
        self.assertEqual(seen["name"], "__main__")
        self.assertTrue(seen["main_is_me"])

    def test_main_namespace(self):
        plain = self.assert_same(["main_module.py"], returncode=0)
        self.assertIn(b"builtins: module\n", plain.stdout)
        self.assertIn(b"names: ['sys']\n", plain.stdout)

    def test_module_form_namespace(self):
        """Nothing of Loopscope's own __main__ (os, sys, main) leaks into a -m program's globals."""
        plain = self.assert_same(["-m", "fixture_pkg.main_module"], returncode=0)
        self.assertIn(b"names: ['sys']\n", plain.stdout)

    def test_dot_slash_and_subdirectory(self):
        self.identity(["./identity.py"])
        self.identity([os.path.join(".", "programs", "..", "programs", "identity.py")], cwd=os.path.dirname(PROGRAMS))

    def test_absolute_script(self):
        self.identity([os.path.join(PROGRAMS, "identity.py")], cwd=tempfile.gettempdir())

    def test_symlinked_script(self):
        directory = tempfile.mkdtemp(prefix="loopscope-link-")
        self.addCleanup(shutil.rmtree, directory)
        os.symlink(os.path.join(PROGRAMS, "identity.py"), os.path.join(directory, "linked.py"))
        seen = self.identity(["linked.py", "arg"], cwd=directory)
        self.assertEqual(seen["path0"], PROGRAMS, "sys.path[0] is the real script's directory")
        self.assertTrue(seen["file"].endswith("linked.py"))

    def test_module_form(self):
        seen = self.identity(["-m", "fixture_pkg.identity", "a", "b"])
        self.assertEqual(seen["argv"][1:], ["a", "b"])
        self.assertEqual(seen["argv"][0], os.path.join(PROGRAMS, "fixture_pkg", "identity.py"))
        self.assertEqual(seen["path0"], PROGRAMS)
        self.assertEqual(seen["name"], "__main__")
        self.assertEqual(seen["spec"], "fixture_pkg.identity")

    def test_module_form_package_main(self):
        plain = self.assert_same(["-m", "fixture_pkg", "x"], returncode=4)
        self.assertEqual(plain.stdout, b"package main __main__ ['x']\n")

    def test_module_form_uncaught_exception(self):
        self.assert_same(["-m", "fixture_pkg.boom"], returncode=1)

    def test_directory_program(self):
        directory = tempfile.mkdtemp(prefix="loopscope-dir-")
        self.addCleanup(shutil.rmtree, directory)
        os.mkdir(os.path.join(directory, "app"))
        shutil.copy(os.path.join(PROGRAMS, "identity.py"), os.path.join(directory, "app", "__main__.py"))
        seen = self.identity(["app", "arg"], cwd=directory)
        self.assertEqual(seen["argv"], ["app", "arg"])

    def test_zip_program(self):
        import zipfile
        directory = tempfile.mkdtemp(prefix="loopscope-zip-")
        self.addCleanup(shutil.rmtree, directory)
        with zipfile.ZipFile(os.path.join(directory, "app.pyz"), "w") as archive:
            archive.write(os.path.join(PROGRAMS, "identity.py"), "__main__.py")
        seen = self.identity(["app.pyz", "arg"], cwd=directory)
        self.assertEqual(seen["argv"], ["app.pyz", "arg"])

    def test_uncaught_exception_in_a_directory_program(self):
        directory = tempfile.mkdtemp(prefix="loopscope-dir-")
        self.addCleanup(shutil.rmtree, directory)
        os.mkdir(os.path.join(directory, "app"))
        shutil.copy(os.path.join(PROGRAMS, "uncaught.py"), os.path.join(directory, "app", "__main__.py"))
        self.assert_same(["app"], cwd=directory, returncode=1)

    def test_started_by_path_like_the_adapter(self):
        """python .../loopscope/__main__.py PROGRAM, with nothing on PYTHONPATH."""
        seen = self.identity(["identity.py", "z"], by_path=True)
        self.assertEqual(seen["path0"], PROGRAMS)
        self.assertNotIn(RUNTIME, seen["path"])

    def test_token_is_not_visible(self):
        plain, ours = self.plain_and_loopscope(["environment.py"], LOOPSCOPE_TOKEN="secret-token-123")
        self.assertEqual(plain.returncode, 0)
        self.assertEqual(plain.stdout, b"self: secret-token-123\nenvironment block: secret-token-123\n"
                                       b"child: secret-token-123\n")
        self.assertEqual(ours.returncode, 0, ours.stderr)
        self.assertEqual(ours.stdout, b"self: None\nenvironment block: None\nchild: None\n")
        seen = self.identity(["identity.py"])
        self.assertEqual(seen["loopscope_env"], [])


class ModuleLaunch(FidelityTest):
    """`python .../loopscope/__main__.py -m MODULE`, as the adapter starts it, is `python -m MODULE`: the
    module is looked up with the working directory as sys.path[0], and the lookup (which runs the
    package's __init__) is the program's, after the runtime has taken its token."""

    def test_top_level_module_in_the_working_directory(self):
        plain = self.assert_same(["-m", "topmod", "a"], cwd=LAUNCH, returncode=0, by_path=True)
        self.assertIn(b"topmod __main__", plain.stdout)

    def test_module_of_a_package_in_the_working_directory(self):
        plain = self.assert_same(["-m", "pkg.main", "b"], cwd=LAUNCH, returncode=0, by_path=True)
        self.assertIn(b"pkg imported, argv ['-m', 'b']\n", plain.stdout, "python -m shows -m while it looks")

    def test_missing_module_of_a_package(self):
        plain = self.assert_same(["-m", "pkg.missing"], cwd=LAUNCH, returncode=1, by_path=True)
        self.assertIn(b"No module named pkg.missing", plain.stderr)

    def test_the_package_init_finds_no_token(self):
        plain, ours = self.plain_and_loopscope(["-m", "spy.main"], LAUNCH, by_path=True,
                                               LOOPSCOPE_TOKEN="secret-token-123")
        self.assertEqual(plain.stdout, b"spy: token found\nspy.main ran\n")
        self.assertEqual(ours.stdout, b"spy: token not found\nspy.main ran\n", ours.stderr)
        self.assertEqual(ours.returncode, 0)


class TheProgramsOwnModules(FidelityTest):
    """What the runtime imports for itself changes nothing that the program imports."""

    def test_modules_named_like_the_standard_library_and_loopscope(self):
        # Started from elsewhere: `python -m loopscope` in that directory would run its loopscope.py.
        for by_path in (True, False):
            with self.subTest(by_path=by_path):
                plain = self.assert_same([os.path.join(SHADOWING, "main.py")], cwd=tempfile.gettempdir(),
                                         returncode=3, by_path=by_path)
                for name in (b"ctypes", b"json", b"loopscope", b"queue", b"sysconfig", b"termios"):
                    self.assertIn(name + b" the program's\n", plain.stdout)

    def test_sys_modules_as_in_a_plain_run(self):
        """At the first line, after importing asyncio and after running a loop."""
        for args in (["imported_modules.py"], ["-m", "imported_modules"]):
            with self.subTest(args=args):
                self.assert_same(args, returncode=0, by_path=True)


class StartingProblems(unittest.TestCase):
    def test_program_not_found(self):
        env = clean_environment(PYTHONPATH=RUNTIME)
        ours = run([PYTHON, "-m", "loopscope", "no_such_program.py", "arg"], cwd=PROGRAMS, env=env)
        plain = run([PYTHON, "no_such_program.py", "arg"], cwd=PROGRAMS, env=env)
        self.assertEqual(ours.returncode, 2)
        self.assertEqual(plain.returncode, 2)
        message = ours.stderr.decode()
        self.assertIn("can't open file", message)
        self.assertIn("no_such_program.py", message)
        self.assertIn("No such file or directory", message)
        self.assertEqual(ours.stdout, b"")
        self.assertNotIn("Traceback", message)

    def test_module_not_found(self):
        env = clean_environment(PYTHONPATH=RUNTIME)
        ours = run([PYTHON, "-m", "loopscope", "-m", "no_such_module_xyz"], cwd=PROGRAMS, env=env)
        plain = run([PYTHON, "-m", "no_such_module_xyz"], cwd=PROGRAMS, env=env)
        self.assertEqual(ours.returncode, plain.returncode)
        self.assertIn("No module named no_such_module_xyz", ours.stderr.decode())
        self.assertNotIn("Traceback", ours.stderr.decode())

    def test_usage_errors(self):
        env = clean_environment(PYTHONPATH=RUNTIME)
        for args in ([], ["--bogus", "x.py"]):
            with self.subTest(args=args):
                ours = run([PYTHON, "-m", "loopscope"] + args, cwd=PROGRAMS, env=env)
                self.assertEqual(ours.returncode, 2)
                self.assertIn("usage:", ours.stderr.decode())

    def test_connect_without_token(self):
        env = clean_environment(PYTHONPATH=RUNTIME)
        ours = run([PYTHON, "-m", "loopscope", "--connect", "127.0.0.1:9", "normal.py"], cwd=PROGRAMS, env=env)
        self.assertEqual(ours.returncode, 2)
        self.assertIn("LOOPSCOPE_TOKEN", ours.stderr.decode())
        self.assertEqual(ours.stdout, b"")

    def test_version(self):
        import loopscope
        ours = run([PYTHON, "-m", "loopscope", "--version"], env=clean_environment(PYTHONPATH=RUNTIME))
        self.assertEqual(ours.returncode, 0)
        self.assertEqual(ours.stdout.decode().strip(), "loopscope %s" % loopscope.__version__)

    def test_python_too_old(self):
        """Python 3.6/3.7 (and 2.7) get a clear message and exit 3, by path and with -m."""
        found = []
        for pattern in ("3.7*", "3.6*", "2.7*"):
            for version_dir in sorted(glob.glob(os.path.join(pyenv_root(), "versions", pattern))):
                for name in ("python3", "python2", "python"):
                    executable = os.path.join(version_dir, "bin", name)
                    if os.access(executable, os.X_OK):
                        found.append((os.path.basename(version_dir), executable))
                        break
        if not found:
            self.skipTest("no Python 3.6/3.7/2.7 under %s/versions" % pyenv_root())
        for version, executable in found:
            for argv, env in (([executable, MAIN_BY_PATH, "x.py"], clean_environment()),
                              ([executable, "-m", "loopscope", "x.py"], clean_environment(PYTHONPATH=RUNTIME))):
                with self.subTest(version=version, form=argv[1]):
                    old = run(argv, cwd=PROGRAMS, env=env)
                    message = old.stderr.decode()
                    self.assertEqual(old.returncode, 3, message)
                    self.assertIn("needs Python 3.8", message)
                    self.assertIn("Python %s" % version[:3], message)
                    self.assertNotIn("Traceback", message)
                    self.assertEqual(old.stdout, b"")


if __name__ == "__main__":
    unittest.main()
