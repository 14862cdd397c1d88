"""resp.py: a tiny Redis client for the black-box tests (RESP2 over asyncio), so the tests read
what hallkeeper really stored without another library. Used by test_multihall.py,
test_sentinel.py and test_city.py.

  c = await resp.connect("unix:///path/sock" | "redis://127.0.0.1:PORT/DB" | ("127.0.0.1", port))
  await c.cmd("XRANGE", key, "-", "+")   -> bytes | int | list | None; a Redis error raises RedisError
  await c.close()
  await resp.cmd(where, *args)          one command on a fresh connection
  stream_entries(reply)                 XRANGE reply -> [(id, {field: value})] (bytes)
  hall_events(where, hall)              -> [(seq, ev, at, data_map)] from hall:{HALL}:events
  key_slot(key)                         the Redis Cluster slot (CRC16/XMODEM of the hash tag)
"""
import asyncio

import msgpack


class RedisError(Exception):
    pass


class Conn:
    def __init__(self, r, w):
        self.r, self.w = r, w

    async def _read(self):
        line = await self.r.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest
        if kind == b"-":
            return RedisError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = await self.r.readexactly(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [await self._read() for _ in range(n)]
        raise ConnectionError("bad RESP line %r" % line)

    async def cmd(self, *args, timeout=10):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.w.write(out)
        v = await asyncio.wait_for(self._read(), timeout)
        if isinstance(v, RedisError):
            raise v
        return v

    async def close(self):
        self.w.close()
        try:
            await self.w.wait_closed()
        except OSError:
            pass


async def connect(where, timeout=5):
    db = 0
    if isinstance(where, tuple):
        r, w = await asyncio.wait_for(asyncio.open_connection(*where), timeout)
    elif where.startswith("unix://"):
        r, w = await asyncio.wait_for(asyncio.open_unix_connection(where[7:]), timeout)
    elif where.startswith("redis://"):
        hp, _, d = where[8:].partition("/")
        host, _, port = hp.rpartition(":")
        db = int(d or 0)
        r, w = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
    else:
        raise ValueError(where)
    c = Conn(r, w)
    if db:
        await c.cmd("SELECT", db)
    return c


async def cmd(where, *args, timeout=10):
    c = await connect(where)
    try:
        return await c.cmd(*args, timeout=timeout)
    finally:
        await c.close()


def stream_entries(reply):
    out = []
    for eid, fields in reply or []:
        out.append((eid, {fields[i]: fields[i + 1] for i in range(0, len(fields), 2)}))
    return out


async def hall_events(where, hall):
    """Every entry of hall:{HALL}:events as (seq, ev, at, data map), checking the stored layout."""
    rows = stream_entries(await cmd(where, "XRANGE", "hall:{%s}:events" % hall, "-", "+"))
    out = []
    for eid, f in rows:
        seq = int(f[b"seq"])
        assert eid == b"0-%d" % seq, "entry %r holds seq %d" % (eid, seq)
        data = msgpack.unpackb(f[b"data"], raw=False)
        assert data.get("seq") == seq and data.get("ev") == f[b"ev"].decode(), (eid, data)
        out.append((seq, f[b"ev"].decode(), int(f[b"at"]), data))
    return out


def _crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def key_slot(key):
    """As Redis Cluster computes it: only the part between the first { and the next } counts,
    when that part is not empty."""
    k = key.encode() if isinstance(key, str) else key
    s = k.find(b"{")
    if s >= 0:
        e = k.find(b"}", s + 1)
        if e > s + 1:
            k = k[s + 1:e]
    return _crc16(k) % 16384
