-- wrk script: each request is the next line of a file of "TOKEN<TAB>PATH" lines, so the load
-- goes over every user in turn (or, with a second argument `random`, a line at random each
-- time). At the end it prints one JSON line with exact percentiles.
--   wrk -t2 -c64 -d15s -s bench/rotate.lua http://127.0.0.1:PORT -- requests.tsv [random]

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(args[1]) do
    local token, path = line:match("^(%S+)\t(.+)$")
    table.insert(lines, { token, path })
  end
  -- Threads start apart, so that they do not ask for the same users at the same moment.
  position = (id or 0) * math.floor(#lines / 2)
  at_random = args[2] == "random"
  math.randomseed(os.time() + (id or 0) * 7919)
end

function request()
  if at_random then
    position = math.random(#lines)
  else
    position = position % #lines + 1
  end
  local entry = lines[position]
  return wrk.format("GET", entry[2], { ["Authorization"] = "Bearer " .. entry[1] })
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
