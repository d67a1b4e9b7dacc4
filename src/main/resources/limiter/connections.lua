-- Reads the stored connections of a page of users in one round trip, first forgetting those older than ARGV[1],
-- in the same step, so that a connection counted meanwhile is never lost. The keys are those consume.lua writes
-- (see its header for the entries).
--
-- KEYS[i]   seen:<user i>   (all under the queue's hash tag: one cluster slot)
-- ARGV[1]   oldest connection kept, epoch seconds
-- Returns, for each user in KEYS order, {entry, score, ...}: the kept connections only, oldest first.
local from = tonumber(ARGV[1])
local result = {}
for i, seen in ipairs(KEYS) do
  local all = redis.call('ZRANGE', seen, 0, -1, 'WITHSCORES')
  local kept = all
  -- ascending by score: the old ones come first
  if #all > 0 and tonumber(all[2]) < from then
    redis.call('ZREMRANGEBYSCORE', seen, '-inf', '(' .. ARGV[1])
    kept = {}
    for j = 1, #all, 2 do
      if tonumber(all[j + 1]) >= from then
        kept[#kept + 1] = all[j]
        kept[#kept + 1] = all[j + 1]
      end
    end
  end
  result[i] = kept
end
return result
