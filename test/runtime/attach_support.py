"""Helpers for the attach tests: a target program (test/fixtures/attach/target.py) started with the
interpreter under test, and a stand-in for the adapter's side of an attach by process id: the
loopback listener and its token, the helper that writes the ticket and gets it run
(loopscope/outside/cli.py, as the adapter runs it), the runtime's hello, and requests and events
after it. Every wait has a deadline (runtime_support.DEADLINE)."""

import ctypes
import json
import os
import queue
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time

from runtime_support import DEADLINE, REPO, RUNTIME, clean_environment

from loopscope import schema
from loopscope.channel import FrameDecoder, encode_frame
from loopscope.vocabulary import PROTOCOL_VERSION

TARGET = os.path.join(REPO, "test", "fixtures", "attach", "target.py")
PLAIN = os.path.join(REPO, "test", "fixtures", "attach", "plain.py")
CLI = os.path.join(RUNTIME, "loopscope", "outside", "cli.py")
PYTHON = sys.executable
HAS_GDB = any(os.access(os.path.join(d, "gdb"), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep))


ASK_AGAIN = 2.0  # seconds before state() sends its signal again


class Target:
    """A target.py MODE process; stop() ends it (killing its whole group)."""

    def __init__(self, mode, python=PYTHON, env=None, program=TARGET, interpreter_options=(), wait_ready=True, prefix=()):
        """prefix: a command that runs the interpreter (setpriv, to run it as another user)."""
        argv = list(prefix) + [python, "-u"] + list(interpreter_options) + [program, mode]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=env or clean_environment(), start_new_session=True)
        self.pid = self.process.pid
        self.lines = queue.Queue()
        self.stderr = []
        self.stderr_lines = queue.Queue()
        threading.Thread(target=self._read, args=(self.process.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._read, args=(self.process.stderr, self._stderr), daemon=True).start()
        self.ready_words = []
        if wait_ready:
            line = self.next_line("READY")
            if not line:
                raise AssertionError("target %s did not start: %s" % (mode, "".join(self.stderr)))
            self.ready_words = line.split()

    def _stderr(self, line):
        self.stderr.append(line)
        self.stderr_lines.put(line)

    @staticmethod
    def _read(stream, put):
        for line in iter(stream.readline, b""):
            put(line.decode("utf-8", "replace"))
        put("")

    def stderr_line(self, prefix, timeout=DEADLINE):
        return self.next_line(prefix, timeout, self.stderr_lines)

    def next_line(self, prefix, timeout=DEADLINE, lines=None):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = (lines or self.lines).get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no %r line from the target within %.0f s; stderr: %s"
                                     % (prefix, timeout, "".join(self.stderr)))
            if not line:
                return None
            if line.startswith(prefix):
                return line

    def state(self):
        """The target's own report of itself (selfreport.py), asked of its main thread: a signal
        sent to the process may go to any thread that does not block it, and while the main thread
        waits in join() a busy thread would take it and the main thread never wake for it.
        Asked again every ASK_AGAIN seconds: CPython, with or without Loopscope, handles a signal
        that lands just before a blocking call (select(), join()) only at the next wake-up; a report
        made before this request (an answer to an earlier one) is skipped."""
        asked = time.monotonic()
        deadline = asked + DEADLINE
        while True:
            _signal_main_thread(self.pid, signal.SIGUSR1)
            try:
                line = self.next_line("STATE ", min(ASK_AGAIN, max(0.01, deadline - time.monotonic())))
            except AssertionError as error:
                if time.monotonic() < deadline:
                    continue
                raise AssertionError("%s\nthe target's threads: %s" % (error, self.threads()))
            report = json.loads(line[len("STATE "):]) if line else None
            if report is None or report["at"] >= asked:
                return report

    def calls(self):
        """The functions an asyncio workload calls in the target, counted (selfreport.calls())."""
        _signal_main_thread(self.pid, signal.SIGWINCH)
        return json.loads(self.next_line("CALLS ")[len("CALLS "):])

    def threads(self):
        """What each thread of the target is doing, from /proc, for failure messages."""
        described = []
        for tid in sorted(os.listdir("/proc/%d/task" % self.pid)):
            try:
                with open("/proc/%d/task/%s/stat" % (self.pid, tid)) as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open("/proc/%d/task/%s/wchan" % (self.pid, tid)) as wchan:
                    where = wchan.read()
                with open("/proc/%d/task/%s/status" % (self.pid, tid)) as status:
                    # Signals pending, blocked and caught: why a report the test asked for did not come.
                    signals = " ".join(line.replace("\t", "") for line in status.read().splitlines()
                                       if line.startswith(("SigPnd", "ShdPnd", "SigBlk", "SigCgt")))
                described.append("%s %s in %s (%s)" % (tid, fields[0], where, signals))
            except OSError:
                continue
        return "; ".join(described)

    def stop(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self.process.wait(DEADLINE)
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()


def _signal_main_thread(pid, signum):
    """tgkill(pid, pid, signum): the signal goes to the process's main thread itself."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(_SYS_TGKILL, pid, pid, signum) != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


_SYS_TGKILL = {"x86_64": 234, "aarch64": 131}.get(os.uname().machine, 234)


def run_helper(pid, settings, python=PYTHON, method="auto", user=None, cli=CLI):
    """loopscope/outside/cli.py inject, as the adapter runs it (settings on stdin); returns its
    InjectionResult. cli: the helper of another copy of the runtime."""
    command = [python, "-I", "-S", cli, "inject", str(pid), "--method", method]
    if user is not None:
        command = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + command
    done = subprocess.run(command, input=json.dumps(settings).encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=DEADLINE * 3, env=clean_environment())
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError("the helper failed (%s): %s" % (done.returncode, done.stderr.decode()))
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


class AdapterSide:
    """The adapter's end of one attach: listen, run the helper, take the hello."""

    def __init__(self, test):
        self.test = test
        self.token = secrets.token_hex(32)
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.port = self.server.getsockname()[1]
        self.connection = None
        self.decoder = FrameDecoder(64 << 20)
        self.events = queue.Queue()
        self.responses = {}
        self.seq = 0
        self.hello = None
        self.closed = threading.Event()
        self.seen = []  # every event taken so far, in order
        test.addCleanup(self.close)

    def attach(self, target, python=PYTHON, method="auto", expect_hello=True, cli=CLI):
        """Inject into target; returns (InjectionResult, hello or None)."""
        started = time.monotonic()
        result = run_helper(target.pid, self.settings(), python, method, cli=cli)
        self.result = result
        if not result["ok"] or not expect_hello:
            return result, None
        self.hello = self.accept(deadline=started + DEADLINE)
        return result, self.hello

    def settings(self):
        return {"port": self.port, "token": self.token, "protocolVersion": PROTOCOL_VERSION}

    def accept(self, deadline=None):
        self.server.settimeout(max(0.01, (deadline or time.monotonic() + DEADLINE) - time.monotonic()))
        connection, _ = self.server.accept()
        return self._take_hello(connection)

    def connect(self, port, token, host="127.0.0.1"):
        """Listen mode: connect to a listening runtime, proving token; returns its hello (None if it
        closed the connection instead)."""
        connection = socket.create_connection((host, port), timeout=DEADLINE)
        connection.sendall(encode_frame({"type": "hello", "token": token, "protocolVersion": PROTOCOL_VERSION}))
        self.token = token
        try:
            self.hello = self._take_hello(connection)
        except ConnectionError:
            connection.close()
            return None
        return self.hello

    def _take_hello(self, connection):
        connection.settimeout(DEADLINE)
        decoder = FrameDecoder(64 << 20)
        messages = []
        while not messages:
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError("the runtime closed the connection before its hello")
            messages = decoder.feed(chunk)
        hello = messages[0]
        self.test.assertEqual(hello["token"], self.token)
        schema.check_hello(hello)
        self.connection = connection
        self.decoder = decoder
        for message in messages[1:]:
            self._take(message)
        threading.Thread(target=self._serve, daemon=True).start()
        return hello

    def _serve(self):
        connection = self.connection
        try:
            while True:
                ready, _, _ = select.select([connection], [], [], 0.5)
                if not ready:
                    if self.closed.is_set():
                        return
                    continue
                data = connection.recv(65536)
                if not data:
                    break
                for message in self.decoder.feed(data):
                    self._take(message)
        except OSError:
            pass
        self.closed.set()
        self.events.put(("closed", None))

    def _take(self, message):
        if message["type"] == "response":
            self.responses[message["request_seq"]].put(message)
        elif message["type"] == "event":
            schema.check_event(message["event"], message["body"])
            self.events.put((message["event"], message["body"]))

    def request(self, command, arguments=None, timeout=DEADLINE):
        self.seq += 1
        seq = self.seq
        self.responses[seq] = queue.Queue()
        self.connection.sendall(encode_frame({"type": "request", "seq": seq, "command": command,
                                              "arguments": arguments or {}}))
        try:
            response = self.responses[seq].get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no answer to %s within %.0f s" % (command, timeout))
        if response["success"]:
            schema.check_response(command, response.get("body", {}))
        return response

    def body(self, command, arguments=None, timeout=DEADLINE):
        response = self.request(command, arguments, timeout)
        self.test.assertTrue(response["success"], "%s failed: %s" % (command, response.get("message")))
        return response.get("body", {})

    def start(self, **arguments):
        self.body("setFunctionBreakpoints", {"breakpoints": []})
        self.body("setTaskFilters", {"filters": []})
        self.body("start", dict({"stopOnEntry": True}, **arguments))

    def next_event(self, wanted, timeout=DEADLINE):
        """The next event named wanted (others are kept in self.seen)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event, body = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no %s event within %.0f s" % (wanted, timeout))
            self.seen.append((event, body))
            if event == wanted:
                return body

    def detach(self):
        body = self.body("detach", timeout=DEADLINE)
        if not self.closed.wait(DEADLINE):
            raise AssertionError("the runtime did not close the connection after detach")
        return body

    def close(self):
        self.closed.set()
        for sock in (self.connection, self.server):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
