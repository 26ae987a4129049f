"""Processes the bench starts, and the guarantee that it stops every one of them.

Each child runs in its own session (process group), so nginx's workers go with their master.
Only processes started here are ever signalled, by their own process-group id.
"""
import atexit
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time


class StartError(Exception):
    """A child did not come up; carries its name and the tail of its log."""


def free_port():
    """A port the OS just handed out on loopback (for programs that cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout, child=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.popen.poll() is not None:
            raise StartError(f"{child.name} exited with {child.popen.returncode}:\n{child.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise StartError(f"nothing listens on 127.0.0.1:{port} after {timeout}s"
                     + (f":\n{child.log_tail()}" if child else ""))


class Child:
    def __init__(self, name, popen, log_path):
        self.name = name
        self.popen = popen
        self.log_path = log_path
        self.port = None

    @property
    def pid(self):
        return self.popen.pid

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def alive(self):
        return self.popen.poll() is None


class ProcessRegistry:
    """Starts children and stops them all on exit, error, Ctrl-C or SIGTERM."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.children = []
        self.remove_log_dir = False  # on a signal, also remove the work directory (unless --keep)
        self._lock = threading.Lock()
        atexit.register(self.stop_all)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        print(f"\nbench: signal {signum}, stopping everything it started", file=sys.stderr)
        self.stop_all()
        if self.remove_log_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)
        os._exit(128 + signum)

    def start(self, name, argv, listen_pattern=None, timeout=60, env=None):
        """Starts argv; with listen_pattern, waits for a stdout line matching it and returns the port."""
        log_path = os.path.join(self.log_dir, f"{name}.log")
        log = open(log_path, "ab")
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if listen_pattern else log,
            stderr=log,
            start_new_session=True,
            env=env,
        )
        child = Child(name, popen, log_path)
        with self._lock:
            self.children.append(child)
        if listen_pattern:
            child.port = self._read_port(child, popen, log, re.compile(listen_pattern), timeout)
        return child

    def _read_port(self, child, popen, log, pattern, timeout):
        deadline = time.monotonic() + timeout
        buffered = b""
        fd = popen.stdout.fileno()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                buffered += chunk
                log.write(chunk)
                log.flush()
                match = pattern.search(buffered.decode(errors="replace"))
                if match:
                    self._drain_in_background(popen, log)
                    return int(match.group(1))
            elif popen.poll() is not None:
                break
        self.stop(child)
        raise StartError(f"{child.name} did not print its listening line within {timeout}s "
                         f"(exit status {popen.poll()}):\n{child.log_tail()}")

    @staticmethod
    def _drain_in_background(popen, log):
        def drain():
            for chunk in iter(lambda: popen.stdout.read1(65536), b""):
                log.write(chunk)
                log.flush()
        threading.Thread(target=drain, daemon=True).start()

    def stop(self, child, grace=5.0):
        if child.popen.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                child.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                child.popen.wait(timeout=5)
        else:
            # The leader is gone; its group (nginx workers) may not be.
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        with self._lock:
            if child in self.children:
                self.children.remove(child)

    def stop_all(self):
        with self._lock:
            children = list(self.children)
        for child in reversed(children):
            self.stop(child, grace=3.0)


def rss_kib(pid):
    """VmRSS and VmHWM of a process, in KiB, from /proc/PID/status."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def group_cpu_ticks(pgid):
    """User + system CPU clock ticks of every live process in process group `pgid` (a child and,
    for nginx, its workers: each child runs in its own session). From /proc/PID/stat; a process
    that exits in between is skipped."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) ": state is fields[0]
        if int(fields[2]) == pgid:                     # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total
