"""The selector of a loop that records or replays: the loop's own selector, wrapped for that loop
only (loop._selector is replaced by this object; nothing is patched on any class).

Each registration gets an identity, its number in the order the loop registered file
descriptors (the loop's own wake-up pipe, there before the wrap, first). A recording names ready
descriptors by identity, not by fd number, which differs from run to run. While recording,
select() asks the real selector and tells the deck what it returned (explore may shuffle the
list first). While replaying, select() never waits: it returns what the tape says for this
iteration, as keys of the descriptors the program has registered now. Registrations always go to
the real selector too, so that the loop can go live at any iteration.
"""


class TapeSelector:
    def __init__(self, real, deck):
        self._real = real
        self._deck = deck
        self._identity_of = {}  # fd -> identity
        self._fd_of = {}        # identity -> fd
        for key in sorted(real.get_map().values(), key=lambda key: key.fd):
            self._name(key.fd)

    def _name(self, fd):
        identity = self._deck.new_identity()
        self._identity_of[fd] = identity
        self._fd_of[identity] = fd

    # --- what asyncio calls -----------------------------------------------------------------

    def register(self, fileobj, events, data=None):
        key = self._real.register(fileobj, events, data)
        self._name(key.fd)
        return key

    def unregister(self, fileobj):
        key = self._real.unregister(fileobj)
        identity = self._identity_of.pop(key.fd, None)
        self._fd_of.pop(identity, None)
        return key

    def modify(self, fileobj, events, data=None):
        return self._real.modify(fileobj, events, data)  # the same registration: its identity stays

    def select(self, timeout=None):
        deck = self._deck
        if deck.replaying:
            recorded = deck.replayed_events()
            if recorded is not None:
                return self._keys(recorded)
        if deck.staged:  # callbacks from other threads wait to be let in: do not sleep
            timeout = 0
        ready = self._real.select(timeout)
        if ready or deck.staged or deck.perturbation is not None:
            return deck.selected(ready, self._identity_of)
        return ready

    def get_key(self, fileobj):
        return self._real.get_key(fileobj)

    def get_map(self):
        return self._real.get_map()

    def close(self):
        self._identity_of.clear()
        self._fd_of.clear()
        return self._real.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    def __getattr__(self, name):
        return getattr(self._real, name)

    @property
    def real(self):
        return self._real

    # --- replay -------------------------------------------------------------------------------

    def _keys(self, recorded):
        """[(key, mask)] for the recorded [[identity, mask]]; an identity the program has not
        registered (it changed since the recording) is a divergence."""
        ready, missing = [], []
        real_map = self._real.get_map()
        for identity, mask in recorded:
            fd = self._fd_of.get(identity)
            key = real_map.get(fd) if fd is not None else None
            if key is None:
                missing.append(identity)
                continue
            ready.append((key, mask & key.events))
        if missing:
            self._deck.diverge("the recording says file descriptor #%d was ready, but the program has no such "
                               "registration now" % missing[0])
        return self._deck.selected(ready, self._identity_of)
