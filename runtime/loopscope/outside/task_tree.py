"""A 3.14+ program's threads, event loops and tasks, read from outside without running anything in
it, the way `python -m asyncio pstree PID` reads them (_remote_debugging.RemoteUnwinder, through
process_vm_readv): for a program that does not let code in (PYTHON_DISABLE_REMOTE_DEBUG). Must run
as the program's own interpreter (the same minor version).

Known gaps of the reader: 3.14.10 lists only the main thread's tasks, and cuts the stack of a main
thread busy in a coroutine at that coroutine; 3.15 shows both.
"""

_LOOP_FUNCTIONS = ("BaseEventLoop.run_forever", "BaseEventLoop._run_once", "run_forever", "_run_once")


def _frame(info):
    line = getattr(info, "lineno", None)
    location = getattr(info, "location", None)
    if line is None and location is not None:
        line = getattr(location, "lineno", None)
    return {"function": info.funcname, "path": info.filename, "line": line or 0}


def _thread_name(pid, tid):
    try:
        with open("/proc/%d/task/%d/comm" % (pid, tid)) as comm:
            return comm.read().strip()
    except OSError:
        return "thread %d" % tid


def _threads(unwinder):
    """[(thread id, [FrameInfo])]: 3.14 gives (id, frames) pairs, 3.15 interpreters of ThreadInfos."""
    found = []
    for entry in unwinder.get_stack_trace():
        if hasattr(entry, "threads"):
            found.extend((thread.thread_id, thread.frame_info) for thread in entry.threads)
        elif hasattr(entry, "frame_info"):
            found.append((entry.thread_id, entry.frame_info))
        else:
            found.append((entry[0], entry[1]))
    return found


def read(pid):
    """{"threads": [...], "tasks": [...]} of process pid; raises what the reader raises."""
    from _remote_debugging import RemoteUnwinder
    try:
        unwinder = RemoteUnwinder(pid, all_threads=True)
    except TypeError:
        unwinder = RemoteUnwinder(pid)
    threads = []
    for tid, frames in _threads(unwinder):
        frames = [_frame(info) for info in frames]
        names = [frame["function"] for frame in frames]
        loop = None
        if any(name in _LOOP_FUNCTIONS for name in names):
            loop = "idle" if names and names[0].endswith("select") else "running"
        threads.append({"tid": tid, "name": _thread_name(pid, tid), "frames": frames, "loop": loop})
    tasks = []
    try:
        awaited = unwinder.get_all_awaited_by()
    except RuntimeError:  # "AsyncioDebug section not available": the program never imported asyncio
        awaited = []
    for per_thread in awaited:
        for task in per_thread.awaited_by:
            frames = [_frame(info) for coroutine in task.coroutine_stack for info in coroutine.call_stack]
            tasks.append({"id": task.task_id, "name": str(task.task_name), "thread": per_thread.thread_id,
                          "frames": frames, "awaitedBy": sorted({waiter.task_name for waiter in task.awaited_by
                                                                 if isinstance(waiter.task_name, int)})})
    return {"threads": threads, "tasks": tasks}
