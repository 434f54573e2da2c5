//! The shared tier's scripts, each run atomically by Redis: see [`super::shared`].

/// The generation, the answer if any stored since ARGV[5] (nanoseconds), and who loads it when
/// there is none: `1` the caller (who now holds the load for ARGV[4] ms, as instance ARGV[6],
/// alive for ARGV[8] ms under the key ARGV[7] .. ARGV[6]), `2` another instance (which holds it
/// and is alive). An answer past its TTL is none: its reload is held like a first load. A hold
/// whose instance is no longer alive (it died, or lost Redis, mid-load) is taken over.
pub(super) const GET: &str = r"
local g = redis.call('HGET', KEYS[1], ARGV[1]) or '0'
local field = ARGV[2] .. g .. ARGV[3]
local answer = redis.call('HGET', KEYS[1], field)
if answer and tonumber(string.match(answer, '^(%d+) ') or '0') >= tonumber(ARGV[5]) then
  return {g, answer, 0}
end
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local held = redis.call('HGET', KEYS[1], 'l|' .. field)
if held then
  local until_ms, holder = string.match(held, '^(%d+)|(.+)$')
  if until_ms and tonumber(until_ms) > ms and redis.call('EXISTS', ARGV[7] .. holder) == 1 then
    return {g, false, 2}
  end
end
redis.call('HSET', KEYS[1], 'l|' .. field, (ms + tonumber(ARGV[4])) .. '|' .. ARGV[6])
redis.call('SET', ARGV[7] .. ARGV[6], '1', 'PX', ARGV[8])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return {g, false, 1}
";

/// Says an instance is alive for ARGV[1] ms.
pub(super) const ALIVE: &str = r"
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1
";

/// Lets go of a load that failed, so that others load at once rather than wait.
pub(super) const RELEASE: &str = r"
redis.call('HDEL', KEYS[1], 'l|' .. ARGV[1])
return 1
";

pub(super) const PUT: &str = r"
if (redis.call('HGET', KEYS[1], ARGV[1]) or '0') ~= ARGV[2] then return 0 end
if redis.call('HLEN', KEYS[1]) > tonumber(ARGV[5]) then
  local gt = redis.call('HGET', KEYS[1], 'gt') or '0'
  local ge = redis.call('HGET', KEYS[1], 'ge') or '0'
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'gt', gt, 'ge', ge)
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('HDEL', KEYS[1], 'l|' .. ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[6]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
return 1
";

pub(super) const FORGET: &str = r"
local gt = tonumber(redis.call('HGET', KEYS[1], 'gt') or '0') + 1
local ge = tonumber(redis.call('HGET', KEYS[1], 'ge') or '0')
local types = nil
if ARGV[1] == 'all' then
  ge = ge + 1
else
  types = redis.call('HGET', KEYS[1], 'e' .. ge)
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'gt', gt, 'ge', ge)
if types then redis.call('HSET', KEYS[1], 'e' .. ge, types) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
";
