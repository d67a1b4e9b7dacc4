-- Moves up to ARGV[1] events from the agents' queue into the per-user counting state, in one atomic step:
-- an event is either still in the queue or counted, never both and never neither, whatever happens to the limiter.
-- Replaying an event changes nothing (ZADD GT keeps the latest time of its slot), so no count can be inflated.
-- Events are kept at their own time, whatever order they come in: a node catching up, or nodes out of step, place
-- each connection where it happened.
--
-- KEYS[1]  the queue (agents LPUSH, so the oldest event is at the right end)
-- KEYS[2]  the users index: user -> last connection (epoch seconds)
-- KEYS[3]  the names: user id -> username
-- ARGV[1]  how many events to take at most
-- ARGV[2]  prefix of the seen keys: <prefix><user> is a sorted set, "<member>@<slot>" -> the latest connection
--          of that member within that slot (epoch seconds), one entry per member and slot of ARGV[6] seconds
-- ARGV[3]  prefix of the nodes keys: <prefix><user> is a hash, the same "<member>@<slot>" -> node that saw it last
-- ARGV[4]  lifetime of the per-user keys, in seconds (renewed by every event)
-- ARGV[5]  now, epoch seconds: no event counts as seen later than the moment it is counted
-- ARGV[6]  slot width in seconds (whole): how finely a member's connections are kept
-- The prefixes carry the queue's hash tag ({node_logs_queue}:limiter:...), so on a Redis Cluster every key built
-- from them lives in the queue's slot, on the node this script runs on.
-- A member is the client address, or "f|" .. address when the node took it from X-Forwarded-For.
-- Returns {events taken, malformed events among them (dropped: they can never be counted)}, then for each node that
-- sent events stamped after ARGV[5] (a wrong LOG_TIMEZONE, a clock ahead): its node_id and how many (clamped to now).

-- A user's key: the panel's user id where the event has one (PasarGuard 5 names users by id alone), with the
-- username it stands for kept in KEYS[3]; else the username, or the email without Marzban's "<id>." prefix.
local function userKey(event)
  if type(event.user_id) == 'number' and event.user_id >= 0 and event.user_id < 1e18 then
    local key = string.format('%d', event.user_id)
    if type(event.username) == 'string' then
      redis.call('HSET', KEYS[3], key, event.username)
    end
    return key
  end
  if type(event.username) == 'string' then
    return event.username
  end
  if type(event.email) == 'string' then
    -- usernames may hold dots, so split at the first one
    return string.match(event.email, '^%d+%.(.+)$') or event.email
  end
end

local events = redis.call('RPOP', KEYS[1], ARGV[1])
if not events then
  return {0, 0}
end
local width = tonumber(ARGV[6])
local malformed = 0
local now = tonumber(ARGV[5])
local future = {}
for _, raw in ipairs(events) do
  local decoded, event = pcall(cjson.decode, raw)
  local user, address, at
  if decoded and type(event) == 'table' then
    at = event.timestamp
    address = event.client_ip
    user = userKey(event)
  end
  if type(user) == 'string' and user ~= '' and type(address) == 'string' and address ~= ''
      and type(at) == 'number' then
    if at > now then
      local node = type(event.node_id) == 'string' and event.node_id or 'unknown'
      future[node] = (future[node] or 0) + 1
      at = now
    end
    -- as written, to the microsecond: a bare Lua number would reach Redis with only 14 significant digits
    local score = string.format('%.6f', at)
    local member = address
    if event.forwarded == true then
      member = 'f|' .. address
    end
    member = member .. '@' .. string.format('%d', math.floor(at / width) * width)
    local seen = ARGV[2] .. user
    local previous = redis.call('ZSCORE', seen, member)
    if type(event.node_name) == 'string' and (not previous or at >= tonumber(previous)) then
      redis.call('HSET', ARGV[3] .. user, member, event.node_name)
      redis.call('EXPIRE', ARGV[3] .. user, ARGV[4])
    end
    redis.call('ZADD', seen, 'GT', score, member)
    redis.call('EXPIRE', seen, ARGV[4])
    redis.call('ZADD', KEYS[2], 'GT', score, user)
  else
    malformed = malformed + 1
  end
end
local result = {#events, malformed}
for node, count in pairs(future) do
  table.insert(result, node)
  table.insert(result, count)
end
return result
