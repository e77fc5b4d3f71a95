-- wrk script: GET the same path (e.g. /health/live) with status counting and the bench's JSON summary.
--
--   wrk ... -s health.lua URL

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "stats.lua")

local prepared = nil

function init(args)
  prepared = wrk.format("GET", nil)
  start_clock()
end

function request()
  sent = sent + 1
  return prepared
end
