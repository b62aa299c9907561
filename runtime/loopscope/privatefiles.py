"""Files only one user may read: the per-user directory of protocol.json's ATTACH_FILES, where an
attach's ticket and a listener's token file go (docs/security.md).

The directory is made mode 0700 and owned by its user; an existing one is used only if it is a real
directory (not a symlink), owned by that user and closed to everyone else, so that another user who
made it first cannot read what goes in. Files are created new (O_EXCL), mode 0600.
"""

import os
import stat

from .vocabulary import ATTACH_FILES


class UnsafeDirectory(Exception):
    """The per-user directory exists but others could read or swap what goes in; the message says what to do."""


def directory(uid=None):
    """The per-user directory of uid (this process's user by default), made or checked."""
    uid = os.getuid() if uid is None else uid
    path = ATTACH_FILES["directory"].format(uid=uid)
    try:
        os.mkdir(path, 0o700)
        if os.getuid() != uid:
            os.chown(path, uid, -1)  # root writing for another user
    except FileExistsError:
        pass
    facts = os.lstat(path)
    if not stat.S_ISDIR(facts.st_mode) or facts.st_uid != uid or facts.st_mode & 0o077:
        raise UnsafeDirectory("%s must be a directory of user %d that only it can use (mode 0700); it is not, so "
                              "Loopscope will not put a token there. Remove it and try again." % (path, uid))
    return path


def write(path, text, uid=None):
    """A new file at path, mode 0600, owned by uid (this process's user by default)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        if uid is not None and uid != os.getuid():
            os.fchown(fd, uid, -1)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    return path
