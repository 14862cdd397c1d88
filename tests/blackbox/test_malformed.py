#!/usr/bin/python3
"""Malformed frames (contract.md, hall.v1): text frames, non-map payloads, frames over 64 KiB,
nesting over 16 levels and unknown commands get an err reply, or a close with 1003/1009 where no
reply can be formed; the connection (if not closed) and the hall keep working."""
import msgpack

import hk
from hk import check

LIMIT = 64 * 1024


def pack(o):
    return msgpack.packb(o, use_bin_type=True)


def padded_request(total):
    """A valid state.get request whose encoding is exactly total bytes."""
    base = {"t": "state.get", "id": 4242, "pad": ""}
    n = total - len(pack(base))
    for k in range(8):             # the str header grows with the length; converge
        b = pack({"t": "state.get", "id": 4242, "pad": "x" * n})
        if len(b) == total:
            return b
        n += total - len(b)
    raise AssertionError("cannot pad to %d" % total)


def nested(depth):
    """A request map whose nesting (the map itself counting as level 1) is depth levels."""
    return (b"\x83" + pack("t") + pack("state.get") + pack("id") + pack(99) + pack("x")
            + b"\x91" * (depth - 1) + pack(1))


def deep_raw(depth):
    return b"\x91" * depth + b"\x01"          # fixarray(1) repeated: no map at all


# name, payload, what may come back: "err" (err bad_request reply) and/or close codes
CASES = [
    ("text_frame", "hello, this is text", {"err", 1003}),
    ("text_frame_with_json", '{"t":"state.get","id":1}', {"err", 1003}),
    ("invalid_msgpack_c1", b"\xc1", {"err", 1003}),
    ("invalid_bytes", b"\xff\xfe\x00garbage\xc1\xc1", {"err", 1003}),
    ("empty_frame", b"", {"err", 1003}),
    ("truncated_map", pack({"t": "state.get", "id": 5})[:-3], {"err", 1003}),
    ("map_header_only", b"\x82", {"err", 1003}),
    ("trailing_garbage", pack({"t": "state.get", "id": 6}) + b"\xc1", {"err", 1003}),
    ("two_maps_in_one_frame", pack({"t": "state.get", "id": 7}) * 2, {"err", 1003}),
    ("array", pack(["state.get", 1]), {"err", 1003}),
    ("int", pack(5), {"err", 1003}),
    ("string", pack("state.get"), {"err", 1003}),
    ("nil", pack(None), {"err", 1003}),
    ("map_with_int_keys", pack({1: "state.get", 2: 8}), {"err", 1003}),
    ("map_with_bin_t", pack({"t": b"state.get", "id": 9}), {"err", "ok", 1003}),   # lenient is fine
    ("nesting_17", nested(17), {"err", 1003}),
    ("nesting_1000", nested(1000), {"err", 1003}),
    ("nesting_raw_100000", deep_raw(100000), {"err", 1003, 1009}),
    ("frame_64KiB_plus_1", padded_request(LIMIT + 1), {"err", 1009}),
    ("frame_1MiB", padded_request(1 << 20), {"err", 1009}),
    ("huge_array32_count", b"\xdd\xff\xff\xff\xff", {"err", 1003}),
    ("huge_map32_count", b"\xdf\xff\xff\xff\xff", {"err", 1003}),
    ("huge_str32_len", b"\xdb\xff\xff\xff\xff" + b"a" * 10, {"err", 1003}),
    ("huge_bin32_len", b"\xc6\xff\xff\xff\xff", {"err", 1003}),
    ("huge_count_inside_map", b"\x83" + pack("t") + pack("state.get") + pack("id") + pack(11) + pack("x")
     + b"\xdd\xff\xff\xff\xff", {"err", 1003}),
    ("huge_count_array16_short", b"\xdc\xff\xff\x01\x02", {"err", 1003}),
    ("missing_t", pack({"id": 12}), {"err"}),
    ("missing_id", pack({"t": "state.get"}), {"err"}),
    ("t_not_a_string", pack({"t": 5, "id": 13}), {"err"}),
    ("t_is_a_map", pack({"t": {"a": 1}, "id": 14}), {"err"}),
    ("id_is_a_string", pack({"t": "state.get", "id": "abc"}), {"err"}),
    ("id_negative", pack({"t": "state.get", "id": -1}), {"err", "ok"}),
    ("unknown_command", pack({"t": "no.such.command", "id": 15}), {"err"}),
    ("empty_command", pack({"t": "", "id": 16}), {"err"}),
    ("ext_type", pack({"t": "state.get", "id": 17, "x": msgpack.ExtType(5, b"abc")}), {"err", "ok", 1003}),
]


async def expect_outcome(c, start, allowed, name, timeout=10, codes=("bad_request",)):
    """Waits for a new unmatched reply or a close; returns ('err'|'ok'|close code, frame)."""
    await c.wait_for(lambda cl: len(cl.unmatched) > start or cl.closed, timeout)
    if len(c.unmatched) > start:
        r = c.unmatched[start]
        check(isinstance(r, dict), "%s: reply is not a map: %r" % (name, r))
        t = r.get("t")
        if t == "err":
            check(r.get("code") in codes or "ok" in allowed,
                  "%s: err code %r (expected %s): %r" % (name, r.get("code"), "/".join(codes), r))
            check(isinstance(r.get("msg"), str), "%s: err without msg: %r" % (name, r))
        check(t in allowed, "%s: got %r, expected one of %s" % (name, r, sorted(map(str, allowed))))
        return t, r
    if c.closed:
        check(c.close_code in allowed, "%s: connection closed with %s, expected %s"
              % (name, c.close_code, sorted(map(str, allowed))))
        return c.close_code, None
    raise hk.CheckFailed("%s: neither a reply nor a close within %ss" % (name, timeout))


async def hall_still_serves(d, c, name, authed=True):
    if not c.closed and not authed:
        r = await c.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
        check(r.get("t") == "ok", "%s: hello on the same connection afterwards -> %r" % (name, r))
    if not c.closed:
        r = await c.request("state.get")
        check(r.get("t") == "ok", "%s: the same connection no longer works: %r" % (name, r))
    other = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    await other.ok("state.get")
    await other.ok("ticket.issue", category="D")
    await other.close()
    check(d.alive(), "%s: the daemon died" % name)


def make_case(name, payload, allowed, authed):
    async def t():
        d = await hk.daemon()
        c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj" if authed else None)
        start = len(c.unmatched)
        await c.send_raw(payload)
        await expect_outcome(c, start, allowed, name,
                             codes=("bad_request",) if authed else ("bad_request", "unauthenticated"))
        await hall_still_serves(d, c, name, authed)
        await c.close()
    t.__name__ = ("test_%s" if authed else "test_%s_before_hello") % name
    return t


async def test_just_under_limit_ok():
    d = await hk.daemon()
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    await c.send_raw(padded_request(60 * 1024))
    ok = await c.wait_for(lambda cl: cl.unmatched or cl.closed, 10)
    # the request carries id 4242, which no waiter holds: it lands in unmatched
    check(ok and not c.closed and c.unmatched and c.unmatched[0].get("t") == "ok"
          and c.unmatched[0].get("id") == 4242,
          "a 60 KiB state.get -> %r (closed %s)" % (c.unmatched[:1], c.close_code))
    await c.close()


async def test_nesting_16_accepted():
    """16 levels are within the limit (only nesting over 16 is refused)."""
    d = await hk.daemon()
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    await c.send_raw(nested(16))
    ok = await c.wait_for(lambda cl: cl.unmatched or cl.closed, 10)
    check(ok and not c.closed and c.unmatched and c.unmatched[0].get("t") == "ok"
          and c.unmatched[0].get("id") == 99,
          "a state.get nested 16 levels deep -> %r (closed %s)" % (c.unmatched[:1], c.close_code))
    await c.close()


async def test_fragmented_message():
    """A message split in continuation frames is reassembled; over 64 KiB in total is refused."""
    d = await hk.daemon()
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    small = pack({"t": "state.get", "id": 777})
    await c.ws.send([small[:3], small[3:7], small[7:]])
    ok = await c.wait_for(lambda cl: cl.unmatched or cl.closed, 10)
    check(ok and c.unmatched and c.unmatched[0].get("t") == "ok" and c.unmatched[0].get("id") == 777,
          "fragmented state.get -> %r (closed %s)" % (c.unmatched[:1], c.close_code))
    big = padded_request(LIMIT + 1)
    start = len(c.unmatched)
    await c.ws.send([big[i:i + 4096] for i in range(0, len(big), 4096)])
    await expect_outcome(c, start, {"err", 1009}, "fragmented 64 KiB + 1")
    await hall_still_serves(d, c, "fragmented")
    await c.close()


async def test_many_malformed_in_a_row():
    """One connection sends every recoverable bad frame in turn, then still works."""
    d = await hk.daemon()
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    n = 0
    for name, payload, allowed in CASES:
        if not allowed <= {"err", "ok"}:
            continue
        start = len(c.unmatched)
        await c.send_raw(payload)
        await expect_outcome(c, start, allowed, name)
        n += 1
    check(n >= 5, "too few cases")
    await hall_still_serves(d, c, "many in a row")
    await c.close()


tests = [make_case(n, p, a, True) for n, p, a in CASES]
tests += [make_case(n, p, a, False) for n, p, a in CASES if n in
          ("text_frame", "invalid_msgpack_c1", "array", "nesting_17", "frame_64KiB_plus_1", "huge_array32_count",
           "missing_t", "missing_id", "unknown_command")]
tests += [test_just_under_limit_ok, test_nesting_16_accepted, test_fragmented_message, test_many_malformed_in_a_row]
hk.run(tests)
