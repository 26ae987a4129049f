-- A different chat body on every request (miss scenarios).
local bench = dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
bench.unique()
