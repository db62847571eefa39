-- distinct.lua: every request asks for a path never asked before, so that
-- every gateway request is a token-cache miss (one RS256 signature).
--
--   wrk ... -s distinct.lua URL -- PREFIX TAG
--
-- Paths are PREFIX/TAG/<n>.ts with n = 1, 2, 3, ... per thread; bench/run
-- gives each run its own TAG (run with one thread, -t1), so no path repeats
-- across warm-up and repetitions either. Headers given with -H go along.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local prefix, tag, n = "/media/miss", "run", 0

function init(args)
  prefix = args[1] or prefix
  tag = args[2] or tag
end

function request()
  n = n + 1
  return wrk.format(nil, prefix .. "/" .. tag .. "/" .. n .. ".ts")
end
