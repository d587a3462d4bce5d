-- A Lua 5.4 workload for Benchmarks/run: calls, closures, tables, strings, floats and
-- coroutines, each printing a checksum line. Usage: lua bench.lua [SCALE]
-- Floats are printed rounded, so builds that fuse multiply-adds differently still agree.

local scale = tonumber(arg and arg[1]) or 10

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end

local function section_calls()
  local total = 0
  for i = 1, scale do total = total + fib(18 + i % 3) end
  local adders = {}
  for i = 1, 1000 do adders[i] = function(x) return x + i end end
  for r = 1, scale * 20 do
    for i = 1, #adders do total = adders[i](total) % 1000000007 end
  end
  print(("calls %d"):format(total))
end

local function section_tables()
  local seed = 12345
  local function random()
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed
  end
  local checksum = 0
  for r = 1, scale do
    local array = {}
    for i = 1, 5000 do array[i] = random() % 100000 end
    table.sort(array, function(a, b) return a > b end)
    checksum = (checksum + array[1] + array[2500] * 3 + array[5000] * 7) % 1000000007
    local map = {}
    for i = 1, 5000 do map["k" .. (array[i] % 2048)] = (map["k" .. (array[i] % 2048)] or 0) + i end
    local keys = 0
    for k, v in pairs(map) do keys = keys + 1; checksum = (checksum + v * #k) % 1000000007 end
    checksum = checksum + keys
    local matrix = {}
    for i = 1, 60 do
      local row = {}
      for j = 1, 60 do row[j] = (i * j + r) % 17 end
      matrix[i] = row
    end
    for i = 1, 60 do
      local row = matrix[i]
      for j = 1, 60 do checksum = (checksum + row[j] * matrix[j][i]) % 1000000007 end
    end
  end
  print(("tables %d"):format(checksum))
end

local function section_strings()
  local words = {}
  for i = 1, 3000 do words[i] = ("w%05d_%s"):format(i * 7919 % 100000, string.rep("ab", i % 5)) end
  local checksum = 0
  for r = 1, scale do
    local text = table.concat(words, " ", 1, 3000)
    local count = 0
    for word in text:gmatch("w(%d+)_") do count = count + tonumber(word) % 97 end
    local replaced = text:gsub("ab", "X")
    local upper = replaced:upper()
    checksum = (checksum + count + #replaced + (upper:find("W00007") or 0) + r) % 1000000007
    local parts = {}
    for i = 1, 500 do parts[#parts + 1] = string.format("%d:%x:%s", i, i * r, words[i]:sub(2, 6)) end
    checksum = (checksum + #table.concat(parts, ",")) % 1000000007
  end
  print(("strings %d"):format(checksum))
end

local function section_floats()
  -- spectral norm of the infinite matrix A(i,j) = 1/((i+j)(i+j+1)/2+i+1), truncated
  local n = 60 + scale * 4
  local function a(i, j) local ij = i + j - 1; return 1.0 / (ij * (ij - 1) * 0.5 + i) end
  local function av(x, y) for i = 1, n do local s = 0 for j = 1, n do s = s + a(i, j) * x[j] end y[i] = s end end
  local function atv(x, y) for i = 1, n do local s = 0 for j = 1, n do s = s + a(j, i) * x[j] end y[i] = s end end
  local u, v, t = {}, {}, {}
  for i = 1, n do u[i] = 1 end
  for _ = 1, 10 do av(u, t); atv(t, v); av(v, t); atv(t, u) end
  local vbv, vv = 0, 0
  for i = 1, n do vbv = vbv + u[i] * v[i]; vv = vv + v[i] * v[i] end
  local mandel = 0
  for y = 0, 39 + scale do
    for x = 0, 79 do
      local cr, ci, zr, zi, k = x / 40 - 1.5, y / (20 + scale / 2) - 1.0, 0.0, 0.0, 0
      while k < 50 and zr * zr + zi * zi < 4 do zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci; k = k + 1 end
      mandel = mandel + k
    end
  end
  print(("floats %.9f %d"):format(math.sqrt(vbv / vv), mandel))
end

local function section_coroutines()
  local function producer(limit)
    return coroutine.wrap(function() for i = 1, limit do coroutine.yield(i * i % 1009) end end)
  end
  local total = 0
  for r = 1, scale do
    for value in producer(20000) do total = (total + value * r) % 1000000007 end
  end
  print(("coroutines %d"):format(total))
end

section_calls()
section_tables()
section_strings()
section_floats()
section_coroutines()
