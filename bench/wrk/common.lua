-- Shared by the bench wrk scripts: request bodies, headers from the environment, a stop after a
-- fixed request count, and a machine-readable summary line (parsed by bench/lib/wrk_runner.py).
-- Environment:
--   BENCH_PATH              request path (default /v1/chat/completions)
--   BENCH_STREAM=1          ask for a streamed (SSE) answer
--   BENCH_NONCE             makes unique bodies unique across runs and rounds
--   BENCH_MAX_REQUESTS      stop after about this many requests in total (0: run for the duration)
--   BENCH_MOCK_LATENCY_MS, BENCH_MOCK_CHUNK_DELAY_MS, BENCH_MOCK_CHUNKS
--                           per-request overrides read by reprise-mock-upstream (passed through)
local bench = {}

local path = os.getenv("BENCH_PATH") or "/v1/chat/completions"
local stream = os.getenv("BENCH_STREAM") == "1"
local nonce = os.getenv("BENCH_NONCE") or tostring(os.time())
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0") or 0

local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer sk-bench-0000000000000000",
}
local function header_from_env(env, name)
  local value = os.getenv(env)
  if value and value ~= "" then headers[name] = value end
end
header_from_env("BENCH_MOCK_LATENCY_MS", "X-Mock-Latency-Ms")
header_from_env("BENCH_MOCK_CHUNK_DELAY_MS", "X-Mock-Chunk-Delay-Ms")
header_from_env("BENCH_MOCK_CHUNKS", "X-Mock-Chunks")

-- About 190 bytes, like a short real chat request (temperature 0: a deterministic, cacheable ask).
function bench.body(question)
  local s = stream and ',"stream":true' or ''
  return '{"model":"deepseek-chat","messages":[{"role":"system","content":"You are a helpful assistant."},'
    .. '{"role":"user","content":"' .. question .. '"}],"temperature":0' .. s .. '}'
end

-- The same request every time: static, so wrk does not call Lua per request (unless a request cap
-- needs counting).
function bench.fixed()
  local body = bench.body("What is the capital of France? (bench " .. nonce .. ")")
  if max_requests > 0 then
    local req = nil  -- formatted on first use: wrk sets the Host header only after loading the script
    bench.install_counter(function()
      req = req or wrk.format("POST", path, headers, body)
      return req
    end)
  else
    wrk.method = "POST"
    wrk.path = path
    wrk.body = body
    wrk.headers = headers
  end
end

-- A body no other request of this run (or any earlier run) has sent: every request is a miss.
function bench.unique()
  bench.install_counter(function(tid, n)
    return wrk.format("POST", path, headers,
      bench.body("What is the capital of France? (bench " .. nonce .. " t" .. tid .. " n" .. n .. ")"))
  end)
end

local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

function bench.install_counter(make)
  local n = 0
  local cap = nil
  request = function()
    if cap == nil then
      local threads = tonumber(os.getenv("BENCH_WRK_THREADS") or "1") or 1
      cap = max_requests > 0 and math.ceil(max_requests / threads) or -1
    end
    n = n + 1
    if cap > 0 and n == cap + 1 then
      -- wrk's main thread sleeps for the whole -d duration even when every thread stopped:
      -- this line tells bench/lib/wrk_runner.py to interrupt it (SIGINT) for the summary.
      io.write("BENCH-THREAD-DONE\n")
      io.flush()
      wrk.thread:stop()
    end
    return make(tid or 1, n)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.mean, latency.max))
end

return bench
