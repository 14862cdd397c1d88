#!/usr/bin/python3
"""The command x role matrix of contract.md: an allowed command is never refused as forbidden,
a disallowed one gets err forbidden, and "unknown command" is a failure (the contract's commands
stay); nothing but hello works before hello; a wrong token gets err unauthenticated and the
connection is closed. Every row of the command table as every role: tests/unit/test_roles.c."""
import hk
from hk import check

ROLES = {"kiosk": "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq", "display": "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj", "staff": "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp",
         "security": "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u", "admin": "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6"}

ANY = set(ROLES)
# command -> (roles allowed by contract.md, args)
QUEUE_MATRIX = [
    ("state.get", ANY, {}),
    ("ticket.issue", {"kiosk", "staff", "admin"}, {"category": "A"}),
    ("window.open", {"staff"}, {"window": 1}),
    ("window.pause", {"staff"}, {"reason": "短暂离开"}),
    ("window.resume", {"staff"}, {}),
    ("call.next", {"staff"}, {}),
    ("call.recall", {"staff"}, {}),
    ("ticket.start", {"staff"}, {}),
    ("ticket.transfer", {"staff"}, {"category": "B"}),
    ("call.next", {"staff"}, {}),
    ("ticket.noshow", {"staff"}, {}),
    ("call.next", {"staff"}, {}),
    ("ticket.finish", {"staff"}, {"outcome": "即办件"}),
    ("ticket.rate", {"staff", "kiosk"}, {"code": None, "score": 5}),    # code filled in at run time
    ("window.close", {"staff"}, {}),
]
EMERGENCY_MATRIX = [
    ("emergency.playbooks", {"staff", "security", "admin"}, {}),
    ("gpio.list", {"security", "admin"}, {}),
    ("emergency.trigger", {"security", "admin"}, {"playbook": "fire", "drill": True}),
    ("emergency.ack", {"security", "admin"}, {"step": 0}),
    ("emergency.clear", {"security", "admin"}, {"reason": "演练结束"}),
    # an output line: harmless, and no emergency follows whatever the backend does with it
    ("gpio.sim.set", {"admin"}, {"line": "door_main", "value": 0}),
]

def unknown_command(r):
    return r.get("t") == "err" and r.get("code") == "bad_request" and "unknown command" in str(r.get("msg", "")).lower()


async def run_matrix(d, role, matrix, rate_code=None):
    c = await hk.connect(d, ROLES[role])
    check(c.role == role, "hello as %s gave role %r" % (role, c.role))
    problems = []
    for cmd, allowed, args in matrix:
        args = dict(args)
        if "code" in args:
            args["code"] = rate_code
        r = await c.request(cmd, **args)
        check(r.get("t") in ("ok", "err"), "%s -> %r" % (cmd, r))
        if unknown_command(r):   # a command of the contract that the daemon lost is a failure
            problems.append("%s as %s -> unknown command (the contract has it)" % (cmd, role))
            continue
        if role in allowed:
            if r.get("t") == "err" and r.get("code") in ("forbidden", "unauthenticated"):
                problems.append("%s as %s -> err %s %r (contract allows it)" % (cmd, role, r.get("code"), r.get("msg")))
        else:
            if not (r.get("t") == "err" and r.get("code") == "forbidden"):
                problems.append("%s as %s -> %s %s (contract: forbidden)" % (cmd, role, r.get("t"), r.get("code")))
    check(not c.closed, "connection of %s closed during the matrix (code %s)" % (role, c.close_code))
    await c.close()
    check(not problems, "; ".join(problems))


async def prepared(d):
    """Two waiting A tickets and one finished ticket whose code can be rated."""
    k = await hk.connect(d, "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq")
    s = await hk.connect(d, "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez")
    await s.ok("window.open", window=2)
    code = (await k.ok("ticket.issue", category="C"))["ticket"]["code"]
    await s.ok("call.next")
    await s.ok("ticket.finish", outcome="即办件")
    await s.ok("window.close")
    for _ in range(3):
        await k.ok("ticket.issue", category="A")
    await k.close()
    await s.close()
    return code


def make_role_test(role):
    async def t():
        d = await hk.daemon()
        code = await prepared(d)
        await run_matrix(d, role, QUEUE_MATRIX, code)
    t.__name__ = "test_queue_commands_as_%s" % role
    return t


def make_emergency_test(role):
    async def t():
        async with hk.fresh() as d:
            await run_matrix(d, role, EMERGENCY_MATRIX)
    t.__name__ = "test_emergency_gpio_commands_as_%s" % role
    return t


async def test_before_hello_unauthenticated():
    d = await hk.daemon()
    problems = []
    for cmd, _, args in QUEUE_MATRIX + EMERGENCY_MATRIX:
        c = await hk.connect(d)
        args = dict(args)
        if "code" in args:
            args["code"] = "A001"
        r = await c.request(cmd, **args)
        if not (r.get("t") == "err" and r.get("code") == "unauthenticated"):
            problems.append("%s before hello -> %r" % (cmd, r))
        await c.close()
    check(not problems, "; ".join(problems))
    # the connection that was refused can still say hello and work
    c = await hk.connect(d)
    await c.err("state.get", "unauthenticated")
    r = await c.hello("display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")
    check(r.get("t") == "ok", "hello after an unauthenticated request -> %r" % r)
    await c.ok("state.get")
    await c.close()


async def test_wrong_token_closes():
    d = await hk.daemon()
    for bad in ("nope", "", "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq ", "KIOSK-1-SECRET"):
        c = await hk.connect(d)
        r = await c.request("hello", token=bad)
        check(r.get("t") == "err" and r.get("code") == "unauthenticated", "hello %r -> %r" % (bad, r))
        check(await c.wait_closed(5), "connection still open 5 s after a wrong token %r" % bad)
    c = await hk.connect(d)
    r = await c.request("hello")
    check(r.get("t") == "err" and r.get("code") in ("unauthenticated", "bad_request"), "hello without token -> %r" % r)
    await c.close()
    c = await hk.connect(d, "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj")       # the hall keeps serving
    await c.ok("state.get")
    await c.close()


async def test_role_reported():
    d = await hk.daemon()
    for token, role in (("staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez", "staff"), ("staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD", "staff")) + tuple(
            (t, r) for r, t in ROLES.items()):
        c = await hk.connect(d, token)
        check(c.role == role, "token %s -> role %r, expected %s" % (token, c.role, role))
        await c.close()


tests = [test_before_hello_unauthenticated, test_wrong_token_closes, test_role_reported]
tests += [make_role_test(r) for r in ROLES]
tests += [make_emergency_test(r) for r in ROLES]
hk.run(tests)
