-- wrk's POST scenario (bench/writes.py wrk_post_rate): a new report per request, as
-- writes.post_body makes them (a fence at a chainage between markers 1000 and 1200 of VN-CN,
-- titled "bench post N", a new random UUID each), and a count of the answers' statuses,
-- printed by done() as "statuses 201=N ...".

local counter = 0
statuses = {}

local function uuid4()
  local b = {}
  for i = 1, 16 do b[i] = math.random(0, 255) end
  b[7] = (b[7] % 16) + 64 -- version 4
  b[9] = (b[9] % 64) + 128 -- RFC 4122 variant
  local h = string.format(string.rep("%02x", 16), unpack(b))
  return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-" .. h:sub(13, 16) .. "-"
    .. h:sub(17, 20) .. "-" .. h:sub(21, 32)
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  -- each thread its own sequence, however quickly they start
  math.randomseed(os.time() * 1000 + #tostring({}) + math.floor(os.clock() * 1e6))
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"type": "Feature", "id": "%s", "location": "VN-CN:%d+%d", "properties": '
      .. '{"category": "fence", "title": "bench post %d", '
      .. '"occurred_at": "2026-11-20T08:00:00+07:00"}}',
    uuid4(), math.random(1000, 1200), math.random(0, 300), counter)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = wrk.headers["Authorization"],
  }, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, status .. "=" .. n) end
  table.sort(parts)
  io.write("statuses " .. table.concat(parts, " ") .. "\n")
end
