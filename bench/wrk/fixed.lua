-- The same cacheable chat request every time (hit scenarios; BENCH_STREAM=1 for SSE).
local bench = dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
bench.fixed()
