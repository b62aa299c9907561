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
import stat

from .. import bootstrap, privatefiles
from ..vocabulary import ATTACH_FILES

_RUNTIME = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


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
    """Empty a ticket that may not have run: its token goes, a late run of it does nothing. Only the
    ticket itself: the directory belongs to the program's user, who could have put a link there."""
    try:
        fd = os.open(path, os.O_WRONLY | _NOFOLLOW)
    except OSError:
        return
    try:
        facts = os.fstat(fd)
        if stat.S_ISREG(facts.st_mode) and facts.st_nlink == 1:
            os.ftruncate(fd, 0)
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
    name = "runtime-%s" % digest.hexdigest()[:16]
    copy = os.path.join(directory, name)
    if not os.path.isdir(copy):
        # Written as root into a directory the program's user owns: every step relative to a
        # directory descriptor, never following a link that user could have put in the way.
        parent = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
        try:
            staging = "%s.%s" % (name, secrets.token_hex(4))
            _copy_tree(parent, staging, sources, uid)
            os.rename(staging, name, src_dir_fd=parent, dst_dir_fd=parent)
        finally:
            os.close(parent)
    return copy


def _copy_tree(parent, name, sources, uid):
    """The runtime's files under parent/name, made new, owned by uid."""
    os.mkdir(name, 0o700, dir_fd=parent)
    opened = {"": os.open(name, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW, dir_fd=parent)}
    try:
        os.fchown(opened[""], uid, -1)
        for path in sources:
            relative = os.path.relpath(path, _RUNTIME)
            folder, file_name = os.path.split(relative)
            if folder not in opened:
                above, last = os.path.split(folder)
                os.mkdir(last, 0o700, dir_fd=opened[above])
                opened[folder] = os.open(last, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW, dir_fd=opened[above])
                os.fchown(opened[folder], uid, -1)
            with open(path, "rb") as source:
                data = source.read()
            fd = os.open(file_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=opened[folder])
            try:
                os.fchown(fd, uid, -1)
                while data:
                    data = data[os.write(fd, data):]
            finally:
                os.close(fd)
    finally:
        for fd in opened.values():
            os.close(fd)


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
