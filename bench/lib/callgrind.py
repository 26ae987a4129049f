"""Instructions and allocations per cached hit, under valgrind --tool=callgrind (NOTES-PERF.md):
repeatable where requests/s on a shared machine is not. valgrind 3.19 cannot read Swift 6.3's
DWARF 5, so Reprise runs from a copy made with `objcopy --strip-debug`, and it dies when Swift's
async main parks in sigsuspend: `bench/lib/valgrind-sigsuspend.c`, built here and preloaded into
Reprise, works around that."""
import glob
import os
import re
import shutil
import subprocess
import time

import rawhttp
from table import Row

ALLOCATORS = ("malloc", "calloc", "realloc", "swift_allocObject", "posix_memalign", "aligned_alloc")


def parse_dump(path):
    """Total Ir and call counts of the allocation functions in one callgrind dump."""
    names = {}
    total = None
    calls = {name: 0 for name in ALLOCATORS}
    current_callee = None
    name_re = re.compile(r"^c?fn=\((\d+)\)(?: (.*))?$")
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(("fn=", "cfn=")):
                m = name_re.match(line.rstrip("\n"))
                if m:
                    ident, name = m.group(1), m.group(2)
                    if name is not None:
                        names[ident] = name
                    if line.startswith("cfn="):
                        current_callee = names.get(ident)
                continue
            if line.startswith("calls="):
                if current_callee is not None:
                    base = current_callee.split("'")[0]
                    if base in calls:
                        calls[base] += int(line[6:].split()[0])
                current_callee = None
                continue
            if line.startswith("totals:") or (total is None and line.startswith("summary:")):
                total = int(line.split(":")[1].split()[0])
    return total, calls


MALLOC_FAMILY = ("malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc")


def count_run(pid, dump_dir, run):
    """Zeroes the counters of the callgrind process `pid`, calls `run()`, dumps and parses the
    dump of that run (callgrind.PID.N in `dump_dir`). Returns (total Ir, calls by allocator,
    dump path); the probes divide by their request count. Keeps KEEP_DUMP's copy if set."""
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    run()
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    dump = None
    for _ in range(600):  # the dump of the measured run: callgrind.PID.1
        found = [path for path in glob.glob(f"{dump_dir}/callgrind.{pid}.*") if os.path.getsize(path) > 0]
        if found:
            time.sleep(1)  # written in full
            dump = found[0]
            break
        time.sleep(0.1)
    if dump is None:
        raise SystemExit("callgrind: no dump of the measured run")
    total, calls = parse_dump(dump)
    if os.environ.get("KEEP_DUMP"):
        shutil.copy(dump, os.environ["KEEP_DUMP"])
    return total, calls, dump


class CallgrindRun:
    def __init__(self, bench, registry, systems, work_dir):
        self.bench = bench
        self.registry = registry
        self.systems = systems
        self.work_dir = work_dir

    def valgrind(self, name):
        out = os.path.join(self.work_dir, f"callgrind.{name}.%p")
        return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
                "--collect-atstart=yes"], os.path.join(self.work_dir, f"callgrind.{name}.")

    def measure(self, target, prefix, requests, body_nonce, conc=8):
        o = self.bench.o
        body = rawhttp.chat_body(f"What is the capital of France? (bench {body_nonce})")
        from scenarios import sample_x_cache
        target.x_cache = sample_x_cache(target.port, body)
        # Warm-up (caches, pools, lazily initialised state), then count only the measured run.
        self.bench.wrk(target, "fixed", conc, duration=120, max_requests=max(500, requests // 10), nonce=body_nonce)
        subprocess.run(["callgrind_control", "-z", str(target.child.pid)], capture_output=True, timeout=120)
        result = self.bench.wrk(target, "fixed", conc, duration=o.callgrind_max_seconds, max_requests=requests,
                                nonce=body_nonce)
        before = set(glob.glob(prefix + "*"))
        subprocess.run(["callgrind_control", "-d", str(target.child.pid)], capture_output=True, timeout=300)
        dump = None
        for _ in range(600):
            new = sorted(set(glob.glob(prefix + "*")) - before, key=os.path.getmtime)
            if new and os.path.getsize(new[-1]) > 0:
                time.sleep(1)
                dump = new[-1]
                break
            time.sleep(0.5)
        if dump is None:
            raise RuntimeError(f"no callgrind dump for {target.label}")
        total, calls = parse_dump(dump)
        n = max(result.requests, 1)
        allocs = calls["malloc"] + calls["calloc"] + calls["realloc"] + calls["posix_memalign"] + calls["aligned_alloc"]
        return Row("callgrind hit-json", conc, target.label,
                   **{"X-Cache seen": target.x_cache,
                      "notes": f"{total / n:,.0f} instructions/request; malloc-family calls/request {allocs / n:.2f}"
                               f" (swift_allocObject {calls['swift_allocObject'] / n:.2f}); "
                               f"{result.requests} requests measured, errors {result.error_detail if result.errors else 0}; dump {os.path.basename(dump)}"})

    def run(self):
        from scenarios import Target, log
        o = self.bench.o
        rows = []
        mock = self.systems.start_mock()
        stripped = os.path.join(self.work_dir, "reprise-stripped")
        shutil.copy(self.systems.binary("reprise"), stripped)
        subprocess.run(["objcopy", "--strip-debug", stripped], check=True)
        nonce = f"callgrind-{self.bench.run_id}"

        shim = os.path.join(self.work_dir, "libvalgrind-sigsuspend.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim,
                        os.path.join(self.bench.repo_dir, "bench", "lib", "valgrind-sigsuspend.c")], check=True)

        def reprise(wrapper):
            return self.systems.start_reprise("CACHE_L1_YAML", mock.port, threads=1,
                                              wrapper=["env", f"LD_PRELOAD={shim}"] + wrapper,
                                              binary=stripped, timeout=300)

        def nginx(wrapper):
            return self.systems.start_nginx("cache", mock.port, workers=1, extra_globals=" master_process off;",
                                            wrapper=wrapper)

        for label, name, start in (("reprise-L1 (1 loop)", "reprise", reprise),
                                   ("nginx-cache (1 worker)", "nginx", nginx)):
            wrapper, prefix = self.valgrind(name)
            log(f"callgrind: {label} under valgrind, {o.callgrind_requests} hits")
            child = None
            try:
                child = start(wrapper)
                rows.append(self.measure(Target(label, child.port, child), prefix, o.callgrind_requests, nonce))
            except Exception as error:
                logs = sorted(glob.glob(os.path.join(self.work_dir, f"*-{name}*.log")), key=os.path.getmtime)
                detail = str(error)
                if logs:
                    with open(logs[-1], errors="replace") as f:
                        detail = f.read() + "\n" + detail
                rows.append(Row("callgrind hit-json", "-", label, notes="FAILED: " + failure_summary(detail)))
                log(f"callgrind {label} failed: {error}")
            finally:
                if child is not None:
                    self.registry.stop(child, grace=30)
        return rows


def failure_summary(text):
    """The telling line of a valgrind failure (3.19 crashes on Swift's libdispatch main thread)."""
    lines = text.splitlines()
    for marker in ("VALGRIND INTERNAL ERROR", "the 'impossible' happened", "Killed by fatal signal"):
        for i, line in enumerate(lines):
            if marker in line:
                where = next((x.strip(" =0123456789") for x in lines[i:] if "_dispatch" in x), "")
                return (line.strip(" -0123456789") + (f" ({where})" if where else ""))[:300]
    return " ".join(text.split())[:300]
