#!/usr/bin/python3
"""Writes the seed corpora of the config and command fuzz targets (tests/fuzz/harness_*.c):
config_corpus/*.yaml (the demo hall, the contract's example, and variants, valid and not) and
cmd_corpus/*.bin (one selector byte, then one msgpack request; see harness.h for the byte).
Run by hand when the protocol or the config grows: /usr/bin/python3 tests/fuzz/make_fuzz_corpora.py
Files the fuzzer added later (scripts/fuzz --merge) are kept; seeds are rewritten."""
import ast
import os
import re
import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def demo_yaml():
    """The config_demo_yaml string of io/config_load.c, unescaped from its C literals."""
    src = open(os.path.join(ROOT, "io", "config_load.c"), encoding="utf-8").read()
    body = src.split("const char config_demo_yaml[] =", 1)[1].split(";\n", 1)[0]
    return "".join(ast.literal_eval(lit) for lit in re.findall(r'"(?:[^"\\]|\\.)*"', body))


def contract_yaml():
    """The example of contract.md (the shared copy, else the first full example of docs/config.md)."""
    for path in ("/work/shared/docs/contract.md", os.path.join(ROOT, "docs", "config.md")):
        if os.path.exists(path):
            blocks = re.findall(r"```yaml\n(.*?)```", open(path, encoding="utf-8").read(), re.S)
            blocks = [b for b in blocks if "hall:" in b and "windows:" in b]
            if blocks:
                return blocks[0]
    raise SystemExit("no contract example found")


MINIMAL = """hall: { id: h1, name: Small hall }
tokens:
  - { token: "admin-x", role: admin }
categories:
  - { id: A, name: General }
windows:
  - { id: 1, name: W1, categories: [A] }
"""

BLOCK_STYLE = """hall:
  id: block
  name: "Block style hall"
http:
  listen: "127.0.0.1:9000"
  tls_cert: /etc/hk/cert.pem
  tls_key: /etc/hk/key.pem
redis:
  url: "redis://127.0.0.1:6379/2"
hours:
  - days: [mon, tue, wed, thu, fri]
    open: ["08:30-12:00", "13:30-17:30"]
  - days: [sat]
    open: ["09:00-12:00"]
tokens:
  - token: "sha256:c2FsdA:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    role: admin
  - token: k
    role: kiosk
staff:
  - id: "0009"
    name: 赵六
    title: 受理员
    photo: staff/0009.jpg
categories:
  - id: AB
    name: 双字母
    weight: 0.5
windows:
  - id: 7
    name: 7号窗口
    categories: [AB]
    zone: east
audio:
  sink: alsa
  device: "default"
  voice: [cmn, yue]
"""

PLAYBOOKS = """hall: { id: pb, name: Playbooks }
categories: [ { id: A, name: General } ]
windows: [ { id: 1, name: W1, categories: [A], zone: north } ]
gpio:
  backend: sim
  lines:
    - { name: panic, chip: gpiochip0, offset: 5, dir: in, active_low: false, debounce_ms: 20 }
    - { name: ups_on_battery, chip: gpiochip0, offset: 6, dir: in }
    - { name: door_main, chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1 }
    - { name: strobe, chip: "pinctrl-bcm2711", offset: 26, dir: out, normal: 0, safe: 0 }
emergency:
  playbooks:
    - id: mass_incident
      name: 群体性事件
      silent: true
      severity: 7
      triggers: [ { gpio: panic, value: 1 } ]
      steps:
        - { do: alert, text: 大厅发生聚集, roles: [security, admin] }
        - { do: gpio, line: strobe, value: 1 }
    - id: epidemic
      name: 疫情
      steps:
        - { do: occupancy, mode: cap, cap: 20 }
        - { do: notice, text: 请佩戴口罩, zones: [north] }
    - id: custom_flood
      name: 水浸
      severity: 3
      steps:
        - { do: occupancy, mode: appointments_only }
        - { do: display, mode: notice, text: 部分区域暂停服务 }
        - { do: announce, text: 请注意脚下, loop: false, zones: [north] }
        - { do: gpio, line: door_main, value: 1 }
        - { do: queue_freeze }
        - { do: checklist, text: 通知物业 }
"""

ANCHORS = """defaults: &w { zone: hall }
hall: { id: anch, name: Anchors }
categories: [ { id: A, name: General } ]
windows:
  - { <<: *w, id: 1, name: W1, categories: [A] }
"""

ALIASES = """hall: &h { id: al, name: Aliases }
categories: &c [ { id: A, name: General } ]
windows: [ { id: 1, name: *h, categories: *c } ]
"""


def variants(demo):
    """(name, text): small edits of valid configs, each aimed at one rule of the loader."""
    v = [
        ("minimal", MINIMAL),
        ("block_style", BLOCK_STYLE),
        ("playbooks", PLAYBOOKS),
        ("anchors", ANCHORS),
        ("aliases", ALIASES),
        ("empty", ""),
        ("comment_only", "# nothing here\n"),
        ("scalar_doc", "just a string\n"),
        ("list_doc", "- a\n- b\n"),
        ("two_docs", MINIMAL + "---\n" + MINIMAL),
        ("unknown_key", MINIMAL + "extra: 1\n"),
        ("unknown_nested_key", MINIMAL.replace("name: Small hall", "name: Small hall, colour: red")),
        ("missing_hall", MINIMAL.split("\n", 1)[1]),
        ("dangling_category", MINIMAL.replace("categories: [A]", "categories: [Z]")),
        ("bad_category_id", MINIMAL.replace("id: A,", "id: abc,")),
        ("zero_weight", MINIMAL.replace("name: General }", "name: General, weight: 0 }")),
        ("window_id_zero", MINIMAL.replace("id: 1,", "id: 0,")),
        ("duplicate_window", MINIMAL + "  - { id: 1, name: W1b, categories: [A] }\n"),
        ("bad_role", MINIMAL.replace("role: admin", "role: root")),
        ("staff_without_id", MINIMAL.replace("role: admin", "role: staff")),
        ("bad_hours", MINIMAL + 'hours:\n  - { days: [mon], open: ["17:00-09:00"] }\n'),
        ("hours_24", MINIMAL + 'hours:\n  - { days: [sun], open: ["00:00-24:00", "25:61-99:99"] }\n'),
        ("bad_day", MINIMAL + 'hours:\n  - { days: [funday], open: ["09:00-10:00"] }\n'),
        ("wrong_type_list", MINIMAL.replace("categories: [A]", "categories: A")),
        ("wrong_type_map", "hall: [demo]\n"),
        ("int_overflow", MINIMAL.replace("id: 1,", "id: 99999999999999999999,")),
        ("gpio_bad_dir", PLAYBOOKS.replace("dir: in, active_low", "dir: sideways, active_low")),
        ("gpio_dangling_line", PLAYBOOKS.replace("line: strobe", "line: nowhere")),
        ("gpio_trigger_output", PLAYBOOKS.replace("gpio: panic", "gpio: door_main")),
        ("playbook_bad_step", PLAYBOOKS.replace("do: queue_freeze", "do: dance")),
        ("playbook_no_id", PLAYBOOKS.replace("- id: epidemic\n", "- ")),
        ("audio_none", MINIMAL + "audio: { sink: none }\n"),
        ("audio_bad_sink", MINIMAL + "audio: { sink: tape }\n"),
        ("tabs", MINIMAL.replace("  - { token", "\t- { token")),
        ("unterminated_flow", MINIMAL.replace("categories: [A] }", "categories: [A }")),
        ("quoted_keys", MINIMAL.replace("hall: { id: h1", '"hall": { "id": \'h1\'')),
        ("nulls_and_bools", MINIMAL.replace("name: Small hall", "name: ~") + "gpio: { backend: sim, lines: [] }\n"),
        ("demo_crlf", demo.replace("\n", "\r\n")),
        ("demo_no_emergency", demo.split("emergency:", 1)[0]),
        ("deep_nesting", "hall: " + "[" * 200 + "]" * 200 + "\n"),
        ("non_utf8", "hall: { id: \udcff\udcfe, name: x }\n"),
    ]
    return v


def config_corpus():
    out = os.path.join(HERE, "config_corpus")
    os.makedirs(out, exist_ok=True)
    demo = demo_yaml()
    files = [("demo", demo), ("contract", contract_yaml())] + variants(demo)
    for name, text in files:
        with open(os.path.join(out, f"seed_{name}.yaml"), "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape"))
    return len(files)


# ---- command corpus -----------------------------------------------------------------------
ADMIN, STAFF, KIOSK = 0, 1, 2
EMPTY, TICKETS, AT_WINDOW, DRILL = 0, 1, 2, 3


def selector(role, scene, next_day=False):
    return role + 3 * scene + 12 * int(next_day)


def cmd_seeds():
    """(name, role, scene, request): every command with the role and scene where it does work,
    plus refusals (wrong role, bad arguments)."""
    s = []
    add = lambda name, role, scene, req, nd=False: s.append((name, role, scene, nd, req))
    add("hello_admin", ADMIN, EMPTY, {"t": "hello", "id": 1, "token": "admin-secret"})
    add("hello_bad_token", KIOSK, TICKETS, {"t": "hello", "id": 1, "token": "nope"})
    add("state_get", ADMIN, AT_WINDOW, {"t": "state.get", "id": 2})
    add("state_get_kiosk", KIOSK, DRILL, {"t": "state.get", "id": 2})
    add("issue_kiosk", KIOSK, EMPTY, {"t": "ticket.issue", "id": 3, "category": "A"})
    add("issue_priority", KIOSK, TICKETS, {"t": "ticket.issue", "id": 3, "category": "C", "priority": "priority"})
    add("issue_appointment", ADMIN, TICKETS, {"t": "ticket.issue", "id": 3, "category": "D", "appointment": "APT-20251124-01"})
    add("issue_unknown_cat", KIOSK, EMPTY, {"t": "ticket.issue", "id": 3, "category": "Z"})
    add("issue_frozen", KIOSK, DRILL, {"t": "ticket.issue", "id": 3, "category": "A"})
    add("issue_next_day", STAFF, TICKETS, {"t": "ticket.issue", "id": 3, "category": "B"}, True)
    add("window_open", STAFF, TICKETS, {"t": "window.open", "id": 4, "window": 2})
    add("window_open_bad", STAFF, EMPTY, {"t": "window.open", "id": 4, "window": 99})
    add("window_close", STAFF, TICKETS, {"t": "window.close", "id": 5})
    add("window_close_busy", STAFF, AT_WINDOW, {"t": "window.close", "id": 5})
    add("window_pause", STAFF, AT_WINDOW, {"t": "window.pause", "id": 6, "reason": "午休"})
    add("window_resume", STAFF, AT_WINDOW, {"t": "window.resume", "id": 7})
    add("call_next", STAFF, AT_WINDOW, {"t": "call.next", "id": 8})
    add("call_next_no_window", STAFF, TICKETS, {"t": "call.next", "id": 8})
    add("call_next_frozen", STAFF, DRILL, {"t": "call.next", "id": 8})
    add("call_recall", STAFF, AT_WINDOW, {"t": "call.recall", "id": 9})
    add("ticket_start", STAFF, AT_WINDOW, {"t": "ticket.start", "id": 10})
    add("ticket_noshow", STAFF, AT_WINDOW, {"t": "ticket.noshow", "id": 11})
    for i, outcome in enumerate(["即办件", "承诺件", "联办件", "上报件", "补正", "不予受理", "bogus"]):
        add(f"ticket_finish_{i}", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 12, "outcome": outcome})
    add("transfer_category", STAFF, AT_WINDOW, {"t": "ticket.transfer", "id": 13, "category": "D"})
    add("transfer_window", STAFF, AT_WINDOW, {"t": "ticket.transfer", "id": 13, "window": 3})
    add("rate_kiosk", KIOSK, AT_WINDOW, {"t": "ticket.rate", "id": 14, "code": "A001", "score": 5})
    add("rate_staff_bad_score", STAFF, AT_WINDOW, {"t": "ticket.rate", "id": 14, "code": "A001", "score": 9})
    add("em_trigger", ADMIN, TICKETS, {"t": "emergency.trigger", "id": 15, "playbook": "fire"})
    add("em_trigger_drill", ADMIN, EMPTY, {"t": "emergency.trigger", "id": 15, "playbook": "earthquake", "drill": True})
    add("em_trigger_silent", ADMIN, AT_WINDOW, {"t": "emergency.trigger", "id": 15, "playbook": "mass_incident"})
    add("em_trigger_real_over_drill", ADMIN, DRILL, {"t": "emergency.trigger", "id": 15, "playbook": "fire", "drill": False})
    add("em_trigger_kiosk", KIOSK, EMPTY, {"t": "emergency.trigger", "id": 15, "playbook": "fire"})
    add("em_ack", ADMIN, DRILL, {"t": "emergency.ack", "id": 16, "step": 6})
    add("em_ack_bad_step", ADMIN, DRILL, {"t": "emergency.ack", "id": 16, "step": 0})
    add("em_clear", ADMIN, DRILL, {"t": "emergency.clear", "id": 17, "reason": "演练结束"})
    add("em_clear_empty_reason", ADMIN, DRILL, {"t": "emergency.clear", "id": 17, "reason": ""})
    add("em_playbooks", STAFF, EMPTY, {"t": "emergency.playbooks", "id": 18})
    add("gpio_list", ADMIN, EMPTY, {"t": "gpio.list", "id": 19})
    add("gpio_sim_set", ADMIN, DRILL, {"t": "gpio.sim.set", "id": 20, "line": "fire_panel", "value": 1})
    add("incidents_list", ADMIN, DRILL, {"t": "incidents.list", "id": 21})
    add("unknown_command", ADMIN, EMPTY, {"t": "ticket.teleport", "id": 22})
    add("no_id", STAFF, AT_WINDOW, {"t": "call.next"})
    add("negative_id", STAFF, AT_WINDOW, {"t": "call.next", "id": -1})
    add("wrong_types", STAFF, AT_WINDOW, {"t": "window.open", "id": 4, "window": "1"})
    add("nested_args", ADMIN, TICKETS, {"t": "ticket.issue", "id": 3, "category": ["A"], "x": {"y": [1, 2.5, None]}})
    return s


def cmd_corpus():
    out = os.path.join(HERE, "cmd_corpus")
    os.makedirs(out, exist_ok=True)
    seeds = cmd_seeds()
    for name, role, scene, nd, req in seeds:
        data = bytes([selector(role, scene, nd)]) + msgpack.packb(req, use_bin_type=True)
        with open(os.path.join(out, f"seed_{name}.bin"), "wb") as f:
            f.write(data)
    # an undecodable request (the hub's bad_request path)
    with open(os.path.join(out, "seed_not_a_map.bin"), "wb") as f:
        f.write(bytes([selector(ADMIN, TICKETS)]) + msgpack.packb([1, 2, 3]))
    return len(seeds) + 1


# ---- libFuzzer dictionaries: the words a mutation is unlikely to guess ------------------------
CMD_WORDS = """t id token hello state.get ticket.issue window.open window.close window.pause window.resume
call.next call.recall ticket.start ticket.noshow ticket.finish ticket.transfer ticket.rate
emergency.trigger emergency.ack emergency.clear emergency.playbooks gpio.list gpio.sim.set
incidents.list category priority normal appointment window reason outcome code score playbook
drill step line value fire fire_panel mass_incident earthquake epidemic power_failure A B C D
A001 A002 B001 C001 admin-secret staff-0001-pin staff-0002-pin kiosk-1-secret security-secret
display-secret 即办件 承诺件 联办件 上报件 补正 不予受理""".split()

CONFIG_WORDS = """hall: http: listen: tls_cert: tls_key: redis: url: hours: days: open: tokens: token: role:
staff: id: name: title: photo: categories: weight: windows: zone: gpio: backend: lines: chip:
offset: dir: active_low: debounce_ms: normal: safe: audio: sink: path: device: voice:
emergency: playbooks: triggers: steps: do: line: value: mode: text: loop: roles: cap: zones:
silent: severity: kiosk display staff admin security sim gpiod in out mon tue sat sun
"09:00-12:00" "00:00-24:00" queue_freeze announce checklist alert occupancy notice evacuation
appointments_only alsa file none fire mass_incident { } [ ] - &a *a <<: --- ! !!str ~ true
false null 0x1F 1e309 .nan""".split()


def dict_entry(b):
    """One libFuzzer dictionary line for the bytes b."""
    return '"' + "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else "\\x%02x" % c for c in b) + '"'


def write_dicts():
    with open(os.path.join(HERE, "cmd.dict"), "w") as f:
        f.write("# cmd.dict: hall.v1 words as msgpack strings, for the command fuzzer (libFuzzer -dict)\n")
        for w in CMD_WORDS:
            f.write(dict_entry(msgpack.packb(w)) + "\n")
    with open(os.path.join(HERE, "config.dict"), "w") as f:
        f.write("# config.dict: keys and words of the config YAML (libFuzzer -dict)\n")
        for w in CONFIG_WORDS + ["- { ", ": "]:
            f.write(dict_entry(w.encode("utf-8")) + "\n")


def main():
    write_dicts()
    print(f"config_corpus: {config_corpus()} seeds, cmd_corpus: {cmd_corpus()} seeds")


if __name__ == "__main__":
    main()
