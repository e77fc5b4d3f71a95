-- Shared by the bench's wrk scripts: counts statuses per thread, keeps a monotonic clock of each
-- thread's active window, and prints one JSON line ("BENCH_JSON {...}") when the run is done.
-- wrk calls setup() and done() in its main Lua state and init/request/response in each thread's.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

-- Per thread (set again in each thread's state by init, read back by done through thread:get).
statuses = {}
sent = 0
first_ms = nil
last_ms = nil
exhausted = false

local threads = {}
local next_thread_id = 0

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
  table.insert(threads, thread)
end

function start_clock()
  first_ms = now_ms()
end

function response(status, headers, body)
  if exhausted then
    return -- the filler sent after this thread ran out of lines: not part of the run
  end
  local key = tostring(status)
  if status == 503 and not (headers["retry-after"] or headers["Retry-After"]) then
    key = "503-without-retry-after" -- load shedding must say when to come back
  end
  statuses[key] = (statuses[key] or 0) + 1
  last_ms = now_ms()
end

local function json_map(map, number_format)
  local parts = {}
  for key, value in pairs(map) do
    parts[#parts + 1] = string.format('"%s":' .. number_format, key, value)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local total = {}
  local first, last = nil, nil
  local exhausted_threads, lines_sent = 0, 0
  for _, thread in ipairs(threads) do
    for key, value in pairs(thread:get("statuses") or {}) do
      total[key] = (total[key] or 0) + value
    end
    local thread_first, thread_last = thread:get("first_ms"), thread:get("last_ms")
    if thread_first and (first == nil or thread_first < first) then first = thread_first end
    if thread_last and (last == nil or thread_last > last) then last = thread_last end
    if thread:get("exhausted") then exhausted_threads = exhausted_threads + 1 end
    lines_sent = lines_sent + (thread:get("sent") or 0)
  end
  local percentiles = {}
  for _, p in ipairs({50, 75, 90, 95, 99, 99.9}) do
    percentiles[tostring(p)] = latency:percentile(p)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%.0f,"requests":%.0f,"bytes":%.0f,'
      .. '"socket_errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"timeout":%.0f},'
      .. '"status_errors":%.0f,"latency_us":{"min":%.0f,"mean":%.1f,"max":%.0f,"stdev":%.1f,'
      .. '"percentiles":%s},"statuses":%s,"active_ms":%.3f,"threads":%d,'
      .. '"exhausted_threads":%d,"sent":%.0f}\n',
    summary.duration, summary.requests, summary.bytes,
    errors.connect, errors.read, errors.write, errors.timeout, errors.status,
    latency.min, latency.mean, latency.max, latency.stdev,
    json_map(percentiles, "%.0f"), json_map(total, "%d"),
    (first and last) and (last - first) or 0, #threads, exhausted_threads, lines_sent
  ))
end
