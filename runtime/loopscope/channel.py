"""The control channel to the adapter: length-prefixed JSON frames over a loopback TCP socket.

The runtime connects out to the adapter (the debuggee never listens), proves itself with the
one-time token, then serves requests on a daemon thread that runs no user code: requests that
need the program's state are handed to the held loop's thread by the request handler. The thread
steps aside while the program forks (forking.py).
"""

import _thread
import json
import math
import os
import select
import socket
import struct

from . import schema
from .gilturns import turns
from .forking import ResidentThread

# Requests from the adapter are small; a frame over this is hostile or broken.
MAX_INCOMING_FRAME = 1 << 20
MAX_OUTGOING_FRAME = 64 << 20
_HEADER = struct.Struct(">I")
_LOOPBACK_NAMES = ("localhost",)
# After finish(), how long the serving thread waits for the peer to close its side (ms).
_FINISH_WAIT_MS = 2000


class ChannelError(Exception):
    """The channel cannot be opened or was broken by its peer."""


class FrameTooLarge(ChannelError):
    """A message to send encodes to more than MAX_OUTGOING_FRAME bytes; nothing was sent."""

    def __init__(self, size):
        ChannelError.__init__(self, "frame of %d bytes is over the %d byte limit" % (size, MAX_OUTGOING_FRAME))
        self.size = size


def finite(value):
    """value with every NaN and infinity (which JSON cannot carry) replaced by None, as JSON.stringify does."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def _dumps(message, ascii_only):
    return json.dumps(message, ensure_ascii=ascii_only, separators=(",", ":"), allow_nan=False)


def encode_frame(message):
    """The frame of a message. Strictly JSON: a NaN or infinity that reached a message becomes null
    (the places that make numbers keep them finite; this is the net under them). Raises
    FrameTooLarge past MAX_OUTGOING_FRAME, TypeError for what JSON cannot hold at all."""
    try:
        text = _dumps(message, False)
    except ValueError:  # "Out of range float values are not JSON compliant"
        message = finite(message)
        text = _dumps(message, False)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (surrogateescape'd path, user string): send it \u-escaped
        data = _dumps(message, True).encode("ascii")
    if len(data) > MAX_OUTGOING_FRAME:
        raise FrameTooLarge(len(data))
    return _HEADER.pack(len(data)) + data


def _refuse_constant(name):
    raise ValueError("%s is not JSON" % name)


class FrameDecoder:
    """Splits a byte stream into decoded JSON messages; raises ChannelError on anything malformed."""

    def __init__(self, max_frame=MAX_INCOMING_FRAME):
        self._buffer = bytearray()
        self._max_frame = max_frame

    def feed(self, data):
        self._buffer += data
        messages = []
        while len(self._buffer) >= _HEADER.size:
            (length,) = _HEADER.unpack_from(self._buffer)
            if length > self._max_frame:
                raise ChannelError("frame of %d bytes is over the %d byte limit" % (length, self._max_frame))
            if len(self._buffer) < _HEADER.size + length:
                break
            payload = bytes(self._buffer[_HEADER.size:_HEADER.size + length])
            del self._buffer[:_HEADER.size + length]
            try:
                message = json.loads(payload.decode("utf-8"), parse_constant=_refuse_constant)
            except (UnicodeDecodeError, ValueError, RecursionError) as error:  # RecursionError: nesting too deep
                raise ChannelError("frame is not UTF-8 JSON: %s" % error)
            if not isinstance(message, dict):
                raise ChannelError("frame is not a JSON object")
            messages.append(message)
        return messages


def _is_loopback(host):
    if host in _LOOPBACK_NAMES:
        return True
    return host == "::1" or host.startswith("127.")


class Channel:
    """One authenticated connection to the adapter.

    on_request(message) is called on the channel thread for every well-formed request;
    on_close(reason) once when the connection ends.
    """

    def __init__(self, host, port, token, on_request, on_close):
        if not _is_loopback(host):
            raise ChannelError("refusing to connect to %s: the control channel is loopback only" % host)
        try:
            connection = socket.create_connection((host, port), timeout=10)
        except OSError as error:
            raise ChannelError("cannot reach the Loopscope adapter at %s:%s: %s" % (host, port, error))
        self._adopt(connection, token, on_request, on_close)

    @classmethod
    def over(cls, connection, token, on_request, on_close):
        """A channel on a connection the runtime accepted (listen mode: listening.py) whose peer has
        proved itself already."""
        channel = cls.__new__(cls)
        channel._adopt(connection, token, on_request, on_close)
        return channel

    def _adopt(self, connection, token, on_request, on_close):
        self._token = token
        self._on_request = on_request
        self._on_close = on_close
        self._send_lock = _thread.allocate_lock()
        self._closed = False
        self._socket = connection
        self._socket.settimeout(None)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._decoder = FrameDecoder()  # kept across the serving threads, which a fork may change
        self._wake_pipe = ()            # (read end, write end): wakes the serving thread to step aside
        self._finishing = False         # finish(): the runtime ends the connection, the program runs on
        self._socket_fd = None          # as registered (start()): fileno() says -1 once it is closed

    def start(self, hello):
        hello = dict(hello, type="hello", token=self._token, protocolVersion=schema.PROTOCOL_VERSION)
        self._token = None  # used once: nothing of the program's should find it lying around
        if schema.CHECKING:
            schema.check_hello(hello)
        self._write(hello)
        self._wake_pipe = os.pipe()
        self._socket_fd = self._socket.fileno()
        self._readable = select.poll()
        for fd in (self._socket_fd, self._wake_pipe[0]):
            self._readable.register(fd, select.POLLIN)
        turns.watch(self._socket_fd)  # a loop that never waits leaves the GIL to this thread's requests
        ResidentThread(self._serve, self._wake_server).start()

    def _wake_server(self):
        try:
            os.write(self._wake_pipe[1], b"!")
        except (IndexError, OSError):
            pass  # its thread has ended for good (the connection closed)

    def send_event(self, event, body):
        """Send an event; one that cannot be encoded is replaced by a log event saying so."""
        if schema.CHECKING:
            schema.check_event(event, body)
        try:
            frame = encode_frame({"type": "event", "event": event, "body": body})
        except Exception as error:
            frame = encode_frame({"type": "event", "event": "log", "body": {
                "level": "error", "message": "Loopscope could not send its %s event: %s" % (event, _why(error))}})
        self._write_frame(frame)

    def send_response(self, request, body=None, error=None):
        """Answer a request. An answer that cannot be sent (over the frame limit, or not JSON) is
        replaced by an error response that says why: every request gets an answer."""
        command = request.get("command")
        seq = request.get("seq", 0)
        if error is None:
            body = body if body is not None else {}
            if schema.CHECKING:
                schema.check_response(command, body)
            try:
                frame = encode_frame({"type": "response", "request_seq": seq, "command": command,
                                      "success": True, "body": body})
            except FrameTooLarge as too_large:
                error = ("the answer to %s is %.0f MiB, over the %d MiB the control channel carries; ask for less "
                         "at a time" % (command, too_large.size / float(1 << 20), MAX_OUTGOING_FRAME >> 20))
            except Exception as failure:
                error = "the answer to %s could not be encoded: %s" % (command, _why(failure))
            else:
                self._write_frame(frame)
                return
        self._write_frame(encode_frame({"type": "response", "request_seq": seq, "command": command,
                                        "success": False, "message": error}))

    def abandon(self):
        """In a forked child: drop this process's copy of the socket without touching the
        connection, which still belongs to the parent."""
        self._closed = True
        self._close_wake_pipe()
        self._unwatch()
        try:
            os.close(self._socket.detach())  # closing a copy of the descriptor sends nothing
        except OSError:
            pass

    def _unwatch(self):
        if self._socket_fd is not None:
            turns.unwatch(self._socket_fd)

    def _close_wake_pipe(self):
        pipe, self._wake_pipe = self._wake_pipe, ()
        for fd in pipe:
            os.close(fd)

    def finish(self):
        """End the connection from this side after what was sent (a detach): nothing more is sent or
        handled, the peer sees the end after the last answer, and on_close is not called, since the
        program is to run on. The serving thread waits a moment for the peer to close its side."""
        with self._send_lock:
            self._finishing = self._closed = True
        try:
            self._socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self._wake_server()

    def close(self):
        self._closed = True
        self._unwatch()
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._socket.close()

    def _write(self, message):
        self._write_frame(encode_frame(message))

    def _write_frame(self, frame):
        with self._send_lock:
            if self._closed:
                return
            try:
                self._socket.sendall(frame)
            except OSError:
                self._closed = True

    def _serve(self, stepping_aside):
        reason = "the adapter closed the connection"
        try:
            while not stepping_aside():
                ready = [fd for fd, _events in self._readable.poll(_FINISH_WAIT_MS if self._finishing else None)]
                if self._wake_pipe[0] in ready:
                    os.read(self._wake_pipe[0], 64)
                if self._socket_fd not in ready:  # readable, hung up, or closed: recv() says which
                    if self._finishing and not ready:
                        break  # the peer has not closed its side in time: end here all the same
                    continue
                data = self._socket.recv(65536)
                if not data:
                    break
                if self._finishing:
                    continue  # requests after the end are not handled
                for message in self._decoder.feed(data):
                    self._dispatch_safely(message)
                turns.done()
            else:
                return  # for a fork: the same connection is served again after it
        except ChannelError as error:
            reason = "the adapter sent a malformed frame: %s" % error
        except OSError as error:
            reason = "the connection to the adapter broke: %s" % error
        except BaseException:
            self._unwatch()  # a loop must never wait on a socket nobody serves
            raise
        self._closed = True
        self._close_wake_pipe()
        self._unwatch()
        if self._finishing:
            self._socket.close()
            return
        self._on_close(reason)

    def _dispatch_safely(self, message):
        """A request whose handling fails in an unforeseen way is answered with the failure; the
        channel thread carries on (a ChannelError, a peer that breaks the protocol, ends it)."""
        try:
            self._dispatch(message)
        except ChannelError:
            raise
        except Exception as error:
            try:
                self.send_response(message, error="Loopscope failed to handle %s: %s" % (message.get("command"),
                                                                                       _why(error)))
            except Exception:
                pass

    def _dispatch(self, message):
        if message.get("type") != "request" or not isinstance(message.get("command"), str):
            raise ChannelError("expected a request, got %r" % (message.get("type"),))
        if not isinstance(message.get("arguments", {}), dict):
            self.send_response(message, error="arguments must be an object")
            return
        try:
            schema.check_request(message)
        except schema.ProtocolError as error:
            self.send_response(message, error=str(error))
            return
        self._on_request(message)


def _why(error):
    return "%s: %s" % (type(error).__name__, error)
