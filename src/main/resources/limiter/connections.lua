-- Reads the stored connections of a page of users in one round trip, first forgetting those older than ARGV[1]
-- from both keys of each user at once, so that a connection counted meanwhile is never lost and the node names of
-- an active user do not pile up. The keys are those consume.lua writes (see its header).
--
-- KEYS[2i-1]  seen:<user i>   KEYS[2i]  nodes:<user i>   (all under the queue's hash tag: one cluster slot)
-- ARGV[1]     oldest connection kept, epoch seconds
-- Returns, for each user in KEYS order, {seen as member, score, ..., nodes as member, node name, ...}: the kept
-- connections only.
local from = tonumber(ARGV[1])
local result = {}
for i = 1, #KEYS, 2 do
  local seen, nodes = KEYS[i], KEYS[i + 1]
  local all = redis.call('ZRANGE', seen, 0, -1, 'WITHSCORES')
  local kept = all
  -- ascending by score: the old ones come first
  if #all > 0 and tonumber(all[2]) < from then
    kept = {}
    for j = 1, #all, 2 do
      if tonumber(all[j + 1]) < from then
        redis.call('ZREM', seen, all[j])
        redis.call('HDEL', nodes, all[j])
      else
        table.insert(kept, all[j])
        table.insert(kept, all[j + 1])
      end
    end
  end
  table.insert(result, {kept, #kept > 0 and redis.call('HGETALL', nodes) or {}})
end
return result
