"""Where code is: a task's await chain, a thread's Python frames, and which of them are the user's.

Everything here only reads frames and coroutine attributes; nothing runs user code.
"""

import _thread
import gc
import inspect
import os
import site
import sys
import sysconfig
import threading
import types

from . import asyncio_internals as internals

_LOOPSCOPE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _library_dirs():
    """Where installed code lives: the standard library and every site-packages or dist-packages
    directory. sysconfig knows only the install scheme's own; Debian's packages live in
    /usr/lib/python3/dist-packages, which only site knows (site.getsitepackages)."""
    paths = [sysconfig.get_paths().get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")]
    get_site_packages = getattr(site, "getsitepackages", None)  # missing in old virtualenvs' site.py
    if get_site_packages is not None:
        paths.extend(get_site_packages())
    user_site = getattr(site, "getusersitepackages", None)
    if user_site is not None:
        paths.append(user_site())
    paths.extend(p for p in sys.path if os.path.basename(p.rstrip(os.sep)) in ("site-packages", "dist-packages"))
    dirs = set()
    for path in paths:
        if path:
            dirs.add(os.path.realpath(path) + os.sep)
            dirs.add(os.path.abspath(path) + os.sep)
    return tuple(sorted(dirs, key=len, reverse=True))


_LIBRARY_DIRS = _library_dirs()
_TYPED_CODE = ("<stdin>", "<ipython-input-")
_is_user_cache = {}


def is_loopscope_file(filename):
    return filename.startswith(_LOOPSCOPE_DIR)


def is_user_file(filename):
    """True for the program's own code: not the standard library, site-packages or Loopscope."""
    cached = _is_user_cache.get(filename)
    if cached is None:
        if is_loopscope_file(filename):
            cached = False
        elif filename.startswith("<"):
            # Code a library made at run time (dataclasses, attrs, namedtuple: '<string>'), frozen
            # modules: not the user's. Code typed at a prompt is.
            cached = filename.startswith(_TYPED_CODE)
        else:
            path = os.path.abspath(filename)
            cached = not (path.startswith(_LIBRARY_DIRS) or os.path.realpath(path).startswith(_LIBRARY_DIRS))
        _is_user_cache[filename] = cached
    return cached


def code_name(code):
    return code.co_qualname if internals.HAS_QUALNAME else code.co_name


_absolute = {}


def absolute(filename):
    path = _absolute.get(filename)
    if path is None:
        path = _absolute[filename] = os.path.abspath(filename)
    return path


def location(frame):
    return {"path": absolute(frame.f_code.co_filename), "line": frame.f_lineno or frame.f_code.co_firstlineno}


def coroutine_frame(coro):
    for attribute in ("cr_frame", "gi_frame", "ag_frame"):
        frame = getattr(coro, attribute, None)
        if frame is not None:
            return frame
    return None


def await_chain(coro, limit=256):
    """[(awaitable, frame)] from the task's own coroutine down to the innermost suspended one."""
    chain = []
    while coro is not None and len(chain) < limit:
        frame = coroutine_frame(coro)
        if frame is None:
            coro = _async_generator_behind(coro)
            if coro is None:
                break
            continue
        chain.append((coro, frame))
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None) or getattr(coro, "ag_await", None)
    return chain


def _async_generator_behind(awaitable):
    """`async for` awaits an asend/athrow object, which does not name its generator; gc does."""
    if type(awaitable).__name__ not in ("async_generator_asend", "async_generator_athrow"):
        return None
    for referent in gc.get_referents(awaitable):
        if inspect.isasyncgen(referent):
            return referent
    return None


task_coroutine = internals.task_coroutine


_NAMED_BY_THE_INTERPRETER = (types.CoroutineType, types.GeneratorType, types.AsyncGeneratorType)


def coroutine_name(coro):
    """The coroutine's qualified name; for an awaitable of the program's own class, its
    __qualname__ only if reading it runs no code of the program's (a property, __getattr__)."""
    if coro is None:
        return "?"
    if type(coro) in _NAMED_BY_THE_INTERPRETER:
        return coro.__qualname__
    try:
        name = inspect.getattr_static(coro, "__qualname__")
    except AttributeError:
        name = None
    if type(name).__name__ in ("getset_descriptor", "member_descriptor"):  # C code reads it
        name = name.__get__(coro, type(coro))
    if isinstance(name, str):
        return name
    return type(coro).__name__


def resume_location(task):
    """The innermost user frame of the task's await chain: where the task resumes next."""
    chain = await_chain(task_coroutine(task))
    for _coro, frame in reversed(chain):
        if is_user_file(frame.f_code.co_filename):
            return location(frame)
    return location(chain[-1][1]) if chain else None


def resume_site(task):
    """(place, call) cheaply, for every task of a big loop: place is (filename, line) of the
    innermost user frame of the task's await chain, where it resumes; call the qualified name of
    the library coroutine it is suspended in below that frame ('Queue.get'), or None."""
    coro = task_coroutine(task)
    place = call = None
    for _ in _CHAIN_LIMIT:
        kind = type(coro)
        if kind is _COROUTINE:
            frame, inner = coro.cr_frame, coro.cr_await
        elif kind is _GENERATOR:
            frame, inner = coro.gi_frame, coro.gi_yieldfrom
        else:
            frame = coroutine_frame(coro) if coro is not None else None
            inner = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None) or getattr(coro, "ag_await", None)
            if frame is None:
                inner = _async_generator_behind(coro) if coro is not None else None
                if inner is None:
                    break
                coro = inner
                continue
        if frame is None:
            break
        if is_user_file(frame.f_code.co_filename):
            place, call = (frame.f_code.co_filename, frame.f_lineno), None
        elif place is not None and call is None:
            call = coroutine_name(coro)
        if inner is None:
            break
        coro = inner
    return place, call


def has_started(task):
    """False before a task's first step (its coroutine has not run a single line yet)."""
    coro = task_coroutine(task)
    frame = coroutine_frame(coro) if coro is not None else None
    if frame is None:
        return True
    running = getattr(coro, "cr_running", False) or getattr(coro, "gi_running", False)
    return running or not _at_start(coro)


def _at_start(coro):
    if inspect.iscoroutine(coro):
        return inspect.getcoroutinestate(coro) == inspect.CORO_CREATED
    if inspect.isgenerator(coro):
        return inspect.getgeneratorstate(coro) == inspect.GEN_CREATED
    return False


_COROUTINE = types.CoroutineType
_GENERATOR = types.GeneratorType
_CHAIN_LIMIT = (None,) * 64


def task_matches(task, names):
    """Cheap test run before task steps while function breakpoints exist: does any name in `names`
    match the task's name or a coroutine in its await chain? Exact type tests and plain attribute
    loads for coroutines and generators (which the interpreter specializes), getattr only for
    other awaitables; no allocation, no exception, only string hashes (cached)."""
    if internals.task_name(task) in names:
        return True
    coro = internals.task_coroutine(task)
    for _ in _CHAIN_LIMIT:
        kind = type(coro)
        if kind is _COROUTINE:
            code = coro.cr_code
            inner = coro.cr_await
        elif kind is _GENERATOR:
            code = coro.gi_code
            inner = coro.gi_yieldfrom
        else:
            code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
            if code is None:
                return False
            inner = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        if code.co_name in names or coro.__qualname__ in names:
            return True
        if inner is None:
            return False
        coro = inner
    return False


def chain_names(task):
    """Names a function breakpoint can match: the coroutines' names and qualified names."""
    names = set()
    for coro, frame in await_chain(task_coroutine(task)):
        names.add(frame.f_code.co_name)
        names.add(coroutine_name(coro))
    return names


def thread_frames(top, skip_codes=()):
    """A thread's frames from top outward, leaving Loopscope's own frames out."""
    frames = []
    frame = top
    while frame is not None:
        code = frame.f_code
        if code not in skip_codes and not is_loopscope_file(code.co_filename):
            frames.append(frame)
        frame = frame.f_back
    return frames


def thread_top_frame(thread_ident):
    return sys._current_frames().get(thread_ident)


def current_thread():
    """(ident, name) of the calling thread, as threading names it, or "thread IDENT" for a thread
    threading did not start. Not threading.current_thread(): on such a thread it makes a
    _DummyThread that the program would then see in threading.enumerate() (and CPython's tests in
    threading._dangling)."""
    ident = _thread.get_ident()
    known = threading._active.get(ident)
    return ident, known.name if known is not None else "thread %d" % ident


_HANDLE_RUN = internals.ORIGINALS["handle_run"].__code__


def user_caller(frame):
    """The nearest user frame that called (or awaits) this one, while it runs; None when the event
    loop called it (a task's own coroutine, a callback): the frames below belong to the loop's
    caller (asyncio.run's), not to this code."""
    caller = frame.f_back
    while caller is not None and not is_user_file(caller.f_code.co_filename):
        if caller.f_code is _HANDLE_RUN or is_loopscope_file(caller.f_code.co_filename):
            return None
        caller = caller.f_back
    return caller
