-- The same cacheable chat request on every keep-alive connection (the cache-hit path), and one
-- machine-readable summary line for bench/tls/run.sh.
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-tls-000000000000"
wrk.body = '{"model":"deepseek-chat","messages":[{"role":"system","content":"You are a helpful assistant."},'
  .. '{"role":"user","content":"What is the capital of France? (tls bench)"}],"temperature":0}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH-TLS requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
