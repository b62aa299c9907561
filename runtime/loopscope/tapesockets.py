"""Connections a loop makes or accepts, recorded and replayed at the socket: what the peer sent,
what the kernel said, so that a client replays without its server and a server without its clients.

loop.sock_connect (which asyncio.open_connection, loop.create_connection and the program's own
sock_connect calls all go through) is wrapped on each recording loop, as an attribute of that
loop only. The socket it connects changes class for the rest of its life: to RecordedSocket while
recording, whose methods call the real ones and note each result; to ReplayedSocket while
replaying, whose methods return what was noted and never reach the network. Both are subclasses
of socket.socket with no state of their own (so the switch is allowed) and keep its name, so the
program sees `<socket.socket ...>` as before. Transports and the loop's sock_* methods use the
socket they were given, so data received through streams, protocols and loop.sock_recv alike is
on the tape. loop.getaddrinfo is wrapped too: a replay does not need the name server.

A listening socket the loop serves (create_server, start_server: asyncio_internals.before_serving)
or accepts on (loop.sock_accept) becomes a RecordedListener, whose accept() numbers each connection
it accepts and notes [number, address]; while replaying a ReplayedListener's accept() hands out a
fresh socket that is never connected, as a ReplayedSocket with the recorded number, at the moment
the recording says. The listening socket is bound and listens for real (a fixed port must be free);
once the recording is over it accepts live clients again. TLS servers are not recorded.

A datagram endpoint's socket (create_datagram_endpoint: asyncio_internals.before_datagram_transport)
is a connection too: recvfrom and sendto are noted like recv and send.

On the tape each connection is a number (its order among the loop's connections), and each
operation a line [connection, operation, result]; a result is plain data, bytes as base64, and
an exception by errno (OSError) or by name.
"""

import base64
import socket
import weakref

from . import asyncio_internals as internals

_decks = weakref.WeakKeyDictionary()  # socket -> (deck, connection number)


def encode(value):
    """A socket operation's result (or exception) as plain JSON data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, OSError) and value.errno is not None:
        return {"e": [value.errno, value.strerror or ""]}
    if isinstance(value, BaseException):
        return {"x": [type(value).__name__, str(value)]}
    if isinstance(value, (tuple, list)):
        return {"t": [encode(item) for item in value]}
    return {"x": ["ValueError", "unrecordable result %r" % type(value).__name__]}


_EXCEPTIONS = {"gaierror": socket.gaierror, "herror": socket.herror, "timeout": getattr(socket, "timeout", TimeoutError),
               "TimeoutError": TimeoutError, "OSError": OSError, "ValueError": ValueError, "TypeError": TypeError}


def decode(value):
    """The value (or exception instance) encode() made."""
    if not isinstance(value, dict):
        return value
    if "b" in value:
        return base64.b64decode(value["b"])
    if "e" in value:
        errno, text = value["e"]
        return OSError(int(errno), str(text))  # OSError picks the subclass: ConnectionResetError...
    if "x" in value:
        name, text = value["x"]
        return _EXCEPTIONS.get(name, OSError)(str(text))
    if "t" in value:
        return tuple(decode(item) for item in value["t"])
    raise ValueError("a recorded socket result of an unknown shape")


def _result(value):
    if isinstance(value, BaseException):
        raise value
    return value


class RecordedSocket(socket.socket):
    """A connected socket of a recording loop: each method below calls the real one and notes what
    it returned or raised."""
    __slots__ = ()

    def _note(self, operation, call, *args):
        noted = _decks.get(self)
        try:
            value = call(*args)
        except OSError as error:
            if noted is not None:
                noted[0].socket_result(noted[1], operation, error)
            raise
        if noted is not None:
            noted[0].socket_result(noted[1], operation, value)
        return value

    def connect(self, address):
        return self._note("connect", super().connect, address)

    def connect_ex(self, address):
        return self._note("connect_ex", super().connect_ex, address)

    def getsockopt(self, level, option, *size):
        if (level, option) != (socket.SOL_SOCKET, socket.SO_ERROR) or size:
            return super().getsockopt(level, option, *size)
        return self._note("so_error", super().getsockopt, level, option)

    def getpeername(self):
        return self._note("getpeername", super().getpeername)

    def getsockname(self):
        return self._note("getsockname", super().getsockname)

    def recv(self, size, *flags):
        return self._note("recv", super().recv, size, *flags)

    def recv_into(self, buffer, nbytes=0, *flags):
        def receive():
            count = socket.socket.recv_into(self, buffer, nbytes, *flags)
            return (count, bytes(memoryview(buffer)[:count]))
        return self._note("recv_into", receive)[0]

    def send(self, data, *flags):
        return self._note("send", super().send, data, *flags)

    def recvfrom(self, size, *flags):
        return self._note("recvfrom", super().recvfrom, size, *flags)

    def recvfrom_into(self, buffer, nbytes=0, *flags):
        def receive():
            count, address = socket.socket.recvfrom_into(self, buffer, nbytes, *flags)
            return (count, bytes(memoryview(buffer)[:count]), address)
        count, _data, address = self._note("recvfrom_into", receive)
        return count, address

    def sendto(self, data, *flags_and_address):
        return self._note("sendto", super().sendto, data, *flags_and_address)

    def sendmsg(self, buffers, *rest):
        return self._note("sendmsg", super().sendmsg, buffers, *rest)

    def shutdown(self, how):
        return self._note("shutdown", super().shutdown, how)


class ReplayedSocket(socket.socket):
    """A socket of a replaying loop: the results come from the tape (deck.socket_replay); the
    real socket underneath is never connected, only registered with the selector so that the
    loop can go live."""
    __slots__ = ()

    def _replay(self, operation, live=None):
        noted = _decks.get(self)
        if noted is None:
            raise OSError("this replayed connection has no recording")
        return _result(noted[0].socket_replay(noted[1], operation, live))

    def connect(self, address):
        return self._replay("connect")

    def connect_ex(self, address):
        return self._replay("connect_ex")

    def getsockopt(self, level, option, *size):
        if (level, option) != (socket.SOL_SOCKET, socket.SO_ERROR) or size:
            return super().getsockopt(level, option, *size)
        return self._replay("so_error")

    def getpeername(self):
        return self._replay("getpeername")

    def getsockname(self):
        return self._replay("getsockname", live=lambda: socket.socket.getsockname(self))

    def recv(self, size, *flags):
        return self._replay("recv")

    def recv_into(self, buffer, nbytes=0, *flags):
        count, data = self._replay("recv_into")
        memoryview(buffer)[:count] = data[:count]
        return count

    def send(self, data, *flags):
        return self._replay("send")

    def recvfrom(self, size, *flags):
        return self._replay("recvfrom")

    def recvfrom_into(self, buffer, nbytes=0, *flags):
        count, data, address = self._replay("recvfrom_into")
        memoryview(buffer)[:count] = data[:count]
        return count, address

    def sendto(self, data, *flags_and_address):
        return self._replay("sendto")

    def sendmsg(self, buffers, *rest):
        return self._replay("sendmsg")

    def shutdown(self, how):
        return self._replay("shutdown")


class RecordedListener(RecordedSocket):
    """A listening socket of a recording loop: each connection it accepts is recorded too."""
    __slots__ = ()

    def accept(self):
        noted = _decks.get(self)
        try:
            connection, address = socket.socket.accept(self)
        except OSError as error:
            if noted is not None:
                noted[0].socket_result(noted[1], "accept", error)
            raise
        if noted is not None:
            deck, number = noted
            deck.socket_result(number, "accept", (deck.number(connection), address))
        return connection, address


class ReplayedListener(ReplayedSocket):
    """A listening socket of a replaying loop: accept() gives what the recording says."""
    __slots__ = ()

    def accept(self):
        noted = _decks.get(self)
        if noted is None:
            return socket.socket.accept(self)
        deck, number = noted
        value = _result(deck.socket_replay(number, "accept", live=_not_recorded))
        if value is None:
            return socket.socket.accept(self)  # the recording is over: a live client, not recorded
        recorded_number, address = value
        connection = socket.socket(self.family, self.type, self.proto)  # a descriptor to register, no peer
        number = deck.number(connection)
        if number != recorded_number:
            deck.diverge("the program accepted connection %d where the recording has connection %d"
                         % (number, recorded_number))
        return connection, address


def _not_recorded():
    return None


LISTENERS = (RecordedListener, ReplayedListener)


for _kind in (RecordedSocket, ReplayedSocket, RecordedListener, ReplayedListener):
    # The program sees its socket as it would: repr, type name and module are socket.socket's.
    _kind.__name__ = _kind.__qualname__ = "socket"
    _kind.__module__ = "socket"


def adopt(sock, deck, connection, replaying, listening=False):
    """From now on sock is recorded (or replayed) as connection number `connection` of deck's loop;
    listening: it is a listening socket. Only a plain socket.socket changes class; any other (an
    ssl socket, a subclass of the program's) is left as it is and not on the tape."""
    if type(sock) is not socket.socket:
        return False
    if listening:
        sock.__class__ = ReplayedListener if replaying else RecordedListener
    else:
        sock.__class__ = ReplayedSocket if replaying else RecordedSocket
    _decks[sock] = (deck, connection)
    return True


def wrap_loop(loop, deck):
    """Put the recording versions of sock_connect, sock_accept and getaddrinfo on this one loop,
    and number each socket it serves."""
    loop_ref = weakref.ref(loop)
    original_connect = loop.sock_connect
    original_accept = loop.sock_accept
    original_lookup = loop.getaddrinfo

    async def sock_connect(sock, address):
        deck.new_connection(sock)
        return await original_connect(sock, address)

    async def sock_accept(sock):
        deck.new_listener(sock)
        return await original_accept(sock)

    async def getaddrinfo(host, port, *, family=0, type=0, proto=0, flags=0):
        if deck.replaying:
            recorded = deck.next_lookup()
            if recorded is not None:
                value = decode_lookup(recorded)
                running = loop_ref()
                # The same shape as the real call: a job on the default executor, whose result
                # reaches the loop through call_soon_threadsafe.
                return await running.run_in_executor(None, _result, value)
        try:
            value = await original_lookup(host, port, family=family, type=type, proto=proto, flags=flags)
        except OSError as error:
            deck.lookup_result(encode(error))
            raise
        deck.lookup_result(encode_lookup(value))
        return value

    loop.sock_connect = sock_connect
    loop.sock_accept = sock_accept
    loop.getaddrinfo = getaddrinfo
    internals.before_serving(loop, deck.new_listener)
    internals.before_datagram_transport(loop, deck.new_connection)


def encode_lookup(addresses):
    return [[int(family), int(kind), int(proto), canonical, encode(tuple(address))]
            for family, kind, proto, canonical, address in addresses]


def decode_lookup(value):
    if isinstance(value, dict):
        return decode(value)
    return [(_enum(socket.AddressFamily, family), _enum(socket.SocketKind, kind), proto, canonical, decode(address))
            for family, kind, proto, canonical, address in value]


def _enum(kind, value):
    try:
        return kind(value)
    except ValueError:
        return value
