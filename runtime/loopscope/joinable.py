"""Threads of Loopscope's own that can be waited for until they are gone for good: out of their
function and counted out by CPython (_thread._count(), what CPython's threading_cleanup() and
os.fork() see), not only past their last line. _thread.start_new_thread gives no such wait, and
threading.Thread would put Loopscope's threads in threading.enumerate().
"""

import _thread
import time

_monotonic = time.monotonic


class JoinableThread:
    """function(*args) on a new thread; join(seconds) waits until the thread is gone."""

    def __init__(self, function, *args):
        if hasattr(_thread, "start_joinable_thread"):  # 3.13+
            self._handle = _thread.start_joinable_thread(lambda: function(*args), daemon=True)
            return
        self._handle = None
        self._sentinel = None
        self._started = _thread.allocate_lock()
        self._started.acquire()
        _thread.start_new_thread(self._run, (function, args))

    def _run(self, function, args):
        # Held by this thread; CPython releases it once the thread's state is deleted, after its
        # count went down (as threading.Thread's join waits on it).
        sentinel = _thread._set_sentinel()
        sentinel.acquire()
        self._sentinel = sentinel
        self._started.release()
        function(*args)

    def join(self, seconds):
        """True once the thread is gone, within seconds."""
        if self._handle is not None:
            self._handle.join(max(0.0, seconds))
            return self._handle.is_done()
        deadline = _monotonic() + seconds
        if not self._started.acquire(True, max(0.0, seconds)):
            return False
        self._started.release()
        if not self._sentinel.acquire(True, max(0.0, deadline - _monotonic())):
            return False
        self._sentinel.release()
        return True
