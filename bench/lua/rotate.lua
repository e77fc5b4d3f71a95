-- wrk script: every request takes the next line of a file, "token<TAB>body", so each request carries
-- its own bearer token and JSON body. The lines are dealt round-robin to wrk's threads.
--
--   wrk ... -s rotate.lua URL -- LINES_FILE THREADS MODE METHOD [MARKER_PREFIX]
--
-- MODE "cycle" starts over at the end of the thread's lines; MODE "once" stops the thread instead
-- (lines that must never be sent twice, such as one-time codes) and creates the file
-- MARKER_PREFIX.<thread id>, so that the bench can end the run (SIGINT) once every thread is done.
-- Rates are taken over the active window (first request to last answer) either way.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "stats.lua")

local prepared = {}
local position = 0
local once = false
local filler = nil
local marker = nil

function init(args)
  local lines_file, thread_count, mode, method = args[1], tonumber(args[2]), args[3], args[4]
  once = mode == "once"
  if args[5] then
    marker = args[5] .. "." .. thread_id
  end
  local index = 0
  for line in io.lines(lines_file) do
    if index % thread_count == thread_id then
      local token, body = line:match("^([^\t]+)\t(.*)$")
      prepared[#prepared + 1] = wrk.format(method, nil, {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
      }, body)
    end
    index = index + 1
  end
  filler = wrk.format("GET", "/health/live")
  start_clock()
end

function request()
  position = position + 1
  if position > #prepared then
    if once then
      if not exhausted then
        exhausted = true
        wrk.thread:stop()
        if marker then
          local file = io.open(marker, "w")
          if file then file:close() end
        end
      end
      return filler
    end
    position = 1
  end
  sent = sent + 1
  return prepared[position]
end
