-- Moves up to ARGV[1] events from the agents' queue into the per-user counting state, in one atomic step:
-- an event is either still in the queue or counted, never both and never neither, whatever happens to the limiter.
-- Replaying an event changes nothing (ZADD GT keeps the latest time of its entry), so no count can be inflated.
-- Events are kept at their own time, whatever order they come in: a node catching up, or nodes out of step, place
-- each connection where it happened.
--
-- KEYS[1]  the queue (agents LPUSH, so the oldest event is at the right end)
-- KEYS[2]  the users index: user -> last connection (epoch seconds)
-- KEYS[3]  the names: user id -> username
-- ARGV[1]  how many events to take at most
-- ARGV[2]  prefix of the seen keys: <prefix><user> is a sorted set, "<member>@<slot>@<node name>" -> the latest
--          connection of that member within that slot seen by that node (epoch seconds)
-- ARGV[3]  lifetime of the seen keys, in seconds, renewed whenever an entry is added (at least once a slot while
--          the user connects)
-- ARGV[4]  now, epoch seconds: no event counts as seen later than the moment it is counted
-- ARGV[5]  slot width in seconds (whole): how finely a member's connections are kept
-- The prefix carries the queue's hash tag ({node_logs_queue}:limiter:...), so on a Redis Cluster every key built
-- from it lives in the queue's slot, on the node this script runs on.
-- A member is the client address, or "f|" .. address when the node took it from X-Forwarded-For; a slot is the
-- epoch second, a multiple of ARGV[5], its connections began in; the node name is "" for an event without one.
-- Returns {events taken, malformed events among them (dropped: they can never be counted)}, then for each node that
-- sent events stamped after ARGV[4] (a wrong LOG_TIMEZONE, a clock ahead): its node_id and how many (clamped to now).
--
-- The cost is Redis's: the batch is gathered per user first, so that each user of the batch costs one ZADD (and a
-- PEXPIREAT when it adds an entry), however many events it sent. Scores go to Redis as Lua numbers, which Redis
-- writes with 17 significant digits: the time as the agent wrote it, to the microsecond.

local CHUNK = 1000 -- arguments per ZADD: Lua's stack holds a few thousand

local function zaddGreater(key, scoresAndMembers)
  local added = 0
  for first = 1, #scoresAndMembers, CHUNK do
    added = added + redis.call('ZADD', key, 'GT',
        unpack(scoresAndMembers, first, math.min(#scoresAndMembers, first + CHUNK - 1)))
  end
  return added
end

-- A user's key: the panel's user id where the event has one (PasarGuard 5 names users by id alone), with the
-- username it stands for; else the username, or the email without Marzban's "<id>." prefix.
local function userOf(event)
  if type(event.user_id) == 'number' and event.user_id >= 0 and event.user_id < 1e18 then
    return string.format('%d', event.user_id), type(event.username) == 'string' and event.username or nil
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
local now = tonumber(ARGV[4])
local expireAt = math.floor((now + tonumber(ARGV[3])) * 1000)
local width = tonumber(ARGV[5])
local malformed = 0
local future = {}
local slotNames = {}
-- user -> {latest = time, name = username or nil, at = {entry -> time}, entries = {entry, ...}}, in order of arrival
local users, order = {}, {}
for _, raw in ipairs(events) do
  local decoded, event = pcall(cjson.decode, raw)
  local user, name, address, at
  if decoded and type(event) == 'table' then
    at = event.timestamp
    address = event.client_ip
    user, name = userOf(event)
  end
  if type(user) == 'string' and user ~= '' and type(address) == 'string' and address ~= ''
      and type(at) == 'number' then
    if at > now then
      local node = type(event.node_id) == 'string' and event.node_id or 'unknown'
      future[node] = (future[node] or 0) + 1
      at = now
    end
    local slot = at - at % width
    local slotName = slotNames[slot]
    if not slotName then
      slotName = string.format('%d', slot)
      slotNames[slot] = slotName
    end
    local node = type(event.node_name) == 'string' and event.node_name or ''
    local entry
    if event.forwarded == true then
      entry = 'f|' .. address .. '@' .. slotName .. '@' .. node
    else
      entry = address .. '@' .. slotName .. '@' .. node
    end
    local state = users[user]
    if not state then
      state = {latest = at, at = {}, entries = {}}
      users[user] = state
      order[#order + 1] = user
    elseif at > state.latest then
      state.latest = at
    end
    state.name = name or state.name
    local known = state.at[entry]
    if not known then
      state.at[entry] = at
      state.entries[#state.entries + 1] = entry
    elseif at > known then
      state.at[entry] = at
    end
  else
    malformed = malformed + 1
  end
end

local index = {}
local names = {}
for _, user in ipairs(order) do
  local state = users[user]
  local seen = ARGV[2] .. user
  local scores = {}
  for _, entry in ipairs(state.entries) do
    scores[#scores + 1] = state.at[entry]
    scores[#scores + 1] = entry
  end
  if zaddGreater(seen, scores) > 0 then
    redis.call('PEXPIREAT', seen, expireAt)
  end
  index[#index + 1] = state.latest
  index[#index + 1] = user
  if state.name then
    names[#names + 1] = user
    names[#names + 1] = state.name
  end
end
zaddGreater(KEYS[2], index)
for first = 1, #names, CHUNK do
  redis.call('HSET', KEYS[3], unpack(names, first, math.min(#names, first + CHUNK - 1)))
end

local result = {#events, malformed}
for node, count in pairs(future) do
  table.insert(result, node)
  table.insert(result, count)
end
return result
