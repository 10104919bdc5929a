# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Files that name hosts, projects and servers (state, plans, reports, logs) are private.

vigil often runs as root in directories other users can reach, so a file it opens must be
the file it means: never a symlink or a hard link planted there, never a file another user
wrote or may still change. ``open_private`` is the one way vigil opens such a file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat
import tempfile

# O_NOFOLLOW: a symlink as the last component fails (ELOOP) instead of being followed.
# O_NONBLOCK: a FIFO planted under the name does not hang the open (the type check refuses it).
_SAFE_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class UnsafeFile(Exception):
    """A path vigil refuses to use; the message names the path and the problem."""


def makedirs_private(path):
    """Create ``path`` and every missing parent with mode 0700.

    ``os.makedirs(path, 0o700)`` gives only the last directory that mode (since Python 3.7);
    the parents it creates would follow the umask.
    """
    path = os.path.abspath(path)
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:  # created meanwhile by someone else: theirs to keep
            pass


def check_directory(directory):
    """Refuse a directory any user may rename things in: world-writable without the sticky bit.

    Every ancestor counts (whoever may rename an ancestor may swap the whole subtree). A
    sticky directory such as /tmp is fine: there, only a file's owner may rename or remove it.
    Group-writable directories are the operator's choice (shared or OpenShift-style images).
    """
    current = os.path.realpath(directory)
    while True:
        try:
            st = os.stat(current)
        except OSError as exc:
            raise UnsafeFile("cannot use directory %s: %s" % (current, exc.strerror)) from None
        if st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX:
            raise UnsafeFile(
                "directory %s is writable by every user and not sticky (mode %o): any user could "
                "replace the files vigil keeps under it; use a private directory" % (current, stat.S_IMODE(st.st_mode))
            )
        parent = os.path.dirname(current)
        if parent == current:
            return
        current = parent


def _check_opened(fd, path):
    """The file behind ``fd`` is a regular file of ours, with one name, that no one else may change."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        problem = "is not a regular file"
    elif st.st_uid != os.geteuid():
        problem = "is owned by uid %d, not by the user running vigil (uid %d)" % (st.st_uid, os.geteuid())
    elif st.st_nlink != 1:
        # A hard link to someone else's file would pass the owner check when vigil runs as root.
        problem = "has %d hard links" % st.st_nlink
    elif st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = "is writable by other users (mode %o)" % stat.S_IMODE(st.st_mode)
    else:
        return st
    raise UnsafeFile("refusing %s: it %s; remove it or fix it by hand" % (path, problem))


def open_private(path, flags, mode=0o600):
    """``os.open`` for a private file: no symlink, a regular file of ours nobody else may write.

    A file created here is 0600; an existing one opened for writing is made 0600 (vigil wrote
    it with an older mode, or an operator copied it). Returns the fd; raises UnsafeFile.
    """
    try:
        fd = os.open(path, flags | _SAFE_FLAGS, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile("refusing %s: it is a symbolic link" % path) from None
        raise
    try:
        st = _check_opened(fd, path)
        if flags & os.O_NONBLOCK == 0:
            os.set_blocking(fd, True)
        if flags & (os.O_WRONLY | os.O_RDWR) and stat.S_IMODE(st.st_mode) & 0o077:
            os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return fd


def prepare_private_path(path):
    """Make ``path``'s directory (0700 when created) and check it is safe; return the directory."""
    directory = os.path.dirname(os.path.abspath(path))
    makedirs_private(directory)
    check_directory(directory)
    return directory


def append_private(path, text):
    """Append ``text`` to ``path``, creating it 0600 (and its directories 0700) when missing."""
    prepare_private_path(path)
    fd = open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with os.fdopen(fd, "a") as handle:
        handle.write(text)


def temp_prefix(path):
    """Name prefix of the temporary files ``replace_private`` writes beside ``path``."""
    return ".%s.tmp-" % os.path.basename(path)


def write_all(fd, payload):
    """Write every byte of ``payload`` (``os.write`` may write less than asked)."""
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]


def fsync_directory(directory):
    """Make the renames done in ``directory`` survive a power loss."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - some platforms cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - nor fsync one
        pass
    finally:
        os.close(fd)


def replace_private(path, payload, keep_open=False, sync_directory=True, prefix=None):
    """Replace ``path`` with a new 0600 file holding ``payload`` (bytes), all or nothing.

    The new file is created beside ``path`` under a fresh name (``mkstemp``: O_EXCL, no
    symlink followed, 0600), written, fsynced, then renamed over ``path``: a reader sees the
    old file or the new one, never half of one, and a symlink or hard link planted at ``path``
    is replaced rather than written through. A failure removes the temporary file. Returns
    the new file's fd, still open, with ``keep_open`` (the caller closes it), else None.
    ``prefix`` names the temporary file (default ``temp_prefix(path)``).
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=prefix or temp_prefix(path), dir=directory)
    try:
        write_all(fd, payload)
        os.fsync(fd)
        os.replace(tmp, path)
    except BaseException:
        os.close(fd)
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    if sync_directory:
        fsync_directory(directory)
    if keep_open:
        return fd
    os.close(fd)
    return None
