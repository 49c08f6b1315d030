"""Entering a network namespace: setns(2) for the calling thread, through libc (Python 3.11 has no os.setns).

A socket keeps the namespace it was made in, so the lab makes a probe's or a listener's socket inside the
namespace and goes back at once (:func:`inside`). A child process enters one before it runs a command
(:func:`enter`, as a ``preexec_fn``). Named namespaces are the files ``ip netns`` keeps in /run/netns.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os

NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000
_libc = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def path(name: str) -> str:
    return os.path.join(NETNS_DIR, name)


def exists(name: str) -> bool:
    return os.path.exists(path(name))


def listed(prefix: str) -> list[str]:
    """The named namespaces whose names start with ``prefix``."""
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []


def enter(name: str) -> None:
    """Move the calling thread into namespace ``name`` for good (a child before exec)."""
    fd = os.open(path(name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def inside(name: str):
    """Run the block in namespace ``name``, then come back to the namespace the thread was in."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        enter(name)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


def sysctl(name: str, key: str, value: str) -> None:
    """Write ``key`` (a path under /proc/sys, e.g. ``net/ipv4/conf/flannel.1/proxy_arp``: a device name may hold
    dots) in namespace ``name``: /proc/sys/net shows the namespace of the thread that opens it."""
    with inside(name):
        with open("/proc/sys/" + key, "w") as f:
            f.write(value)
