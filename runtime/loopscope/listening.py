"""Listen mode: a program that waits for Loopscope to connect to it, for containers and remote hosts
(or to attach without gdb): `python -m loopscope --listen [HOST:]PORT [--wait-for-client] PROGRAM`,
or loopscope.listen() from inside the program.

The listener is the server here, so the client must prove itself: its first frame carries the
listener's token (protocol.json's ClientHello), which the listener writes to a file only its user
can read (privatefiles.py) and replaces after every client that proved it (one token, one session),
unless the user fixed one in LOOPSCOPE_TOKEN. Loopback only unless a host is given. Each client
gets an Attachment (attachment.py): its detach leaves the program as it was, and the listener waits
for the next. One session at a time; a second client is told so and turned away.
"""

import _thread
import hmac
import os
import secrets
import socket
import sys
import threading

from . import bootstrap, privatefiles, processhooks, schema
from .attachment import Attachment
from .channel import MAX_INCOMING_FRAME, Channel, ChannelError, FrameDecoder, encode_frame
from .vocabulary import ATTACH_FILES, PROTOCOL_VERSION

# How long a client has to prove itself, from its connection on (as the adapter gives the runtime).
HELLO_DEADLINE = 5.0
_LOOPBACK = ("127.0.0.1", "::1", "localhost")

_listener = None
_listener_lock = _thread.allocate_lock()


class ListenError(Exception):
    """The listener cannot start; the message says why and what to do."""


class Listener:
    def __init__(self, host, port, token=None, program_started=True):
        """token: a token the user fixed (LOOPSCOPE_TOKEN), else one-time tokens in the token file.
        program_started: False while `--wait-for-client` holds the program before its first line."""
        self.host = host
        self._fixed_token = token
        self._token = token or secrets.token_hex(32)
        self._program_started = program_started
        self._session = None
        self.first_session_started = threading.Event()
        self._marker = bootstrap.marker()
        self._marker.keep_trampolines = True  # the next client needs them too; only the main thread could put them back
        if threading.current_thread() is threading.main_thread():
            bootstrap.prepare_main_thread(self._marker)
        processhooks.use_attach_marker(self._marker)
        try:
            infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
            self._socket = socket.socket(infos[0][0], socket.SOCK_STREAM)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind(infos[0][4])
            self._socket.listen(4)
        except OSError as error:
            raise ListenError("cannot listen on %s:%s: %s" % (host, port, error))
        self.port = self._socket.getsockname()[1]
        self.token_file = None
        if self._fixed_token is None:
            self.token_file = os.path.join(privatefiles.directory(), ATTACH_FILES["listenTokenFile"].format(port=self.port))
            self._write_token()
        _thread.start_new_thread(self._accept, ())

    @property
    def reachable_from_elsewhere(self):
        return self.host not in _LOOPBACK and not self.host.startswith("127.")

    def _write_token(self):
        """A new file each time (then moved into place), so that no reader sees half a token."""
        staging = "%s.%s" % (self.token_file, secrets.token_hex(4))
        privatefiles.write(staging, self._token + "\n")
        os.replace(staging, self.token_file)

    def _accept(self):
        while True:
            try:
                connection, _address = self._socket.accept()
            except OSError:
                return  # closed
            _thread.start_new_thread(self._greet, (connection,))

    def _greet(self, connection):
        """A client's first frame must be a ClientHello with the token; then it gets a session."""
        try:
            connection.settimeout(HELLO_DEADLINE)
            hello = _read_first_frame(connection)
            schema.check_client_hello(hello)
            if not hmac.compare_digest(hello["token"].encode(), self._token.encode()):
                raise ChannelError("wrong token")
        except (OSError, ChannelError, ValueError, KeyError, AttributeError):
            connection.close()  # not a client of ours: nothing to say to it
            return
        with _listener_lock:
            busy = self._session is not None
            token = self._token
            if not busy and self._fixed_token is None:
                self._token = secrets.token_hex(32)  # one token, one session
                self._write_token()
        if busy:
            refusal = {"type": "hello", "token": token, "protocolVersion": PROTOCOL_VERSION, "pid": os.getpid(),
                       "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable or "",
                       "refusal": "Another debug session is connected to this program: end that session first."}
            try:
                connection.sendall(encode_frame(refusal))
            except OSError:
                pass
            connection.close()
            return
        session = self._session = Attachment(self._marker, owns_runtime=False, program_started=self._program_started)
        session.on_end = self._session_ended
        session.on_start = self.first_session_started.set
        channel = Channel.over(connection, token, session.handle_request, session.channel_closed)
        session.run(channel)

    def _session_ended(self):
        self._session = None
        self._program_started = True  # a later client joins the program mid-run

    def close(self):
        try:
            self._socket.close()
        except OSError:
            pass
        if self.token_file is not None:
            try:
                os.unlink(self.token_file)
            except OSError:
                pass


def _read_first_frame(connection):
    decoder = FrameDecoder(64 * 1024)
    while True:
        data = connection.recv(65536)
        if not data:
            raise ChannelError("closed before its hello")
        messages = decoder.feed(data)
        if messages:
            return messages[0]


def listen(address=("127.0.0.1", 0), wait_for_client=False):
    """Let Loopscope connect to this program (attach configuration with "connect"). address:
    (host, port), or a port alone (loopback); a host other than loopback makes the program reachable
    from elsewhere: anyone with the token may then debug it and run code in it. Returns (host, port).
    wait_for_client: block until a client has started its session."""
    global _listener
    host, port = ("127.0.0.1", address) if isinstance(address, int) else address
    with _listener_lock:
        if _listener is None:
            _listener = Listener(host, port, os.environ.pop("LOOPSCOPE_TOKEN", None) or None)
        listener = _listener
    if wait_for_client:
        listener.first_session_started.wait()
    return listener.host, listener.port


def start_listening(host, port, wait_for_client):
    """`python -m loopscope --listen`: the listener, before the program runs (held until a client
    starts its session with wait_for_client)."""
    global _listener
    token = os.environ.pop("LOOPSCOPE_TOKEN", None) or None
    listener = _listener = Listener(host, port, token, program_started=not wait_for_client)
    where = "%s:%d" % (host if ":" not in host else "[%s]" % host, listener.port)
    sys.stderr.write("loopscope: listening on %s%s\n" % (
        where, " (token in %s, readable by this user only)" % listener.token_file if listener.token_file else ""))
    if listener.reachable_from_elsewhere:
        sys.stderr.write("loopscope: %s is reachable from other machines: whoever holds the token can debug this program "
                         "and run code in it, and the connection is not encrypted. Prefer 127.0.0.1 and an SSH tunnel.\n"
                         % where)
    sys.stderr.flush()
    if wait_for_client:
        sys.stderr.write("loopscope: waiting for a debugger to connect before running the program\n")
        sys.stderr.flush()
        listener.first_session_started.wait()
    return listener
