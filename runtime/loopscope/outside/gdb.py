"""Getting the attach ticket run inside a live CPython (3.8 and newer) with gdb, without debug info.

One gdb batch session attaches, decides, makes at most five calls in the target and detaches. The
target runs Python only at a point where the interpreter expects to run it:
  * gdb's calls are made only on a thread stopped inside a system call, the main thread first:
    there no lock of the allocator or the interpreter is half-taken, and every vector register is
    dead (a system call is a call in the C ABI). Running Python wherever a thread happened to stop,
    as debugpy's injector does, crashed 7-10 of 60 targets busy in module-level code.
  * the main thread blocked in a system call without the GIL (an idle select(), join(), sleep()):
    PyGILState_Ensure + PyRun_SimpleString + PyGILState_Release there, as a C callback would.
    Not if it is waiting for the GIL (inside take_gil, which PyGILState_Check cannot tell): taking
    the GIL again inside that wait hung until gdb gave up, 11 attaches in 12 to a main thread that
    joins a busy thread 1 ms at a time. Such a thread runs bytecode next: the pending call below.
  * anything else: Py_AddPendingCall(PyRun_SimpleString, code) from the thread picked, which the
    main thread runs at its next check of the eval breaker (microseconds when it runs bytecode).
  * no thread in a system call at all (a busy single-threaded program): a few retries, then the
    pending call is queued from the main thread where it stopped (three short calls).
gdb before 14 scrambles the AVX-512 registers of a thread it calls into on CPUs that lay them out
unlike Intel's (AMD Zen 4); given a target description without AVX-512 it leaves them alone.
gdb exits 0 whatever happened: its output says what did.
"""

import os
import re
import signal
import subprocess
import tempfile
import time

from ..vocabulary import InjectionFailure as Failure
from .failures import InjectionFailed

RETRIES = 3
RETRY_PAUSE = 0.01
TIMEOUT = 15.0
_HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_DESCRIPTION = os.path.join(_HERE, "amd64-linux-without-avx512.xml")
# Printed by the batch script; the rest of gdb's output is for failures.
_MARK = "LOOPSCOPE-INJECT"

_SCRIPT = r"""set pagination off
set confirm off
set width 0
set scheduler-locking off
set unwindonsignal on
set $pick = 0
set $n = 1
while $n <= $_inferior_thread_count
  eval "thread %d", $n
  if $pick == 0 && (long)$orig_rax >= 0
    set $pick = $n
  end
  set $n = $n + 1
end
thread 1
set $main_sys = (long)$orig_rax
if $pick == 0 && FORCE == 0
  printf "MARK ambiguous\n"
else
  if $pick == 0
    set $pick = 1
  end
  eval "thread %d", $pick
  set $init = (int)Py_IsInitialized()
  if $init == 0
    printf "MARK not-initialized\n"
  else
    set $held = 1
    if $pick == 1 && $main_sys >= 0
      set $held = (int)PyGILState_Check()
      if $held == 0 && !$_isvoid($loopscope_gil_probe)
        if $loopscope_waits_for_gil()
          set $held = 1
        end
      end
    end
    set $buf = (char*)mmap(0, 4096, 3, 0x22, -1, 0)
    set {char[SIZE]}$buf = "CODE"
    if $held
      set $rc = (int)Py_AddPendingCall((void*)PyRun_SimpleString, $buf)
      printf "MARK pending rc=%d thread=%d\n", $rc, $pick
    else
      set $g = (int)PyGILState_Ensure()
      set $rc = (int)PyRun_SimpleString($buf)
      call (void)PyGILState_Release($g)
      call (int)munmap($buf, 4096)
      printf "MARK direct rc=%d thread=%d\n", $rc, $pick
    end
  end
end
detach
quit
"""
# (pattern in gdb's output, reason, what to tell the user): gdb 13's texts, read with LC_ALL=C.
_FAILURES = (
    (r"ptrace: Operation not permitted", Failure.NOT_PERMITTED,
     "gdb may not attach to process {pid}: Loopscope needs the same user as the program (or root), a "
     "program that is dumpable, and no other debugger attached to it; where Yama restricts ptrace "
     "(/proc/sys/kernel/yama/ptrace_scope 1 or more), run as root or set it to 0."),
    (r"ptrace: No such process|Couldn't get registers: No such process|warning: process \d+ is a zombie",
     Failure.EXITED, "Process {pid} exited while Loopscope was attaching to it."),
    (r"The program being debugged exited while in a function called from GDB", Failure.EXITED,
     "Process {pid} exited while Loopscope was attaching to it."),
    (r'No symbol table is loaded|No symbol "Py\w+" in current context', Failure.NOT_PYTHON,
     "Process {pid} has no Python interpreter gdb can call into (no CPython C API among its symbols)."),
    (r"The program being debugged was signaled while in a function called from GDB", Failure.GDB_FAILED,
     "A signal interrupted Loopscope's call into process {pid}; gdb undid it. Try again."),
)


def injection_code(ticket_path):
    """The Python the target runs: the ticket script, in a namespace of its own (PyRun_SimpleString
    runs in __main__'s, where this binds no name), never raising (a pending call that fails would
    raise SystemError in the program)."""
    return ("try:\n exec(compile(__import__('io').open_code(%r).read(),%r,'exec'),{'__name__':'__loopscope_ticket__'})\n"
            "except BaseException:\n pass\n" % (ticket_path, ticket_path))


def _c_string(text):
    if '"' in text or "\\" in text or any(ord(c) < 32 and c != "\n" for c in text):
        raise InjectionFailed(Failure.GDB_FAILED, "The attach ticket's path %r cannot be handed to gdb: use a "
                                            "path without quotes, backslashes or control characters." % text)
    return text.replace("\n", "\\n")


# Whether the selected thread, stopped in a system call, waits on a futex inside _PyRuntime, where the
# interpreter keeps its GIL (3.8-3.15): a function in gdb's Python, by the symbol at the futex's address
# (no debug info needed; gdb without it cannot unwind libc's futex wait). Sourced from a file of its
# own before the batch script: a gdb without Python fails that file alone, $loopscope_gil_probe stays
# void, and the direct call is made then.
_WAITS_FOR_GIL_FUNCTION = r"""python
import gdb
class LoopscopeWaitsForGil(gdb.Function):
    def __init__(self):
        super().__init__("loopscope_waits_for_gil")
    def invoke(self):
        try:
            if int(gdb.parse_and_eval("$orig_rax")) != 202:
                return 0
            address = int(gdb.parse_and_eval("$rdi")) & 0xFFFFFFFFFFFFFFFF
            return 1 if gdb.execute("info symbol %d" % address, to_string=True).startswith("_PyRuntime ") else 0
        except gdb.error:
            return 0
LoopscopeWaitsForGil()
gdb.set_convenience_variable("loopscope_gil_probe", 1)
end
"""


def batch_script(ticket_path, force):
    code = injection_code(ticket_path)
    return (_SCRIPT.replace("MARK", _MARK).replace("FORCE", "1" if force else "0")
            .replace("SIZE", str(len(code.encode("utf-8")) + 1)).replace("CODE", _c_string(code)))


def needs_target_description(gdb):
    """gdb < 14 on a CPU with AVX-512 (see the module docstring)."""
    if os.uname().machine != "x86_64":
        return False
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            if " avx512f" not in cpuinfo.read():
                return False
    except OSError:
        return False
    return gdb_major_version(gdb) < 14


def gdb_major_version(gdb):
    try:
        output = subprocess.run([gdb, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, universal_newlines=True, timeout=10).stdout
        return int(re.search(r"(\d+)\.\d+", output.splitlines()[0]).group(1))
    except (OSError, subprocess.SubprocessError, AttributeError, IndexError, ValueError):
        return 0


def _run_batch(gdb, pid, scripts, tdesc, timeout):
    """gdb attached to pid, sourcing each of scripts in turn (an error ends only the script it is in)."""
    command = [gdb, "-nx", "-nh", "--batch", "--readnever", "-iex", "set debuginfod enabled off",
               "-iex", "set auto-load off"]
    if tdesc:
        command += ["-iex", "set tdesc filename " + TARGET_DESCRIPTION]
    command += ["-p", str(pid)]
    script_paths = []
    for script in scripts:
        handle, script_path = tempfile.mkstemp(prefix="loopscope-", suffix=".gdb")
        script_paths.append(script_path)
        with os.fdopen(handle, "w") as script_file:
            script_file.write(script)
        command += ["-x", script_path]
    # gdb's own Python must not see the user's (a broken PYTHONHOME breaks its start-up).
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["LC_ALL"] = "C"
    try:
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, env=env, universal_newlines=True)
        except OSError as error:
            raise InjectionFailed(Failure.NO_GDB, "gdb could not be run (%s). Install gdb (apt install gdb) to attach to "
                                        "Python %s; from Python 3.14 Loopscope attaches without it."
                              % (error, "3.8-3.13"))
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Never SIGKILL gdb while it is inside a call in the target: the target would return
            # into gdb's dummy frame with no one there and die. SIGINT makes gdb undo the call
            # (unwindonsignal) and go on to detach.
            process.send_signal(signal.SIGINT)
            try:
                output, _ = process.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                process.terminate()
                output, _ = process.communicate()
            raise InjectionFailed(Failure.TIMEOUT, "gdb did not finish with process %d within %.0f s; it was "
                                             "stopped and detached. gdb said:\n%s" % (pid, timeout, output[-2000:]))
    finally:
        for script_path in script_paths:
            os.unlink(script_path)
    return output


def _some_thread_sleeps(pid):
    """Whether a thread of pid is blocked (S or D) now: if all of them run, waiting for one to enter
    a system call is pointless (a busy pure-Python loop never does)."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return True  # let gdb say what is wrong
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in ("S", "D"):
                    return True
        except (OSError, IndexError):
            continue
    return False


def inject(pid, ticket_path, gdb="gdb", timeout=TIMEOUT):
    """Run the ticket in process pid. Returns 'direct' or 'pending' (how it went in); raises
    InjectionFailed with a reason and a sentence for the user."""
    if os.uname().machine != "x86_64":
        raise InjectionFailed(Failure.UNSUPPORTED, "Attaching by process id with gdb is implemented for x86-64 Linux only. "
                                             "Start the program with `python -m loopscope --listen` instead.")
    tdesc = needs_target_description(gdb)
    for attempt in range(RETRIES + 1):
        force = attempt == RETRIES or not _some_thread_sleeps(pid)
        output = _run_batch(gdb, pid, (_WAITS_FOR_GIL_FUNCTION, batch_script(ticket_path, force)), tdesc, timeout)
        match = re.search(r"%s (\S+)(.*)" % _MARK, output)
        if match is None:
            for pattern, reason, message in _FAILURES:
                if re.search(pattern, output):
                    raise InjectionFailed(reason, message.format(pid=pid))
            raise InjectionFailed(Failure.GDB_FAILED, "gdb could not run Loopscope's bootstrap in process %d. gdb said:\n%s"
                                  % (pid, output[-2000:]))
        kind = match.group(1)
        if kind == "ambiguous":
            time.sleep(RETRY_PAUSE)
            continue
        if kind == "not-initialized":
            raise InjectionFailed(Failure.NOT_INITIALIZED, "The Python interpreter of process %d is starting up or "
                                                     "shutting down. Try again once it runs." % pid)
        code = re.search(r"rc=(-?\d+)", match.group(2))
        if code is None or code.group(1) != "0":
            raise InjectionFailed(Failure.GDB_FAILED, "Loopscope's call into process %d failed (%s). gdb said:\n%s"
                                  % (pid, match.group(0), output[-2000:]))
        return kind
    raise InjectionFailed(Failure.GDB_FAILED, "No thread of process %d could take Loopscope's bootstrap." % pid)
