"""Runs a workload in-process with Loopscope's hooks installed as a debug session would configure
them, without the adapter: to time or profile the runtime's hot paths by themselves.

usage: python bench/tools/hook_profile.py [--mode plain|hooks|nowatch|stats|taskbp|funcbp|linebp] [--clock wall|frozen|virtual] [--profile] [--runtime DIR] WORKLOAD.py [ARGS...]
  plain   no hooks at all
  hooks   hooks installed, nothing watched (a session with no breakpoints)
  nowatch hooks, with loopBlockedWarnings false (no blocked-loop detection)
  stats   hooks, with stepStatistics "tasks" (per-task statistics)
  taskbp  hooks installed and a task-switch function breakpoint 'no-such-task' that never matches
  funcbp  hooks installed and a function breakpoint 'no_such_function', which also watches where
          functions of that name start (none is ever called)
  linebp  hooks installed and a line breakpoint in bench/fixtures/never_runs.py, which never runs
--clock sets the loop clock (default: a launch's default, frozen).
--runtime DIR takes the loopscope package from DIR (default: the repository's runtime/), to measure
a candidate change to the runtime side by side with the current one.
"""

import cProfile
import os
import pstats
import re
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NEVER_RUNS = os.path.join(ROOT, "bench", "fixtures", "never_runs.py")
MODES = ("plain", "hooks", "nowatch", "stats", "taskbp", "funcbp", "linebp")


def never_runs_line():
    """The line of never_runs.py marked `# @breakpoint`, where bench/sections/free.mjs sets it too."""
    with open(NEVER_RUNS, encoding="utf-8") as source:
        return next(number for number, text in enumerate(source, 1) if re.search(r"#.*@breakpoint\b", text))


def main(argv):
    mode, clock, profile, runtime = "hooks", None, False, os.path.join(ROOT, "runtime")
    while argv and argv[0].startswith("--"):
        flag = argv.pop(0)
        if flag == "--mode":
            mode = argv.pop(0)
        elif flag == "--clock":
            clock = argv.pop(0)
        elif flag == "--profile":
            profile = True
        elif flag == "--runtime":
            runtime = os.path.abspath(argv.pop(0))
        else:
            sys.exit("unknown option %s\n%s" % (flag, __doc__))
    if not argv or mode not in MODES:
        sys.exit(__doc__)
    sys.path.insert(1, runtime)  # [0] is the script directory, replaced by the workload's below
    if mode != "plain":
        from loopscope import instrument
        from loopscope.debugger import Debugger
        debugger = Debugger(lambda event, body: None)
        instrument.install(debugger)
        if mode in ("taskbp", "funcbp"):
            debugger.set_function_breakpoints([{"name": "no-such-task" if mode == "taskbp" else "no_such_function"}])
        elif mode == "linebp":
            debugger.set_line_breakpoints(NEVER_RUNS, [{"line": never_runs_line()}])
        settings = {"clock": clock} if clock else {}  # else the defaults of a launch (frozen clock)
        if mode == "nowatch":
            settings["loopBlockedWarnings"] = False
        elif mode == "stats":
            settings["stepStatistics"] = "tasks"
        debugger.start(settings)
    path = argv[0]
    sys.argv[:] = argv
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            runpy.run_path(path, run_name="__main__")
        finally:
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    else:
        runpy.run_path(path, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
