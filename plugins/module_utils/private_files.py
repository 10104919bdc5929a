# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Files that name hosts, projects and servers (state, plans, reports) are private."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


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


def append_private(path, text):
    """Append ``text`` to ``path``, creating it 0600 (and its directories 0700) when missing."""
    makedirs_private(os.path.dirname(os.path.abspath(path)))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.write(text)
