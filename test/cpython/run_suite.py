#!/usr/bin/env python3
"""CPython's own test_asyncio as a peer suite for Loopscope's runtime (issue #5).

For each supported CPython (test/supported_pythons.py) under $(pyenv root)/versions, runs `python -m test` on test_asyncio
(-j2, --timeout 300, --junit-xml for per-test outcomes) in three modes:

  plain  the interpreter as it is;
  free   every event loop instrumented, a debugger.Debugger listening, the per-handle hook on
         (a function breakpoint that never matches), as in a debug session while it runs;
  hold   every loop held at every iteration boundary by the Debugger and released from another
         thread, as by a user pressing Step Loop Iteration (see loopscope_site.py).

The instrumented modes put a temporary directory on PYTHONPATH holding loopscope_site.py as
sitecustomize.py and a snapshot of the runtime, so the -j workers (and any Python the tests start)
are instrumented too. test_asyncio's modules are passed one by one, so that 3.8-3.10 run them on
both workers as 3.11+ do by themselves.

Fails (exit 1) if a test or module that passes plain fails instrumented (unless a rerun of just that
test, plain and instrumented, passes again: then it is reported as flaky; --strict fails on those
too), if the runtime recorded a problem (a hook that raised, an event or response that breaks
protocol.json, a request that failed, an event from a forked child), if the instrumentation did not
reach the tests, or if no interpreter was found. Tests in hold_allowlist.txt may fail in hold mode
only, each for the reason written there. A module that newly "changed the environment" is a warning.

  python3 test/cpython/run_suite.py                      all versions, whole test_asyncio (npm run test:cpython)
  python3 test/cpython/run_suite.py --ci                 CI's selection (npm run test:cpython:ci): the whole
                                                         suite on the newest, PER_VERSION_MODULES on the others
  python3 test/cpython/run_suite.py --quick              test_tasks, test_base_events, test_events
  python3 test/cpython/run_suite.py --quick --versions 3.12
  python3 test/cpython/run_suite.py --versions 3.11,3.13 --modes plain,hold
  python3 test/cpython/run_suite.py --runtime /tmp/loopscope-copy/runtime   (a patched copy)
"""

import argparse
import collections
import fnmatch
import glob
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RUNTIME = os.path.join(REPO, "runtime")
SITE = os.path.join(HERE, "loopscope_site.py")
ALLOWLIST = os.path.join(HERE, "hold_allowlist.txt")

sys.path.insert(0, os.path.dirname(HERE))
import supported_pythons  # noqa: E402  (test/, for the supported range)

VERSIONS = tuple("%d.%d" % version for version in supported_pythons.supported())
MODES = ("plain", "free", "hold")
QUICK_MODULES = ("test_asyncio.test_tasks", "test_asyncio.test_base_events", "test_asyncio.test_events")
# --ci: the whole of test_asyncio on the newest CPython found, in every mode; on the others, the
# modules that exercise what Loopscope does differently per version (asyncio_internals.py), each
# where that version has it. Whatever is the same on every version is covered by the newest.
PER_VERSION_MODULES = collections.OrderedDict((
    ("test_tasks", "C and Python tasks: their bookkeeping, get_coro(), eager steps (3.12+), PY_TASKS_APART (3.14+)"),
    ("test_futures", "C and Python futures, their callbacks (how the await graph links waiters)"),
    ("test_taskgroups", "TaskGroup children (3.11+)"),
    ("test_eager_task_factory", "tasks that step inside create_task (3.12+)"),
    ("test_base_events", "_run_once, which the loop hooks wrap, as each version writes it"),
    ("test_unix_events", "fork and child watchers (the runtime's threads step aside for a fork; watchers up to 3.13)"),
    ("test_locks", "locks, events, conditions, semaphores: the blockers"),
    ("test_queues", "queues: the blockers"),
    ("test_waitfor", "wait_for, rewritten on timeouts in 3.12"),
    ("test_graph", "the call graph (3.14+) the snapshot must agree with"),
))
# ...and of test_tasks and test_futures only the pure C and pure Python classes: the six other
# pairings (C tasks on Python futures, subclasses of each) test how asyncio's two implementations
# mix, the same for Loopscope on every version, and are most of test_tasks' time. regrtest -i.
PER_VERSION_IGNORED = ("*_SubclassTests", "CTaskSubclass_PyFuture_Tests", "PyTask_CFutureSubclass_Tests",
                       "CTask_PyFuture_Tests", "PyTask_CFuture_Tests", "CSubFuture*Tests")
# Started first so that the two workers finish together; the rest follow in name order.
SLOW_FIRST = ("test_events", "test_tasks", "test_subprocess", "test_ssl", "test_sslproto", "test_base_events",
              "test_sendfile", "test_streams", "test_unix_events", "test_futures", "test_taskgroups")
# regrtest's --timeout, per test module: it is there to catch a hang. test_tasks alone takes some
# 100 s held at every iteration on a loaded 2-core machine.
TIMEOUT = 300
RUN_LIMIT = 45 * 60  # seconds for one regrtest run, well past the per-module --timeout

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


# --- finding interpreters and tests -----------------------------------------------------------

def pyenv_root():
    try:
        out = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def find_pythons(wanted):
    """{minor: (full version, python path)}, the newest patch release of each wanted minor."""
    root = pyenv_root()
    found = {}
    for path in glob.glob(os.path.join(root, "versions", "*", "bin", "python3")):
        name = os.path.basename(os.path.dirname(os.path.dirname(path)))
        match = re.match(r"^(3\.\d+)\.(\d+)$", name)
        if not match or match.group(1) not in wanted or not os.access(path, os.X_OK):
            continue
        key = tuple(int(p) for p in name.split("."))
        if match.group(1) not in found or key > found[match.group(1)][2]:
            found[match.group(1)] = (name, path, key)
    return root, {minor: (name, path) for minor, (name, path, _key) in found.items()}


def asyncio_modules(python):
    """test_asyncio's test modules, named so that regrtest runs each in its own worker job."""
    code = ("import os, test.test_asyncio as t; d = os.path.dirname(t.__file__); "
            "print('\\n'.join(sorted(f[:-3] for f in os.listdir(d) if f.startswith('test_') and f.endswith('.py'))))")
    out = subprocess.run([python, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError("cannot list test_asyncio with %s: %s" % (python, out.stderr.strip()[-500:]))
    names = out.stdout.split()
    order = {name: index for index, name in enumerate(SLOW_FIRST)}
    names.sort(key=lambda n: (order.get(n, len(order)), n))
    return ["test_asyncio." + n for n in names]


# --- running regrtest --------------------------------------------------------------------------

def make_site(workdir, runtime):
    """PYTHONPATH directory: sitecustomize.py and a snapshot of the runtime package."""
    site = os.path.join(workdir, "site")
    os.makedirs(site)
    shutil.copy(SITE, os.path.join(site, "sitecustomize.py"))
    shutil.copytree(os.path.join(runtime, "loopscope"), os.path.join(site, "loopscope"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return site


def environment(mode, site, stats_dir, options):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("LOOPSCOPE_"):
            del env[name]
    if mode != "plain":
        env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH")) if p)
        env["LOOPSCOPE_CPYTHON_MODE"] = mode
        env["LOOPSCOPE_CPYTHON_STATS"] = stats_dir
        env["LOOPSCOPE_CPYTHON_INSPECT_EVERY"] = str(options.inspect_every)
        if options.filters:
            env["LOOPSCOPE_CPYTHON_FILTERS"] = options.filters
        env["LOOPSCOPE_CPYTHON_CLOCK"] = options.clock
    return env


def regrtest(python, modules, mode, rundir, site, options, matches=(), jobs=None, label=None, ignored=()):
    """Run python -m test once; returns a Run with per-test and per-module outcomes."""
    os.makedirs(rundir)
    stats_dir = os.path.join(rundir, "stats")
    os.makedirs(stats_dir)
    xml_path = os.path.join(rundir, "junit.xml")
    log_path = os.path.join(rundir, "output.txt")
    command = [python, "-m", "test", *modules, "-j%d" % (jobs or options.jobs), "--timeout", str(options.timeout),
               "--junit-xml", xml_path]
    for pattern in matches:
        command += ["-m", pattern]
    for pattern in ignored:
        command += ["-i", pattern]
    started = time.monotonic()
    cpu_before = _children_cpu()
    with open(log_path, "w") as log:
        log.write("$ %s\n" % " ".join(command))
        log.flush()
        process = subprocess.Popen(command, cwd=rundir, env=environment(mode, site, stats_dir, options),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                                   errors="replace", start_new_session=True)
        lines = []
        watchdog = threading.Timer(RUN_LIMIT, kill_tree, [process.pid])
        watchdog.daemon = True
        watchdog.start()
        try:
            for line in process.stdout:
                lines.append(line)
                log.write(line)
                if options.verbose:
                    sys.stdout.write("    [%s] %s" % (label or mode, line))
                    sys.stdout.flush()
            returncode = process.wait()
        except BaseException:  # Ctrl+C: take regrtest and its workers down too
            kill_tree(process.pid)
            raise
        finally:
            watchdog.cancel()
        if time.monotonic() - started >= RUN_LIMIT:
            lines.append("run_suite: killed after %d s\n" % RUN_LIMIT)
    return Run(mode, "".join(lines), xml_path, stats_dir, returncode, time.monotonic() - started, log_path,
               _children_cpu() - cpu_before)


def _children_cpu():
    """CPU seconds (user + system) of every finished child and grandchild so far: regrtest's workers
    are waited for by regrtest, so their time counts too. Unlike wall time, not stretched by a
    loaded machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def kill_tree(pid):
    """Kill regrtest and everything under it: its -j workers run in sessions of their own."""
    children = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as stream:
                    parent = int(stream.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children[parent].append(int(entry))
    doomed, todo = [], [pid]
    while todo:
        current = todo.pop()
        doomed.append(current)
        todo.extend(children.get(current, ()))
    for victim in doomed:
        try:
            os.kill(victim, 9)
        except OSError:
            pass


_PROGRESS = re.compile(r"\[\s*\d+/\d+(?:/\d+)?\] (test_asyncio(?:\.\w+)?) (.*)$")
_FAILURE_HEADER = re.compile(r"^(FAIL|ERROR|UNEXPECTED SUCCESS): (\S+) \(([\w.]+)\)")


class Run:
    def __init__(self, mode, output, xml_path, stats_dir, returncode, seconds, log_path, cpu_seconds):
        self.mode = mode
        self.output = output
        self.returncode = returncode
        self.seconds = seconds
        self.cpu_seconds = cpu_seconds
        self.log_path = log_path
        self.tests = {}                 # test id -> passed / failed / skipped
        self.modules = {}               # module -> passed / failed / crashed / skipped / env changed
        self.env_warnings = collections.defaultdict(list)  # module -> regrtest's "Warning -- ..." lines
        self._read_junit(xml_path)
        self._read_output(output)
        self.stats = read_stats(stats_dir)

    def _read_junit(self, path):
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError):
            return
        for case in root.iter("testcase"):
            name = case.get("name")
            if not name:
                continue  # started but never reported: a subtest failed (found in the output below)
            tags = {child.tag for child in case}
            if tags & {"failure", "error", "outcome"}:
                outcome = FAILED
            elif "skipped" in tags:
                outcome = SKIPPED
            else:
                outcome = PASSED
            if self.tests.get(name) != FAILED:
                self.tests[name] = outcome

    def _read_output(self, output):
        module = None
        for line in output.splitlines():
            match = _PROGRESS.search(line)
            if match:
                module = match.group(1)
                self.modules[module] = module_outcome(match.group(2))
                continue
            if line.startswith("Warning -- ") and module is not None:
                # thread idents and addresses differ from run to run; the rest tells what changed
                self.env_warnings[module].append(re.sub(r"\b(0x[0-9a-f]+|\d{6,})\b", "N", line[len("Warning -- "):]))
                continue
            match = _FAILURE_HEADER.match(line)
            if match:
                method, where = match.group(2), match.group(3)
                test_id = where if where.endswith("." + method) else "%s.%s" % (where, method)
                if not test_id.startswith("test."):
                    test_id = "test." + test_id
                self.tests[test_id] = FAILED

    def count(self, outcome):
        return sum(1 for value in self.tests.values() if value == outcome)

    def broken_modules(self):
        return sorted(m for m, o in self.modules.items() if o in ("failed", "crashed"))


def module_outcome(text):
    text = text.split(" -- ")[0]
    if "env changed" in text:
        return "env changed"
    if text.startswith("passed"):
        return "passed"
    if text.startswith("failed"):
        return "failed"
    if text.startswith(("skipped", "resource denied", "run no tests")):
        return "skipped"
    return "crashed"  # crashed, timed out, interrupted, worker non-zero exit code


def read_stats(stats_dir):
    totals = collections.Counter()
    problems = []
    processes = 0
    for path in glob.glob(os.path.join(stats_dir, "*")):
        if os.path.basename(path).startswith("activation-error"):
            with open(path) as stream:
                problems.append({"kind": "activation_failed", "detail": stream.read(), "test": None})
            continue
        try:
            with open(path) as stream:
                record = json.load(stream)
        except (OSError, ValueError):
            continue
        processes += 1
        totals.update(record["counts"])
        problems.extend(record["problems"])
    totals["processes"] = processes
    return {"counts": totals, "problems": problems}


# --- comparing ---------------------------------------------------------------------------------

def read_allowlist(path):
    """[(pattern, reason)]: 'TEST_ID_OR_GLOB: reason' lines; # starts a comment."""
    entries = []
    if not os.path.exists(path):
        return entries
    with open(path) as stream:
        for number, line in enumerate(stream, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            pattern, sep, reason = line.partition(":")
            if not sep or not reason.strip():
                raise SystemExit("%s:%d: every entry needs a reason: 'TEST_ID: reason'" % (path, number))
            entries.append((pattern.strip(), reason.strip()))
    return entries


def allowed(test_id, allowlist):
    for pattern, reason in allowlist:
        if fnmatch.fnmatchcase(test_id, pattern):
            return reason
    return None


def regressions(plain, other):
    """Tests that passed plain and fail here, and modules that passed plain but broke here."""
    tests = sorted(t for t, o in other.tests.items() if o == FAILED and plain.tests.get(t) == PASSED)
    modules = []
    for module in other.broken_modules():
        if plain.modules.get(module) in ("passed", "env changed", "skipped"):
            prefix = "test.%s." % module
            if not any(t.startswith(prefix) for t in tests):
                modules.append(module)
    return tests, modules


def module_of(test_id):
    parts = test_id.split(".")
    return ".".join(parts[1:3])


def confirm(python, tests, mode, workdir, site, options):
    """Rerun just these tests, plain and in mode: {test: (outcome plain, outcome in mode)}."""
    by_module = collections.defaultdict(list)
    for test in tests:
        by_module[module_of(test)].append(test)
    modules = sorted(by_module)
    patterns = sorted(tests)
    results = {}
    runs = {}
    for which in ("plain", mode):
        runs[which] = regrtest(python, modules, which, os.path.join(workdir, "confirm-%s-%s" % (mode, which)), site,
                               options, matches=patterns, jobs=1, label="confirm " + which)
    for test in tests:
        results[test] = tuple(runs[w].tests.get(test, "not run (module %s)" % runs[w].modules.get(module_of(test), "?"))
                              for w in ("plain", mode))
    return results


# --- reporting ---------------------------------------------------------------------------------

def human(n):
    if n >= 10 ** 6:
        return "%.1fM" % (n / 10 ** 6)
    if n >= 10 ** 4:
        return "%.0fk" % (n / 1000)
    return str(n)


def describe(run):
    counts = run.stats["counts"]
    crashed = [m for m, o in run.modules.items() if o == "crashed"]
    text = "%6d run %6d passed %4d failed %4d skipped  %3d modules (%d failed, %d crashed/timed out, %d env changed) %6.0f s (CPU %.0f s)" % (
        len(run.tests), run.count(PASSED), run.count(FAILED), run.count(SKIPPED), len(run.modules),
        sum(1 for o in run.modules.values() if o == "failed"), len(crashed),
        sum(1 for o in run.modules.values() if o == "env changed"), run.seconds, run.cpu_seconds)
    if run.mode == "free":
        text += "  | %d processes, %s loops, %s iterations, %s handles hooked" % (
            counts["processes"], human(counts["loops"]), human(counts["iterations"]), human(counts["handles"]))
    elif run.mode == "hold":
        text += "  | %d processes, %s loops, %s stops (%s quiet), %s inspections" % (
            counts["processes"], human(counts["loops"]), human(counts["stops"]), human(counts["quiet_holds"]),
            human(counts["inspections"]))
    return text


def sanity(run):
    """Reasons to believe the instrumentation did not reach the tests."""
    counts = run.stats["counts"]
    if run.mode == "plain":
        return []
    reasons = []
    if counts["processes"] == 0:
        reasons.append("no instrumented process wrote its statistics (is sitecustomize.py being imported?)")
    elif counts["loops"] == 0:
        reasons.append("the hooks saw no event loop")
    elif run.mode == "free" and counts["handles"] == 0:
        reasons.append("the per-handle hook never ran")
    elif run.mode == "hold" and counts["stops"] == 0:
        reasons.append("no loop was ever held")
    return reasons


def main():
    # Stopped from outside (a CI timeout, kill): unwind, so regrtest and its workers are killed too.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(128 + signal.SIGTERM))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only %s" % ", ".join(QUICK_MODULES))
    parser.add_argument("--ci", action="store_true",
                        help="what CI runs (npm run test:cpython:ci): the whole of test_asyncio on the newest CPython "
                             "found, and on every other one the modules that exercise what differs per version: %s"
                             % ", ".join(PER_VERSION_MODULES))
    parser.add_argument("--versions", help="comma-separated minor versions, e.g. 3.11,3.12 (default: %s)" % supported_pythons.label())
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated, from plain,free,hold")
    parser.add_argument("--tests", nargs="+", metavar="MODULE", help="test modules, e.g. test_asyncio.test_locks")
    parser.add_argument("--jobs", type=int, default=2, help="regrtest -j (default 2)")
    parser.add_argument("--timeout", type=int, default=TIMEOUT,
                        help="regrtest --timeout per test module (default %d)" % TIMEOUT)
    parser.add_argument("--runtime", default=RUNTIME, help="directory holding the loopscope package (default: the repo's)")
    parser.add_argument("--inspect-every", type=int, default=25,
                        help="hold mode: ask for the stack and locals at every Nth stop (0: never; default 25)")
    parser.add_argument("--filters", default="", help="also set these task filters, e.g. taskCreated (experiment)")
    parser.add_argument("--clock", default="frozen", choices=("frozen", "wall", "virtual"),
                        help="the loop clock the session asks for (default: frozen, as launch.json's default)")
    parser.add_argument("--allowlist", default=ALLOWLIST)
    parser.add_argument("--no-confirm", action="store_true", help="do not rerun regressed tests to tell flaky ones")
    parser.add_argument("--strict", action="store_true", help="fail on regressions even if a rerun passes")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, junit files)")
    parser.add_argument("--verbose", action="store_true", help="stream regrtest's output")
    options = parser.parse_args()

    modes = [m.strip() for m in options.modes.split(",") if m.strip()]
    if not modes or any(m not in MODES for m in modes):
        parser.error("--modes takes a comma-separated list from %s" % ",".join(MODES))
    if "plain" not in modes:
        modes.insert(0, "plain")  # the baseline every comparison needs
    modes.sort(key=MODES.index)
    wanted = VERSIONS
    if options.versions:
        wanted = tuple(v.strip() for v in options.versions.split(",") if v.strip())
        unknown = [v for v in wanted if v not in VERSIONS]
        if unknown:
            parser.error("--versions: %s not among %s" % (", ".join(unknown), ",".join(VERSIONS)))
    if options.ci and (options.quick or options.tests):
        parser.error("--ci chooses the test modules itself: leave out --quick and --tests")
    if not os.path.isdir(os.path.join(options.runtime, "loopscope")):
        parser.error("--runtime %s holds no loopscope package" % options.runtime)
    allowlist = read_allowlist(options.allowlist)

    root, pythons = find_pythons(wanted)
    for minor in wanted:
        if minor not in pythons:
            print("note: no CPython %s under %s/versions; skipping it" % (minor, root))
    if not pythons:
        print("FAIL: no CPython %s found under %s/versions" % (", ".join(wanted), root))
        return 1

    ordered = sorted(pythons, key=lambda v: tuple(int(p) for p in v.split(".")))
    whole = set(ordered) if not options.ci else {ordered[-1]}
    if options.ci:
        others = [v for v in ordered if v not in whole]
        print("CI selection: the whole of test_asyncio on %s (the newest found), in every mode; on %s, the modules "
              "that exercise what Loopscope does differently per version, where that version has them:"
              % (ordered[-1], ", ".join(others) or "no other version"))
        for name, why in PER_VERSION_MODULES.items():
            print("  %-24s %s" % (name, why))
        print("  leaving out the classes that mix C and Python tasks and futures or subclass them (%s): "
              "how asyncio's two implementations mix is the same for Loopscope on every version"
              % ", ".join(PER_VERSION_IGNORED))
        print("The full run on every version is `npm run test:cpython` (no --ci).")
    workdir = tempfile.mkdtemp(prefix="loopscope-cpython-")
    site = make_site(workdir, options.runtime)
    print("Loopscope runtime snapshot from %s; work directory %s" % (options.runtime, workdir))
    failures = []                                   # lines that fail the run
    regressed = collections.OrderedDict()           # (mode, test, verdict) -> [version]
    problems = collections.OrderedDict()            # (mode, kind, detail) -> {versions, tests, traceback}
    summary = []
    began = time.monotonic()
    for minor in ordered:
        version, python = pythons[minor]
        try:
            ignored = ()
            if options.tests or options.quick:
                modules = list(options.tests or QUICK_MODULES)
            elif minor in whole:
                modules = asyncio_modules(python)
            else:
                modules = [m for m in asyncio_modules(python) if m.split(".")[1] in PER_VERSION_MODULES]
                ignored = PER_VERSION_IGNORED
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            failures.append("%s: %s" % (version, error))
            print("FAIL %s" % error)
            continue
        print("\n== CPython %s (%s): %d test modules%s, -j%d --timeout %d" % (
            version, python, len(modules), " (some classes left out)" if ignored else "", options.jobs, options.timeout))
        runs = {}
        for mode in modes:
            run = regrtest(python, modules, mode, os.path.join(workdir, version, mode), site, options,
                           ignored=ignored)
            runs[mode] = run
            print("  %-5s %s" % (mode, describe(run)))
            summary.append((version, mode, run))
            if not run.tests:
                failures.append("%s %s: no test results at all (see %s)" % (version, mode, run.log_path))
            for reason in sanity(run):
                failures.append("%s %s: %s" % (version, mode, reason))
        plain = runs["plain"]
        if plain.count(FAILED) or plain.broken_modules():
            print("  note: plain itself fails %d test(s); modules failing plain: %s (not counted against Loopscope)"
                  % (plain.count(FAILED), ", ".join(plain.broken_modules()) or "none"))
        for mode in modes[1:]:
            run = runs[mode]
            for item in run.stats["problems"]:
                entry = problems.setdefault((mode, item["kind"], item["detail"]),
                                            {"versions": [], "tests": [], "traceback": item.get("traceback")})
                if version not in entry["versions"]:
                    entry["versions"].append(version)
                if item.get("test") and item["test"] not in entry["tests"]:
                    entry["tests"].append(item["test"])
            if run.stats["problems"]:
                print("  %s: %d runtime problem(s) recorded by the hooks" % (mode, len(run.stats["problems"])))
            for module, outcome in sorted(run.modules.items()):
                if outcome == "env changed" and plain.modules.get(module) == "passed":
                    regressed.setdefault((mode, module, "env changed; not counted: %s" % (
                        "; ".join(run.env_warnings[module][:3]) or "see the log")), []).append(version)
            tests, broken = regressions(plain, run)
            for module in broken:
                failures.append("%s %s: module %s passed plain but %s (see %s)"
                                % (version, mode, module, run.modules[module], run.log_path))
            judged = {}
            for test in tests:
                reason = allowed(test, allowlist) if mode == "hold" else None
                if reason:
                    judged[test] = "allowed: " + reason
            rest = [t for t in tests if t not in judged]
            if rest and not options.no_confirm:
                print("  %s: %d test(s) passed plain and failed; rerunning just them, plain and %s..."
                      % (mode, len(rest), mode))
                for test, (again_plain, again_mode) in confirm(python, rest, mode, os.path.join(workdir, version),
                                                               site, options).items():
                    if again_mode == FAILED and again_plain == PASSED:
                        judged[test] = "failed again on rerun, plain passed"
                    elif again_plain != PASSED:
                        judged[test] = "flaky: on rerun plain %s, %s %s" % (again_plain, mode, again_mode)
                    else:
                        judged[test] = "flaky: passed on rerun"
            for test in tests:
                regressed.setdefault((mode, test, judged.get(test, "not rerun")), []).append(version)

    print("\n== Summary (%.0f s; CPU %.0f s)" % (time.monotonic() - began, sum(run.cpu_seconds for _v, _m, run in summary)))
    print("%-8s %-5s %6s %6s %6s %7s %6s %6s  %s" % ("version", "mode", "run", "passed", "failed", "skipped", "wall s",
                                                      "CPU s", "modules failed"))
    for version, mode, run in summary:
        print("%-8s %-5s %6d %6d %6d %7d %6.0f %6.0f  %s" % (
            version, mode, len(run.tests), run.count(PASSED), run.count(FAILED), run.count(SKIPPED), run.seconds,
            run.cpu_seconds, ", ".join(run.broken_modules()) or "-"))
    counted = 0
    for (mode, test, verdict), versions in regressed.items():
        line = "%s: %s passes plain, fails %s on %s (%s)" % (mode, test, mode, ", ".join(versions), verdict)
        if verdict.startswith("env changed"):
            line = "%s: %s passes plain, %s in %s mode on %s" % (mode, test, verdict, mode, ", ".join(versions))
        if verdict.startswith(("allowed", "env changed")) or (verdict.startswith("flaky") and not options.strict):
            print("warning: " + line)
        else:
            print("FAIL: " + line)
            counted += 1
    for (mode, kind, detail), entry in problems.items():
        counted += 1
        print("FAIL: %s: runtime problem %s on %s: %s\n      during %s%s" % (
            mode, kind, ", ".join(entry["versions"]), detail, ", ".join(entry["tests"][:5]) or "?",
            ("\n" + _indent(entry["traceback"])) if entry["traceback"] else ""))
    for line in failures:
        print("FAIL: " + line)
    counted += len(failures)
    if options.keep or counted or regressed:
        print("logs and junit files kept in %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if counted:
        print("\nFAILED: %d problem(s)" % counted)
        return 1
    print("\nOK: no test that passes plain fails with Loopscope instrumenting the loops")
    return 0


def _indent(text):
    return "\n".join("      " + line for line in text.rstrip().splitlines())


if __name__ == "__main__":
    sys.exit(main())
