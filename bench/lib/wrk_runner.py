"""Runs wrk with a bench/wrk script and returns its summary (parsed from the BENCH-JSON line)."""
import json
import os
import signal
import subprocess
import threading

_counter = 0


class WrkResult:
    def __init__(self, data):
        self.requests = data["requests"]
        self.duration_s = data["duration_us"] / 1e6
        self.rps = self.requests / self.duration_s if self.duration_s else 0.0
        lat = data["latency_us"]
        self.p50_ms = lat["p50"] / 1000.0
        self.p99_ms = lat["p99"] / 1000.0
        self.max_ms = lat["max"] / 1000.0
        self.errors = sum(data["errors"].values())
        self.error_detail = data["errors"]


def run_wrk(repo_dir, port, script, connections, duration_s, threads=1, env_extra=None,
            max_requests=0, nonce=None, timeout_extra=60, scheme="http"):
    """script: "fixed" or "unique". env_extra: BENCH_* variables of bench/wrk/common.lua.
    scheme "https": wrk's own TLS to the port (it does not verify the certificate)."""
    global _counter
    _counter += 1
    threads = max(1, min(threads, connections))
    wrk_dir = os.path.join(repo_dir, "bench", "wrk")
    env = dict(os.environ)
    env.update({
        "BENCH_WRK_DIR": wrk_dir,
        "BENCH_WRK_THREADS": str(threads),
        "BENCH_MAX_REQUESTS": str(max_requests),
        "BENCH_NONCE": nonce or f"{os.getpid()}-{_counter}-{os.urandom(4).hex()}",
    })
    env.update({k: str(v) for k, v in (env_extra or {}).items()})
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration_s}s", "--timeout", "10s",
            "-s", os.path.join(wrk_dir, f"{script}.lua"), f"{scheme}://127.0.0.1:{port}"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    killer = threading.Timer(duration_s + timeout_extra, proc.kill)
    killer.start()
    lines = []
    finished_threads = 0
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("BENCH-THREAD-DONE"):
                # Every thread reached its request cap: wake wrk's main thread, which prints the summary.
                finished_threads += 1
                if finished_threads == threads:
                    proc.send_signal(signal.SIGINT)
        stderr = proc.stderr.read()
        proc.wait()
    finally:
        killer.cancel()
    for line in lines:
        if line.startswith("BENCH-JSON "):
            return WrkResult(json.loads(line[len("BENCH-JSON "):]))
    raise RuntimeError(f"wrk gave no summary (exit {proc.returncode}): {''.join(lines)[-500:]} {stderr[-500:]}")
