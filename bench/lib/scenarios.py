"""The scenarios: each starts what it needs, runs the systems interleaved (A B C, B C A, ...) for
the configured rounds, and returns table rows of medians and paired comparisons."""
import os
import time

import rawhttp
from pki import make_pki
from processes import CLOCK_TICKS_PER_SECOND, group_cpu_ticks, rss_kib
from stats import fmt, fmt_signed, median, paired_difference, paired_ratio
from systems import ConfigRejected
from table import Row
from wrk_runner import run_wrk


def log(message):
    print(f"bench: {message}", flush=True, file=__import__("sys").stderr)


class Target:
    """One system to measure: a label, a port, what its X-Cache sample showed, and whether it
    speaks HTTPS (the TLS mock, and the proxies' HTTPS listeners in hit-https)."""

    def __init__(self, label, port, child=None, scheme="http"):
        self.label = label
        self.port = port
        self.child = child
        self.scheme = scheme
        self.x_cache = ""


def rotated(items, r):
    k = r % len(items)
    return items[k:] + items[:k]


def interleave(targets, rounds, measure):
    """measure(target, round) -> result; returns {label: [result per round]}."""
    results = {t.label: [] for t in targets}
    for r in range(rounds):
        for t in rotated(targets, r):
            results[t.label].append(measure(t, r))
    return results


def sample_x_cache(port, body, headers=None, times=2, tls=False):
    """X-Cache of `times` identical requests (e.g. "MISS>HIT"), so the table says what was measured."""
    seen = []
    for _ in range(times):
        try:
            status, hdrs, _ = rawhttp.simple_request(port, "POST", "/v1/chat/completions", body, headers, tls=tls)
            seen.append(hdrs.get("x-cache", "none") + ("" if status == 200 else f"({status})"))
        except OSError as error:
            seen.append(f"error:{error}")
        time.sleep(0.2)
    return ">".join(seen)


class Bench:
    def __init__(self, options, systems, repo_dir):
        self.o = options
        self.systems = systems
        self.repo_dir = repo_dir
        self.run_id = f"{int(time.time())}-{os.getpid()}"
        self._mock0 = None
        self._mock_tls = None
        self._pki = None

    # Shared pieces -------------------------------------------------------------------------------
    def mock0(self):
        if self._mock0 is None or not self._mock0.alive():
            self._mock0 = self.systems.start_mock()
        return self._mock0

    def mock_tls(self):
        """The mock serving HTTPS with a certificate of this run's private CA (made on first use)."""
        if self._mock_tls is None or not self._mock_tls.alive():
            self._pki = self._pki or make_pki(self.systems.work_dir)
            self._mock_tls = self.systems.start_mock(pki=self._pki)
        return self._mock_tls

    def wrk(self, target, script, conc, env=None, duration=None, max_requests=0, nonce=None):
        """One wrk run; the result also carries the target's CPU time per request (its whole
        process group: nginx's master and workers), from /proc over the run."""
        before = group_cpu_ticks(target.child.pid) if target.child else None
        result = run_wrk(self.repo_dir, target.port, script, conc, duration or self.o.duration,
                         threads=self.o.wrk_threads, env_extra=env, max_requests=max_requests, nonce=nonce,
                         scheme=target.scheme)
        result.cpu_us = None
        if before is not None and result.requests:
            ticks = group_cpu_ticks(target.child.pid) - before
            result.cpu_us = ticks * 1e6 / CLOCK_TICKS_PER_SECOND / result.requests
        return result

    def wrk_rows(self, scenario, conc, targets, results, reference, direct=None, notes=None):
        rows = []
        ref = results.get(reference) if reference else None
        base = results.get(direct) if direct else None
        for t in targets:
            rs = results[t.label]
            rps = [x.rps for x in rs]
            p50 = [x.p50_ms for x in rs]
            p99 = [x.p99_ms for x in rs]
            cpu = [x.cpu_us for x in rs]
            errors = sum(x.errors for x in rs)
            cells = {
                "req/s": fmt(median(rps), 0),
                "p50 ms": fmt(median(p50), 3),
                "p99 ms": fmt(median(p99), 3),
                "CPU µs/req": fmt(median(cpu), 1),
                "X-Cache seen": t.x_cache,
            }
            if ref is not None:
                if t.label == reference:
                    cells["req/s vs ref"] = "ref"
                    cells["p99 vs ref"] = "ref"
                    cells["CPU vs ref"] = "ref"
                else:
                    cells["req/s vs ref"] = fmt(paired_ratio(rps, [x.rps for x in ref]), 2, "x")
                    cells["p99 vs ref"] = fmt(paired_ratio(p99, [x.p99_ms for x in ref]), 2, "x")
                    cells["CPU vs ref"] = fmt(paired_ratio(cpu, [x.cpu_us for x in ref]), 2, "x")
            if base is not None and t.label != direct:
                cells["added p50 / p99 ms"] = (fmt_signed(paired_difference(p50, [x.p50_ms for x in base]), 3)
                                               + " / " + fmt_signed(paired_difference(p99, [x.p99_ms for x in base]), 3))
            note = list(notes.get(t.label, [])) if notes else []
            if errors:
                note.append(f"{errors} wrk errors")
            cells["notes"] = "; ".join(note)
            rows.append(Row(scenario, conc, t.label, **cells))
        return rows

    def start_reprise_target(self, label, cache_name, upstream_port, note_rows, scenario, redis_port=None, pki=None,
                             serve_pki=None):
        """serve_pki: the target is Reprise's HTTPS listener (that certificate)."""
        try:
            child = self.systems.start_reprise(cache_name, upstream_port, redis_port=redis_port, pki=pki,
                                               serve_pki=serve_pki)
        except ConfigRejected as error:
            note_rows.append(Row(scenario, "-", label, notes=f"skipped: Reprise rejects the config ({error})"))
            log(f"{label}: skipped, config rejected: {error}")
            return None
        if serve_pki:
            return Target(label, child.tls_port, child, scheme="https")
        return Target(label, child.port, child)

    # hit-json / hit-stream -----------------------------------------------------------------------
    def hit_targets(self, rows, scenario):
        """Reprise (L1), Reprise (Redis only) when configurable, nginx proxy_cache; one set per run."""
        if getattr(self, "_hit_targets", None) is not None:
            return self._hit_targets
        mock = self.mock0()
        targets = []
        l1 = self.start_reprise_target("reprise-L1", "CACHE_L1_YAML", mock.port, rows, scenario)
        if l1:
            targets.append(l1)
        if not self.o.no_redis:
            redis = self.systems.start_redis()
            rd = self.start_reprise_target("reprise-redis", "CACHE_REDIS_YAML", mock.port, rows, scenario,
                                           redis_port=redis.port)
            if rd:
                targets.append(rd)
        nginx = self.systems.start_nginx("cache", mock.port)
        targets.append(Target("nginx-cache", nginx.port, nginx))
        self._hit_targets = targets
        return targets

    def hit_https_targets(self, rows, scenario):
        """Reprise (L1) and nginx proxy_cache, each serving HTTPS with this run's certificate
        (ECDSA P-256, both on the system's OpenSSL); the upstream stays plain (hits never reach it)."""
        if getattr(self, "_hit_https_targets", None) is not None:
            return self._hit_https_targets
        mock = self.mock0()
        self._pki = self._pki or make_pki(self.systems.work_dir)
        targets = []
        l1 = self.start_reprise_target("reprise-L1-tls", "CACHE_L1_YAML", mock.port, rows, scenario, serve_pki=self._pki)
        if l1:
            targets.append(l1)
        nginx = self.systems.start_nginx("cache-tls", mock.port, pki=self._pki)
        targets.append(Target("nginx-cache-tls", nginx.port, nginx, scheme="https"))
        self._hit_https_targets = targets
        return targets

    def scenario_hit(self, stream, tls=False):
        scenario = "hit-https" if tls else "hit-stream" if stream else "hit-json"
        rows = []
        targets = self.hit_https_targets(rows, scenario) if tls else self.hit_targets(rows, scenario)
        reference = "nginx-cache-tls" if tls else "nginx-cache"
        nonce = f"{scenario}-{self.run_id}"
        body = rawhttp.chat_body(f"What is the capital of France? (bench {nonce})", stream=stream)
        env = {"BENCH_STREAM": "1" if stream else "0"}
        for t in targets:
            t.x_cache = sample_x_cache(t.port, body, tls=t.scheme == "https")
            log(f"{scenario} {t.label}: X-Cache {t.x_cache}")
        for conc in self.o.concurrency:
            if not self.o.quick:
                for t in targets:
                    self.wrk(t, "fixed", conc, env, duration=1, nonce=nonce)
            log(f"{scenario} c={conc}: {self.o.rounds} rounds x {len(targets)} systems x {self.o.duration}s")
            results = interleave(targets, self.o.rounds,
                                 lambda t, r: self.wrk(t, "fixed", conc, env, nonce=nonce))
            rows += self.wrk_rows(scenario, conc, targets, results, reference)
        return rows

    # miss --------------------------------------------------------------------------------------
    def miss_targets(self, rows, tls=False):
        """direct (the mock), Reprise as a cacheable miss (cache on: it also stores every answer),
        Reprise as a pass-through (cache off), nginx plain proxy_pass. tls: the same against the
        TLS mock (an https:// upstream; labels end in -tls, nginx with proxy_ssl)."""
        cached = getattr(self, "_miss_targets", {})
        self._miss_targets = cached
        if tls in cached:
            return cached[tls]
        mock = self.mock_tls() if tls else self.mock0()
        pki = mock.pki
        suffix = "-tls" if tls else ""
        scenario = "miss-https" if tls else "miss"
        targets = [Target("direct" + suffix, mock.port, mock, scheme="https" if tls else "http")]
        for label, cache in (("reprise", "CACHE_L1_YAML"), ("reprise-nocache", "CACHE_OFF_YAML")):
            reprise = self.start_reprise_target(label + suffix, cache, mock.port, rows, scenario, pki=pki)
            if reprise:
                targets.append(reprise)
        nginx = self.systems.start_nginx("plain-tls" if tls else "plain", mock.port, pki=pki)
        targets.append(Target("nginx-plain" + suffix, nginx.port, nginx))
        cached[tls] = targets
        return targets

    def scenario_miss(self, tls=False):
        rows = []
        targets = self.miss_targets(rows, tls)
        suffix = "-tls" if tls else ""
        for latency in self.o.miss_latency:
            scenario = f"miss{'-https' if tls else ''} {latency}ms"
            env = {"BENCH_MOCK_LATENCY_MS": latency}
            for t in targets:
                body = rawhttp.chat_body(f"x-cache sample {os.urandom(6).hex()}")
                t.x_cache = sample_x_cache(t.port, body, {"X-Mock-Latency-Ms": str(latency)}, times=1,
                                           tls=t.scheme == "https")
            for conc in self.o.concurrency:
                log(f"{scenario} c={conc}: {self.o.rounds} rounds x {len(targets)} systems x {self.o.duration}s")
                if not self.o.quick:  # connections (and TLS sessions) up before the measured rounds
                    for t in targets:
                        self.wrk(t, "unique", conc, env, duration=1)
                results = interleave(targets, self.o.rounds, lambda t, r: self.wrk(t, "unique", conc, env))
                rows += self.wrk_rows(scenario, conc, targets, results, "nginx-plain" + suffix,
                                      direct="direct" + suffix)
        return rows

    # stream-ttfb -------------------------------------------------------------------------------
    def scenario_ttfb(self, tls=False):
        """Streamed misses timed by a raw-socket client. tls: through the proxies to the TLS mock;
        that client speaks plain HTTP only, so there is no direct row, and the comparison that
        the issue asks (added time to first byte <= nginx's) is the paired difference against
        nginx-plain-tls (the direct part is the same for both)."""
        rows = []
        suffix = "-tls" if tls else ""
        reference, direct = "nginx-plain" + suffix, "direct" + suffix
        targets = [t for t in self.miss_targets(rows, tls) if t.scheme == "http"]
        name = "stream-ttfb-https" if tls else "stream-ttfb"
        headers = {"X-Mock-Chunk-Delay-Ms": str(self.o.ttfb_chunk_delay_ms)}
        counter = [0]

        def make_request(i):
            counter[0] += 1
            body = rawhttp.chat_body(f"ttfb {self.run_id} {counter[0]}", stream=True)
            return rawhttp.encode_request("/v1/chat/completions", body, headers)

        for conc in self.o.ttfb_concurrency:
            log(f"{name} c={conc}: {self.o.rounds} rounds x {len(targets)} systems x {self.o.ttfb_requests} requests")

            def measure(t, r):
                timings = rawhttp.run_closed_loop(t.port, make_request, conc, self.o.ttfb_requests)
                ok = [x for x in timings if x.status == 200]
                t.x_cache = ",".join(sorted({x.x_cache or "none" for x in timings}))
                return {
                    "n": len(ok), "bad": len(timings) - len(ok),
                    "first byte": [x.first_byte * 1000 for x in ok],
                    "first event": [x.first_body * 1000 for x in ok if x.first_body is not None],
                    "last byte": [x.last_byte * 1000 for x in ok],
                }

            results = interleave(targets, self.o.rounds, measure)
            for metric in ("first byte", "first event", "last byte"):
                per = {label: {"p50": [rawhttp.percentile(res[metric], 50) for res in rs],
                               "p99": [rawhttp.percentile(res[metric], 99) for res in rs]}
                       for label, rs in results.items()}
                for t in targets:
                    p = per[t.label]
                    cells = {"p50 ms": fmt(median(p["p50"]), 3), "p99 ms": fmt(median(p["p99"]), 3),
                             "X-Cache seen": t.x_cache}
                    ref = per[reference]
                    note = []
                    if t.label != reference:
                        cells["p99 vs ref"] = fmt(paired_ratio(p["p99"], ref["p99"]), 2, "x")
                        note.append("p50 / p99 vs ref " + fmt_signed(paired_difference(p["p50"], ref["p50"]), 3)
                                    + " / " + fmt_signed(paired_difference(p["p99"], ref["p99"]), 3) + " ms")
                    else:
                        cells["p99 vs ref"] = "ref"
                    if direct in per and t.label != direct:
                        d = per[direct]
                        cells["added p50 / p99 ms"] = (fmt_signed(paired_difference(p["p50"], d["p50"]), 3) + " / "
                                                       + fmt_signed(paired_difference(p["p99"], d["p99"]), 3))
                    bad = sum(res["bad"] for res in results[t.label])
                    n = sum(res["n"] for res in results[t.label])
                    note.append(f"{n} streams" + (f", {bad} not 200" if bad else ""))
                    cells["notes"] = "; ".join(note)
                    rows.append(Row(f"{name} {metric}", conc, t.label, **cells))
        return rows

    # coalesce ----------------------------------------------------------------------------------
    def scenario_coalesce(self):
        rows = []
        mock = self.mock0()
        targets = [Target("direct", mock.port, mock)]
        hit = self.hit_targets(rows, "coalesce")
        targets += [t for t in hit if t.label in ("reprise-L1", "nginx-cache")]
        n = self.o.coalesce_n
        latency = self.o.coalesce_latency_ms
        log(f"coalesce: {n} identical concurrent misses (upstream latency {latency} ms), {self.o.rounds} rounds")

        def measure(t, r):
            body = rawhttp.chat_body(f"coalesce {self.run_id} round {r} {t.label}")
            request = rawhttp.encode_request("/v1/chat/completions", body, {"X-Mock-Latency-Ms": str(latency)})
            before = rawhttp.mock_request_count(mock.port)
            timings = rawhttp.run_closed_loop(t.port, lambda i: request, n, n)
            calls = rawhttp.mock_request_count(mock.port) - before
            caches = {}
            for x in timings:
                caches[x.x_cache or "none"] = caches.get(x.x_cache or "none", 0) + 1
            return {"calls": calls, "caches": caches, "ok": sum(x.status == 200 for x in timings),
                    "p50": rawhttp.percentile([x.last_byte * 1000 for x in timings], 50),
                    "p99": rawhttp.percentile([x.last_byte * 1000 for x in timings], 99)}

        results = interleave(targets, self.o.rounds, measure)
        for t in targets:
            rs = results[t.label]
            last = rs[-1]["caches"]
            rows.append(Row("coalesce", n, t.label,
                            **{"p50 ms": fmt(median([x["p50"] for x in rs]), 1),
                               "p99 ms": fmt(median([x["p99"] for x in rs]), 1),
                               "X-Cache seen": " ".join(f"{k}:{v}" for k, v in sorted(last.items())),
                               "notes": f"upstream calls for {n} identical requests: median "
                                        f"{median([x['calls'] for x in rs])} (rounds {[x['calls'] for x in rs]}); "
                                        f"200s {min(x['ok'] for x in rs)}/{n}; mock latency {latency} ms"}))
        return rows

    # memory ------------------------------------------------------------------------------------
    def scenario_memory(self):
        rows = []
        mock = self.mock0()
        reprise = self.start_reprise_target("reprise-L1", "CACHE_L1_YAML", mock.port, rows, "memory")
        if reprise is None:
            return rows
        pid = reprise.child.pid

        def rss_mb():
            rss, hwm = rss_kib(pid)
            return rss / 1024.0, hwm / 1024.0

        time.sleep(2)
        idle, _ = rss_mb()
        rows.append(Row("memory idle", 0, "reprise-L1", notes=f"RSS {idle:.1f} MB (target <= 40 MB)"))
        log(f"memory: idle RSS {idle:.1f} MB")

        # Streams held open by a slow upstream (chunk delay), each on its own client connection.
        n = self.o.open_streams
        delay, chunks = self.o.open_stream_chunk_delay_ms, self.o.open_stream_chunks
        headers = {"X-Mock-Chunk-Delay-Ms": str(delay), "X-Mock-Chunks": str(chunks)}
        requests = [rawhttp.encode_request("/v1/chat/completions",
                                           rawhttp.chat_body(f"open stream {self.run_id} {i}", stream=True), headers)
                    for i in range(n)]
        log(f"memory: opening {n} streams (upstream sends {chunks} events {delay} ms apart)")
        socks, ok, waiting = rawhttp.open_streams(reprise.port, requests, timeout=max(60, 2 * delay * chunks / 1000))
        under, hwm = rss_mb()
        for s in socks:
            s.close()
        time.sleep(2)
        after_streams, _ = rss_mb()
        rows.append(Row("memory open streams", n, "reprise-L1",
                        notes=f"RSS {under:.1f} MB with {ok} streams answered 200 and open"
                              + (f" ({waiting} still waiting for a head)" if waiting else "")
                              + f"; peak {hwm:.1f} MB; {after_streams:.1f} MB 2 s after closing them"))

        # Many requests: identical (hits) in checkpoints; then unique ones through a cache-off instance.
        total = self.o.memory_requests
        segments = 4
        nonce = f"memory-{self.run_id}"
        checkpoints = []
        for _ in range(segments):
            r = self.wrk(reprise, "fixed", 32, duration=self.o.memory_max_seconds, max_requests=total // segments,
                         nonce=nonce)
            checkpoints.append((r.requests, rss_mb()[0]))
        done = 0
        points = []
        for count, value in checkpoints:
            done += count
            points.append(f"{done:,}: {value:.1f}")
        drift = (checkpoints[-1][1] / checkpoints[0][1] - 1) * 100 if checkpoints[0][1] else 0
        rows.append(Row("memory after hits", done, "reprise-L1",
                        notes=f"RSS MB after requests {'; '.join(points)}; last vs first checkpoint "
                              f"{drift:+.1f}% (target within ±10%)"))

        passthrough = self.start_reprise_target("reprise-nocache", "CACHE_OFF_YAML", mock.port, rows, "memory")
        if passthrough is not None:
            pid = passthrough.child.pid
            time.sleep(1)
            checkpoints = []
            for _ in range(segments):
                r = self.wrk(passthrough, "unique", 32, duration=self.o.memory_max_seconds,
                             max_requests=total // segments)
                checkpoints.append((r.requests, rss_mb()[0]))
            done = 0
            points = []
            for count, value in checkpoints:
                done += count
                points.append(f"{done:,}: {value:.1f}")
            drift = (checkpoints[-1][1] / checkpoints[0][1] - 1) * 100 if checkpoints[0][1] else 0
            rows.append(Row("memory after misses", done, "reprise-nocache",
                            notes=f"cache off, unique bodies through the upstream path: RSS MB after requests "
                                  f"{'; '.join(points)}; last vs first {drift:+.1f}%"))
        return rows
