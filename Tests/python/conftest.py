"""Fixtures that start the real binaries: the mock upstream and Reprise, on free ports."""
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("REPRISE_BUILD_DIR", ROOT / ".build" / "debug"))
LISTENING = re.compile(r"listening on (?:https?://)?\S+:(\d+)")


class ManagedProcess:
    """A child process whose 'listening on HOST:PORT' stdout line gives its port."""

    def __init__(self, args, timeout=60):
        self.args = [str(a) for a in args]
        self.output = []
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        port_found = threading.Event()
        self.port = None

        def pump():
            for line in self.proc.stdout:
                self.output.append(line)
                match = LISTENING.search(line)
                if match and self.port is None:
                    self.port = int(match.group(1))
                    port_found.set()

        threading.Thread(target=pump, daemon=True).start()
        if not port_found.wait(timeout):
            self.stop()
            raise RuntimeError(f"{self.args[0]} did not start: {''.join(self.output)}")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def mock_upstream():
    process = ManagedProcess([BUILD / "reprise-mock-upstream", "--port", "0", "--chunk-delay-ms", "0"])
    yield process
    process.stop()


@pytest.fixture(scope="session")
def reprise(mock_upstream):
    process = ManagedProcess(
        [BUILD / "reprise", "--listen", "127.0.0.1:0", "--upstream", mock_upstream.url]
    )
    yield process
    process.stop()


def mock_stats(mock_upstream):
    with urllib.request.urlopen(mock_upstream.url + "/_mock/stats", timeout=10) as response:
        return json.load(response)
