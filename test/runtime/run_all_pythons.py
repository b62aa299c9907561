#!/usr/bin/env python3
"""Run the runtime's unittest suite under every supported CPython that pyenv has installed.

    python3 test/runtime/run_all_pythons.py [--jobs N] [--timeout S] [UNITTEST ARGS...]

Interpreters are found at $(pyenv root)/versions/*/bin/python3 (PYENV_ROOT, default ~/.pyenv);
without any there, the python3 on PATH is used. Each runs

    python -m unittest discover -s test/runtime -t test/runtime -p 'test_*.py'

from the repository root with PYTHONPATH=runtime and LOOPSCOPE_CHECK_PROTOCOL=1, two at a time.
(The top-level directory is test/runtime itself, not the repository: with `-t .` the module names
would start with `test.`, which is the standard library's regression-test package.)

Prints one line per interpreter as it finishes, a note for each supported version that is missing
(test/supported_pythons.py reads the range from protocol.json),
and the full output of every run that failed. Exits 1 if any run failed or none ran.
Extra arguments go to unittest (e.g. -k stack_trace, -v). Runs under any Python 3.
"""

import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# LOOPSCOPE_TEST_RUNTIME: test another copy of the runtime (e.g. with a proposed patch applied)
RUNTIME = os.path.abspath(os.environ.get("LOOPSCOPE_TEST_RUNTIME") or os.path.join(REPO, "runtime"))
sys.path.insert(0, os.path.dirname(HERE))
import supported_pythons  # noqa: E402  (test/, for the supported range)

WANTED = supported_pythons.supported()
PROBE = "import platform, sys; print(platform.python_implementation(), '%d.%d.%d' % sys.version_info[:3])"


def pyenv_root():
    return os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def identify(executable):
    """(implementation, 'X.Y.Z') of an interpreter, or None if it cannot be run."""
    try:
        output = subprocess.run([executable, "-I", "-c", PROBE], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, timeout=20, universal_newlines=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return (output[0], output[1]) if len(output) == 2 else None


def find_interpreters():
    """[(version tuple, 'X.Y.Z', path)] of the supported CPythons, oldest first, and where they came from."""
    candidates = sorted(glob.glob(os.path.join(pyenv_root(), "versions", "*", "bin", "python3")))
    source = "pyenv's versions folder"
    found = _usable(candidates)
    if not found:
        on_path = shutil.which("python3")
        source = "PATH"
        found = _usable([on_path] if on_path else [])
    return found, source


def origin(executable):
    """Where an interpreter came from, for reports: a Debian build that `npm run pythons` put into
    pyenv's folder (it leaves a marker listing its packages), a pyenv build, or the PATH's."""
    folder = os.path.dirname(os.path.dirname(executable))
    marker = os.path.join(folder, ".loopscope-pythons")
    if os.path.isfile(marker):
        with open(marker) as packages:
            first = packages.readline().split()
        return "Debian %s %s" % (first[0], first[1]) if len(first) >= 2 else "Debian build"
    if os.path.dirname(folder) == os.path.join(pyenv_root(), "versions"):
        return "pyenv build"
    return "python3 on PATH"


def _usable(paths):
    found = []
    seen = set()
    for path in paths:
        real = os.path.realpath(path)
        if real in seen or not os.access(path, os.X_OK):
            continue
        seen.add(real)
        identity = identify(path)
        if identity is None or identity[0] != "CPython":
            continue
        version = tuple(int(part) for part in re.findall(r"\d+", identity[1])[:3])
        if version[:2] in WANTED:
            found.append((version, identity[1], path))
    return sorted(found)


class Run:
    def __init__(self, version, label, executable):
        self.version = version
        self.label = label
        self.executable = executable
        self.output = ""
        self.returncode = None
        self.seconds = 0.0
        self.timed_out = False

    @property
    def passed(self):
        return self.returncode == 0 and not self.timed_out

    def summary(self):
        ran = re.findall(r"^Ran (\d+) tests? in", self.output, re.M)
        verdict = re.findall(r"^(OK|FAILED)(?: \((.*)\))?\s*$", self.output, re.M)
        counts = ""
        if verdict:
            counts = verdict[-1][1]
        tests = "%s tests" % ran[-1] if ran else "no test summary"
        if self.timed_out:
            return "TIMED OUT after %.0fs (%s so far)" % (self.seconds, tests)
        if self.passed:
            return "ok      %s%s in %.1fs" % (tests, " (%s)" % counts if counts else "", self.seconds)
        return "FAILED  %s%s in %.1fs (exit status %s)" % (tests, ": %s" % counts if counts else "", self.seconds,
                                                         self.returncode)


def run_suite(run, unittest_args, timeout):
    command = [run.executable, "-m", "unittest", "discover", "-s", os.path.join("test", "runtime"),
               "-t", os.path.join("test", "runtime"), "-p", "test_*.py"] + list(unittest_args)
    env = dict(os.environ)
    env["PYTHONPATH"] = RUNTIME
    env["LOOPSCOPE_CHECK_PROTOCOL"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTHONHOME", None)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.timed_out = True
        _kill_group(process)
        output, _ = process.communicate()
    except BaseException:
        _kill_group(process)
        raise
    run.seconds = time.monotonic() - started
    run.returncode = process.returncode
    run.output = output.decode("utf-8", "replace")
    return run


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the suite's own subprocesses too
    except OSError:
        process.kill()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("LOOPSCOPE_TEST_JOBS", "2")),
                        help="interpreters to run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds allowed per interpreter")
    options, unittest_args = parser.parse_known_args(argv)

    found, source = find_interpreters()
    present = {version[:2] for version, _, _ in found}
    print("Loopscope runtime tests: %d interpreter(s) from %s" % (len(found), source))
    for major, minor in WANTED:
        if (major, minor) not in present:
            print("skipped: CPython %d.%d not found" % (major, minor))
    if not found:
        print("FAILED: no CPython %s to run the tests with" % supported_pythons.label())
        return 1
    sys.stdout.flush()

    runs = [Run(version, label, path) for version, label, path in found]
    width = max(len(r.label) for r in runs)
    print_lock = threading.Lock()

    def one(run):
        run_suite(run, unittest_args, options.timeout)
        with print_lock:
            print("CPython %-*s  %s  [%s]" % (width, run.label, run.summary(), origin(run.executable)))
            sys.stdout.flush()
        return run

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        list(pool.map(one, runs))

    failed = [r for r in runs if not r.passed]
    for run in failed:
        print("\n" + "=" * 30 + " CPython %s: output " % run.label + "=" * 30)
        print(run.output.rstrip())
    print("\n%s: %d of %d interpreter(s) passed in %.1fs" % ("FAILED" if failed else "OK", len(runs) - len(failed),
                                                           len(runs), time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
