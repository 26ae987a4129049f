"""Entry point behind bench/run.sh: options, machine description, scenarios, the table."""
import argparse
import datetime
import os
import platform
import resource
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from callgrind import CallgrindRun  # noqa: E402
from processes import ProcessRegistry  # noqa: E402
from scenarios import Bench, log  # noqa: E402
from systems import Systems  # noqa: E402
from table import Row, render  # noqa: E402

SCENARIOS = ["hit-json", "hit-https", "hit-stream", "miss", "miss-https", "stream-ttfb", "stream-ttfb-https", "coalesce", "memory"]


def int_list(text):
    return [int(x) for x in text.split(",") if x.strip()]


def parse_options(argv):
    p = argparse.ArgumentParser(
        prog="bench/run.sh",
        description="Reprise vs nginx (proxy_cache / plain proxy) vs direct, on loopback. Prints one "
                    "table of medians over interleaved rounds and appends it to bench/RESULTS.md.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of " + ",".join(SCENARIOS))
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (A B C, B C A, ...) per measurement")
    p.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    p.add_argument("--concurrency", type=int_list, default=[1, 32, 256], help="wrk connections, comma-separated")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="Reprise event loops = nginx worker_processes = mock threads")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (capped at the connections)")
    p.add_argument("--miss-latency", type=int_list, default=[0, 50], help="mock upstream latencies (ms) for miss")
    p.add_argument("--ttfb-concurrency", type=int_list, default=[1, 32], help="client connections for stream-ttfb")
    p.add_argument("--ttfb-requests", type=int, default=300, help="streams per system per round in stream-ttfb")
    p.add_argument("--ttfb-chunk-delay-ms", type=int, default=1, help="mock delay between SSE events in stream-ttfb")
    p.add_argument("--coalesce-n", type=int, default=100, help="identical concurrent misses in coalesce")
    p.add_argument("--coalesce-latency-ms", type=int, default=300, help="mock latency while they are in flight")
    p.add_argument("--open-streams", type=int, default=1000, help="concurrent open streams in memory")
    p.add_argument("--open-stream-chunk-delay-ms", type=int, default=1000)
    p.add_argument("--open-stream-chunks", type=int, default=20)
    p.add_argument("--memory-requests", type=int, default=200_000,
                   help="requests for the leak check (issue 11 asks 1000000: about 5x longer)")
    p.add_argument("--memory-max-seconds", type=int, default=300, help="time bound of each leak-check segment")
    p.add_argument("--no-redis", action="store_true", help="skip the Redis-only Reprise variant")
    p.add_argument("--callgrind", action="store_true",
                   help="instead of the scenarios: instructions and allocations per cached hit (Reprise, nginx)")
    p.add_argument("--callgrind-requests", type=int, default=20_000)
    p.add_argument("--callgrind-max-seconds", type=int, default=900)
    p.add_argument("--quick", action="store_true",
                   help="development mode: 1 round, 2 s runs, concurrency 32, small ttfb/coalesce/memory counts")
    p.add_argument("--label", default="", help="a word on this run, written with its table (e.g. 'development run')")
    p.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    p.add_argument("--keep", action="store_true", help="keep the work directory (configs, logs, dumps)")
    p.add_argument("--bin-dir", required=True, help="directory holding release reprise and reprise-mock-upstream")
    o = p.parse_args(argv)
    if o.quick:
        o.rounds, o.duration, o.concurrency = 1, 2, [32]
        o.ttfb_concurrency, o.ttfb_requests = [1], 100
        o.coalesce_n, o.open_streams = 50, 200
        o.open_stream_chunk_delay_ms, o.open_stream_chunks = 500, 20
        o.memory_requests = 20_000
        o.callgrind_requests = 2_000
    o.scenarios = [s.strip() for s in o.scenarios.split(",") if s.strip()]
    unknown = set(o.scenarios) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return o


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()
    return (f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, "
            f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def describe(o):
    if o.callgrind:
        return f"--callgrind: {o.callgrind_requests} requests, wrk -c8"
    return (f"{o.rounds} rounds x {o.duration}s, concurrency {','.join(map(str, o.concurrency))}, "
            f"threads {o.threads}, wrk threads {o.wrk_threads}, scenarios {','.join(o.scenarios)}"
            + (" (--quick)" if o.quick else ""))


# Runs go at the end of the "## Runs" part: before the first "## " heading that follows it
# (the optimization log and the state against the targets stay last), or at the end of the file.
RUNS_HEADING = "## Runs"


def record(path, text):
    with open(path) as f:
        document = f.read()
    runs_at = document.find("\n" + RUNS_HEADING + "\n")
    next_at = document.find("\n## ", runs_at + 1) if runs_at >= 0 else -1
    if next_at < 0:
        document = document.rstrip("\n") + "\n\n" + text
    else:
        document = document[:next_at].rstrip("\n") + "\n\n" + text + "\n" + document[next_at:]
    with open(path, "w") as f:
        f.write(document)
    log(f"table recorded in {os.path.relpath(path)} (end of {RUNS_HEADING})")


def main(argv):
    o = parse_options(argv)
    repo_dir = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, 65536):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))  # inherited by the children
    work_dir = tempfile.mkdtemp(prefix="reprise-bench-")
    registry = ProcessRegistry(work_dir)
    registry.remove_log_dir = not o.keep
    systems = Systems(registry, work_dir, os.path.abspath(o.bin_dir), repo_dir, o.threads)
    bench = Bench(o, systems, repo_dir)
    started = datetime.datetime.now(datetime.timezone.utc)
    header = f"machine: {machine()}"
    log(header)
    log(f"work directory {work_dir}")

    rows = []
    try:
        if o.callgrind:
            rows += CallgrindRun(bench, registry, systems, work_dir).run()
        else:
            runners = {
                "hit-json": lambda: bench.scenario_hit(stream=False),
                "hit-stream": lambda: bench.scenario_hit(stream=True),
                "hit-https": lambda: bench.scenario_hit(stream=False, tls=True),
                "miss": bench.scenario_miss,
                "miss-https": lambda: bench.scenario_miss(tls=True),
                "stream-ttfb": bench.scenario_ttfb,
                "stream-ttfb-https": lambda: bench.scenario_ttfb(tls=True),
                "coalesce": bench.scenario_coalesce,
                "memory": bench.scenario_memory,
            }
            for name in SCENARIOS:
                if name not in o.scenarios:
                    continue
                t0 = time.monotonic()
                try:
                    rows += runners[name]()
                except Exception as error:  # one failed scenario must not hide the others' results
                    log(f"{name} failed: {error!r}")
                    rows.append(Row(name, "-", "-", notes=f"FAILED: {type(error).__name__}: {error}"[:400]))
                log(f"{name} done in {time.monotonic() - t0:.0f} s")
    finally:
        registry.stop_all()

    elapsed = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    title = f"### {started:%Y-%m-%d %H:%M} UTC" + (f" — {o.label}" if o.label else "")
    text = "\n".join([
        title, "",
        f"- {header}",
        f"- {describe(o)}; took {elapsed:.0f} s",
        f"- command: `bench/run.sh {' '.join(a for a in argv if not a.startswith('--bin-dir') and a != o.bin_dir)}`",
        "", render(rows), ""])
    print(text)
    if not o.no_record:
        record(os.path.join(repo_dir, "bench", "RESULTS.md"), text)
    if o.keep:
        log(f"kept {work_dir}")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
