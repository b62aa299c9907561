"""The attach ticket: a script in the per-user directory of the program's user (privatefiles.py),
readable by that user only, that runs bootstrap.py with the attach's settings and one-time token
(protocol.json's AttachTicket). Whatever gets the ticket run (sys.remote_exec, gdb) runs this file
in the program. The bootstrap empties it at once (bootstrap.USED_TICKET); a ticket that never ran
is emptied the same way, never deleted: a sys.remote_exec still pending would run it later and,
finding no file, print an error in the program's own stderr. Emptied tickets of processes that have
exited are swept away at the next attach.

Attaching as root to another user's program, the runtime is copied where that user can read it.
"""

import glob
import hashlib
import json
import os
import re
import secrets
import shutil

from .. import bootstrap, privatefiles
from ..vocabulary import ATTACH_FILES

_RUNTIME = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def owner(pid):
    """The real user id of process pid (OSError when it is gone)."""
    with open("/proc/%d/status" % pid) as status:
        return int(re.search(r"^Uid:\s+(\d+)", status.read(), re.M).group(1))


def write(pid, settings):
    """The ticket for process pid, with settings (port, token, protocolVersion); returns its path."""
    uid = owner(pid)
    directory = privatefiles.directory(uid)
    sweep(directory)
    ticket = dict(settings, id=secrets.token_hex(8), runtime=_runtime_for(uid, directory))
    boot = os.path.join(ticket["runtime"], "loopscope", "bootstrap.py")
    path = os.path.join(directory, ATTACH_FILES["ticketFile"].format(pid=pid, id=ticket["id"]))
    # One statement that binds no name wherever it runs (sys.remote_exec and gdb run it in
    # namespaces of their own): bootstrap.py with the ticket in its globals.
    text = ("# Loopscope attach ticket for process %d; see bootstrap.py\n"
            "exec(compile(__import__('io').open_code(%s).read(), %s, 'exec'), "
            "{'__name__': '__loopscope_bootstrap__', 'TICKET': %s, 'TICKET_PATH': %s})\n"
            % (pid, json.dumps(boot), json.dumps(boot), json.dumps(ticket, sort_keys=True), json.dumps(path)))
    return privatefiles.write(path, text, uid)


def discard(path):
    """Empty a ticket that may not have run: its token goes, a late run of it does nothing."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return
    try:
        os.write(fd, bootstrap.USED_TICKET)
    finally:
        os.close(fd)


def sweep(directory):
    """Remove the tickets of processes that have exited."""
    pattern = ATTACH_FILES["ticketFile"].format(pid="*", id="*")
    for path in glob.glob(os.path.join(directory, pattern)):
        pid = re.match(r"\D*(\d+)", os.path.basename(path))
        if pid and not os.path.exists("/proc/%s" % pid.group(1)):
            try:
                os.unlink(path)
            except OSError:
                pass


def _runtime_for(uid, directory):
    """The runtime directory the program's user can read: this one, or a copy in its directory."""
    if uid == os.getuid() or _readable_by_anyone(_RUNTIME):
        return _RUNTIME
    digest = hashlib.sha1()
    sources = sorted(glob.glob(os.path.join(_RUNTIME, "loopscope", "**", "*.*"), recursive=True))
    sources = [path for path in sources if path.endswith((".py", ".json", ".xml")) and "__pycache__" not in path]
    for path in sources:
        with open(path, "rb") as source:
            digest.update(path.encode() + b"\0" + source.read())
    copy = os.path.join(directory, "runtime-%s" % digest.hexdigest()[:16])
    if not os.path.isdir(copy):
        staging = copy + ".%s" % secrets.token_hex(4)
        for path in sources:
            target = os.path.join(staging, os.path.relpath(path, _RUNTIME))
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            shutil.copyfile(path, target)
        for root, dirs, files in os.walk(staging):
            for name in dirs + files:
                os.chown(os.path.join(root, name), uid, -1)
        os.chown(staging, uid, -1)
        os.rename(staging, copy)
    return copy


def _readable_by_anyone(runtime):
    """Every directory down to the runtime's files searchable, and its files readable, by all users."""
    path = os.path.abspath(runtime)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return all(os.stat(os.path.join(_RUNTIME, "loopscope", name)).st_mode & 0o004
               for name in ("__init__.py", "bootstrap.py", "attachment.py"))
