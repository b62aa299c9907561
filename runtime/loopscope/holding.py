"""The all-stop: which loops are held, the stop the user sees, and the inbox each held loop serves.

A held loop is its own thread blocked inside a hook, taking work from its stop's inbox until it
is released: reprs and evaluate run there, where the program runs, never on the channel's thread.
When one loop stops, every other loop holds quietly at its next boundary until the user resumes.
The debugger's lock guards begin() and release(); serve() runs without it.
"""

import queue
import threading

_RESUME = object()


class Holding:
    def __init__(self):
        self.stopping = False   # a stop is shown; other loops hold quietly
        self.held = {}          # loop id -> Stop
        self.primary = None     # the Stop the user sees
        self.inspection = None  # the primary stop's frame ids and variable references
        self._serving = threading.local()

    def begin(self, stop, make_inspection):
        """With the lock held: record a loop as held. Returns True if this is the stop the user
        sees, False if the loop is held quietly (another loop's stop is shown), None if it is not
        held at all (a quiet stop that comes after the stop it belonged to is over).
        make_inspection(stop) makes the shown stop's frame ids and variable references."""
        if self.stopping:
            self.held[stop.state.id] = stop
            return False
        if stop.quiet:
            return None
        self.stopping = True
        self.primary = stop
        self.inspection = make_inspection(stop)
        self.held[stop.state.id] = stop
        return True

    def release(self):
        """With the lock held: no loop is held any more. Returns the stops to wake (wake())."""
        held, self.held = self.held, {}
        self.stopping = False
        self.primary = None
        self.inspection = None
        return list(held.values())

    def forget_in_forked_child(self):
        """In a forked child the holds are the parent's: the child's one thread, which may be serving
        a stop (os.fork() typed into the Debug Console), runs on; nothing else can resume it. Each
        inbox is new: another thread of the parent may have held the old one's lock at the fork."""
        stops = self.release()
        for stop in stops:
            stop.inbox = queue.SimpleQueue()
        self.wake(stops)

    @staticmethod
    def wake(stops):
        for stop in stops:
            stop.inbox.put(_RESUME)

    def post(self, stop, work, done):
        """Run work() on the stop's thread; done(result, error) gets the answer."""
        stop.inbox.put((work, done))

    def serve(self, stop):
        """On the held thread: do the inbox's work until released."""
        with self.running_user_code():  # the program's code run from here (reprs, evaluate) must not stop again
            while True:
                item = stop.inbox.get()
                if item is _RESUME:
                    return
                work, done = item
                try:
                    result = work()
                except BaseException as error:  # evaluate may raise anything, SystemExit included
                    result, failure = None, _failure_text(error)
                else:
                    failure = None
                try:
                    done(result, failure)
                except Exception:
                    # Answering failed (the channel says why to the adapter when it can): the loop
                    # stays held and serving, and the hooks stay on; an error here must not reach them.
                    pass
                # Freed now, while the user reads it, not on the way out of the stop: a snapshot's
                # answer alone is some 20,000 objects, a millisecond on the next step's clock.
                item = work = done = result = None

    @property
    def serving_here(self):
        """True on a thread that is serving a stop (the program's code it runs must not stop)."""
        return getattr(self._serving, "on", False)

    def running_user_code(self):
        """A context in which code the debugger runs for itself (a breakpoint's condition, a
        logpoint, a custom loop's time() read for a stop) cannot stop the program again. Nests."""
        return _Serving(self._serving)


def _failure_text(error):
    """What the adapter tells the user: Loopscope's own refusals (a LookupError, or a subclass of
    Loopscope's) as they are; anything else, what an evaluated expression raised (its KeyError
    too), as `Type: message`, or `Type` when it says nothing."""
    kind = type(error)
    if kind is LookupError or (issubclass(kind, LookupError) and kind.__module__.startswith("loopscope")):
        return str(error).strip("'\"")
    text = str(error)
    return "%s: %s" % (type(error).__name__, text) if text else type(error).__name__


class _Serving:
    def __init__(self, local):
        self._local = local
        self._before = False

    def __enter__(self):
        self._before = getattr(self._local, "on", False)
        self._local.on = True

    def __exit__(self, *_exc):
        self._local.on = self._before
