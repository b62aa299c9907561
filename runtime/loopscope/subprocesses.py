"""subProcess: the child Python processes the program starts run under the runtime too, and each
connects to the adapter, which offers it to the client as a child debug session.

Children are started through _posixsubprocess.fork_exec (subprocess.Popen, so asyncio's
subprocesses too, and multiprocessing's spawn; subprocess keeps its own reference to it from 3.11)
or os.posix_spawn (subprocess from 3.13, where the C library can close descriptors in it). Those
are wrapped: when the executable is this interpreter (sys.executable, or the same file) and the
command line runs a script, -m MODULE or -c CODE, the runtime's __main__.py goes in front of the
target with --connect to the adapter's port for children, and the child's environment gets a token
of its own: HMAC-SHA256(key, nonce) for a fresh random nonce, which the adapter checks and accepts
once. Nothing else changes: the child's sys.argv, sys.path and environment are as the program asked
(sys.orig_argv shows the runtime). Left alone: other interpreters, os.exec*() and os.spawn*(),
python -i, -I, -P, -x, stdin or no target, and multiprocessing's helper processes (the forkserver,
whose workers are forks and run free, and the resource tracker).
"""

import _posixsubprocess
import hashlib
import hmac
import os
import subprocess
import sys

RUNTIME_MAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__main__.py")
# Interpreter options without a value, and with one (the value attached, -Wignore, or next).
_FLAGS = frozenset("bBdEOqRsSuv")
_WITH_VALUE = frozenset("WX")
# Options that make the runtime's own script misbehave or that need a terminal: such a child runs plain.
_NOT_DEBUGGED = {"i": "-i (interactive)", "I": "-I (isolated mode)", "P": "-P (safe path)",
                 "x": "-x (skip the first line)", "h": "-h", "V": "-V", "?": "-?"}
# multiprocessing's helper processes, started with -c: not the program's own code.
_HELPERS = ("multiprocessing.forkserver", "multiprocessing.resource_tracker", "multiprocessing.semaphore_tracker")
_OWN_VARIABLES = (b"LOOPSCOPE_TOKEN=", b"LOOPSCOPE_NONCE=", b"LOOPSCOPE_CHECK_PROTOCOL=")

_original_fork_exec = _posixsubprocess.fork_exec
_original_posix_spawn = getattr(os, "posix_spawn", None)


class _Settings:
    address = None         # "127.0.0.1:PORT" of the adapter's port for children
    key = b""
    check_protocol = False
    warn = None            # warn(message): tell the user once about a child left alone
    told = set()


def install(port, key, check_protocol, warn):
    """Start the program's child Python processes under the runtime from now on."""
    _Settings.address = "127.0.0.1:%d" % port
    _Settings.key = key.encode("ascii")
    _Settings.check_protocol = check_protocol
    _Settings.warn = warn
    _posixsubprocess.fork_exec = _fork_exec
    if getattr(subprocess, "_fork_exec", None) is _original_fork_exec:
        subprocess._fork_exec = _fork_exec
    if _original_posix_spawn is not None:
        os.posix_spawn = _posix_spawn


def child_arguments(args, executable):
    """The command line that runs the same child under the runtime, or None (with the reason in
    child_arguments.why) when the child is not one to debug. args: the child's argv; executable: the
    file that will be executed."""
    child_arguments.why = None
    if not args or not _is_this_interpreter(executable):
        return None
    words = [os.fsdecode(word) for word in args]
    options, index = [], 1
    while index < len(words):
        word = words[index]
        if word == "--" or not word.startswith("-") or word == "-":
            break
        if word.startswith("--"):
            child_arguments.why = "the interpreter option %s" % word
            return None
        position = 1
        while position < len(word):
            letter = word[position]
            if letter in _FLAGS:
                options.append("-" + letter)
                position += 1
                continue
            if letter in _WITH_VALUE or letter in "cm":
                value = word[position + 1:]
                if not value:
                    index += 1
                    if index >= len(words):
                        return None  # python -c with nothing after it: Python says so itself
                    value = words[index]
                if letter in "cm":
                    return _with_runtime(args, options, ["-" + letter, value], index + 1)
                options.append("-" + letter + value)
                break
            child_arguments.why = _NOT_DEBUGGED.get(letter, "the interpreter option -%s" % letter)
            return None
        index += 1
    if index < len(words) and words[index] == "--":
        index += 1
    if index >= len(words) or words[index] == "-":
        child_arguments.why = "no script (standard input or the interactive prompt)"
        return None
    return _with_runtime(args, options, ["--", words[index]], index + 1)


child_arguments.why = None


def _with_runtime(args, options, target, rest):
    if target[0] == "-c" and any(helper in target[1] for helper in _HELPERS):
        return None  # a helper process of multiprocessing's
    return [args[0]] + options + [RUNTIME_MAIN, "--connect", _Settings.address] + target + list(args[rest:])


def _is_this_interpreter(executable):
    try:
        return os.path.realpath(os.fsdecode(executable)) == os.path.realpath(sys.executable)
    except (TypeError, ValueError, OSError):
        return False


def new_token():
    """A nonce and its token, HMAC-SHA256(key, nonce) in hex: one child's proof for the adapter."""
    nonce = os.urandom(16).hex()
    return nonce, hmac.new(_Settings.key, nonce.encode("ascii"), hashlib.sha256).hexdigest()


def _own_variables():
    nonce, token = new_token()
    variables = [(b"LOOPSCOPE_TOKEN", token.encode("ascii")), (b"LOOPSCOPE_NONCE", nonce.encode("ascii"))]
    if _Settings.check_protocol:
        variables.append((b"LOOPSCOPE_CHECK_PROTOCOL", b"1"))
    return variables


def _environment_list(env_list):
    """fork_exec's environment (a list of b'NAME=value', or None for this process's) with the child's token."""
    if env_list is None:
        env_list = [name + b"=" + value for name, value in os.environb.items()]
    kept = [entry for entry in env_list if not bytes(entry).startswith(_OWN_VARIABLES)]
    return kept + [name + b"=" + value for name, value in _own_variables()]


def _environment_mapping(env):
    """posix_spawn's environment (a mapping, or None for this process's from 3.13) with the child's token."""
    result = {name: value for name, value in (os.environb if env is None else env).items()
              if os.fsencode(name) + b"=" not in _OWN_VARIABLES}
    for name, value in _own_variables():
        result[name] = value
    return result


def _first_existing(executables):
    for executable in executables:
        if os.path.isfile(os.fsdecode(executable)):
            return executable
    return None


def _tell_left_alone(args):
    why = child_arguments.why
    if why is None or _Settings.warn is None or why in _Settings.told:
        return
    _Settings.told.add(why)
    try:
        _Settings.warn("A child Python process (%s) runs without Loopscope: subProcess does not debug a child "
                       "started with %s." % (" ".join(os.fsdecode(word) for word in args[:4]), why))
    except Exception:
        pass


def _fork_exec(args, executable_list, *rest):
    try:
        executable = _first_existing(executable_list)
        changed = child_arguments(args, executable) if executable is not None else None
        if changed is None:
            _tell_left_alone(args)
        else:
            # fork_exec(args, executable_list, close_fds, fds_to_keep, cwd, env_list, ...) on 3.8-3.15
            rest = list(rest)
            rest[3] = _environment_list(rest[3])
            args = changed
    except Exception:
        pass  # the child starts as the program asked, without the debugger
    return _original_fork_exec(args, executable_list, *rest)


def _posix_spawn(path, argv, env, *rest, **options):
    try:
        changed = child_arguments(argv, path)
        if changed is None:
            _tell_left_alone(argv)
        else:
            argv, env = changed, _environment_mapping(env)
    except Exception:
        pass
    return _original_posix_spawn(path, argv, env, *rest, **options)
