"""The attach helper the adapter runs, as the program's own interpreter (the same minor version,
which sys.remote_exec and the 3.14+ memory reader need), isolated from the user's environment:

    PYTHON -I -S .../loopscope/outside/cli.py inject PID [--gdb GDB] [--method auto|gdb|remote_exec]

reads the attach's settings from stdin as JSON (port, token, protocolVersion: never on the command
line, which other users can read), writes the ticket (tickets.py), gets it run, and prints one JSON
line, protocol.json's InjectionResult.

    PYTHON -I -S .../loopscope/outside/cli.py task-tree PID

prints the threads, loops and tasks of a 3.14+ program read from outside (task_tree.py), as one
JSON line: {"ok": true, "threads": [...], "tasks": [...]} or {"ok": false, "message": ...}.
Both exit 0 (2 for bad usage).
"""

import json
import os
import sys
import time

_RUNTIME = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]  # this directory's modules are imported as loopscope.outside.*, never bare
sys.path.insert(0, _RUNTIME)

from loopscope.outside import gdb, remote_exec, task_tree, tickets  # noqa: E402
from loopscope.outside.failures import InjectionFailed  # noqa: E402
from loopscope.vocabulary import InjectionFailure as Failure  # noqa: E402

USAGE = "usage: cli.py inject PID [--gdb GDB] [--method auto|gdb|remote_exec] < SETTINGS.json | cli.py task-tree PID"


def inject(pid, settings, gdb_path="gdb", method="auto"):
    """protocol.json's InjectionResult for getting a ticket with settings run in process pid."""
    started = time.monotonic()
    ticket = None
    try:
        ticket = _ticket(pid, settings)
        if method in ("auto", "remote_exec") and remote_exec.available():
            if remote_exec.inject(pid, ticket):
                return _done("remote_exec", started)
            if method == "remote_exec":
                raise InjectionFailed(Failure.TIMEOUT, "The main thread of process %d did not run the attach script "
                                                       "(it waits in a call that a kick does not interrupt)." % pid)
        kind = gdb.inject(pid, ticket, gdb_path)
        return _done("gdb " + kind, started)
    except InjectionFailed as failure:
        if ticket is not None:
            tickets.discard(ticket)
        reason, message = failure.reason, failure.message
        if reason == Failure.NOT_PERMITTED and not _alive(pid):
            reason, message = Failure.EXITED, "Process %d exited while Loopscope was attaching to it." % pid
        return {"ok": False, "reason": reason, "message": message, "seconds": time.monotonic() - started}


def _ticket(pid, settings):
    try:
        uid = tickets.owner(pid)
    except (OSError, AttributeError):
        raise InjectionFailed(Failure.EXITED, "There is no process %d (any more)." % pid)
    if os.getuid() not in (0, uid):
        raise InjectionFailed(Failure.NOT_PERMITTED, (
            "Process %d belongs to user %d and Loopscope runs as user %d: attach as that user, or as root."
            % (pid, uid, os.getuid())))
    try:
        return tickets.write(pid, settings)
    except (OSError, tickets.privatefiles.UnsafeDirectory) as error:
        raise InjectionFailed(Failure.NOT_PERMITTED, "Loopscope could not write the attach ticket: %s" % error)


def read_task_tree(pid):
    try:
        return dict(task_tree.read(pid), ok=True)
    except ImportError:
        return {"ok": False, "message": "Python %d.%d cannot read another process's tasks (3.14 and newer can)."
                % sys.version_info[:2]}
    except PermissionError:
        return {"ok": False, "message": "This user may not read the memory of process %d: the same user as the program "
                                        "(or root) is needed, and Yama's ptrace_scope may restrict it further." % pid}
    except (OSError, RuntimeError, ValueError) as error:
        return {"ok": False, "message": "Loopscope could not read process %d from outside: %s" % (pid, error)}


def _done(method, started):
    return {"ok": True, "method": method, "seconds": time.monotonic() - started}


def _alive(pid):
    """ptrace says "Operation not permitted" for an exiting or zombie process too."""
    try:
        with open("/proc/%d/status" % pid) as status:
            return "\nState:\tZ" not in status.read()
    except OSError:
        return False


def main(argv):
    options = {"--gdb": "gdb", "--method": "auto"}
    words = []
    index = 0
    while index < len(argv):
        if argv[index] in options and index + 1 < len(argv):
            options[argv[index]] = argv[index + 1]
            index += 2
        else:
            words.append(argv[index])
            index += 1
    if len(words) != 2 or words[0] not in ("inject", "task-tree") or not words[1].isdigit():
        sys.stderr.write(USAGE + "\n")
        return 2
    if words[0] == "task-tree":
        sys.stdout.write(json.dumps(read_task_tree(int(words[1]))) + "\n")
        return 0
    try:
        settings = json.loads(sys.stdin.read())
    except ValueError as error:
        sys.stderr.write("the settings on stdin are not JSON: %s\n" % error)
        return 2
    result = inject(int(words[1]), settings, options["--gdb"], options["--method"])
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
