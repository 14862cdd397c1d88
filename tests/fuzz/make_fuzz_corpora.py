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
    """The config_demo_yaml string of io/config/config_load.c, unescaped from its C literals."""
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
tokens: [ { token: "admin-x", role: admin } ]
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
tokens: [ { token: "admin-x", role: admin } ]
categories: &c [ { id: A, name: General } ]
windows: [ { id: 1, name: *h, categories: *c } ]
"""

# Every section of a full hall (work, posts, alerts, queue, matters, supervision, rating, mobile,
# printer, audio templates): the config the command harness runs with when its selector asks
# for it (FULL in harness_cmd.c is the same text; keep them equal).
FULL = """hall: { id: full, name: 全功能大厅 }
http: { listen: "0.0.0.0:8080", rate_per_connection: 500, rate_per_token: 5000 }
redis: { url: "redis://127.0.0.1:6379/0" }
hours:
  - { days: [mon, tue, wed, thu, fri], open: ["08:30-12:00", "13:30-17:30"] }
  - { days: [sat], open: ["09:00-12:00"] }
tokens:
  - { token: "kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq",   role: kiosk }
  - { token: "display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj",   role: display }
  - { token: "staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp",   role: staff, staff: "0001" }
  - { token: "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez",   role: staff, staff: "0002" }
  - { token: "staff-0003.05CJy0DFg97ORMK_bA68AO_nBa0uYRFD",   role: staff, staff: "0003" }
  - { token: "security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u",  role: security }
  - { token: "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6",     role: admin }
staff:
  - { id: "0001", name: 张三, title: 综合受理员 }
  - { id: "0002", name: 李四, title: 综合受理员 }
  - { id: "0003", name: 王五, title: 帮办代办员 }
categories:
  - { id: A, name: 社保医保, weight: 1.0, alert_wait_min: 2, alert_length: 3 }
  - { id: B, name: 不动产登记, weight: 1.0, alert_length: 2 }
  - { id: C, name: 帮办代办, weight: 2.0 }
  - { id: D, name: 企业开办, weight: 1.0, alert_wait_min: 30 }
windows:
  - { id: 1, name: 1号窗口, categories: [A, B], zone: hall, posts: { a: "0001", b: "0002" } }
  - { id: 2, name: 2号窗口, categories: [C, A], zone: hall, posts: { a: "0002", b: "0003" } }
  - { id: 3, name: 3号窗口, categories: [B, D], zone: hall, posts: { a: "0003", b: "0001" } }
  - { id: 4, name: 4号窗口, categories: [D, C, A], zone: hall }
work: { rollover: "03:00", checkin_before_min: 10, away_alert_min: 2, empty_alert_min: 1 }
queue: { priority_max_in_row: 2, normal_max_wait_min: 5, appointment_early_min: 30, appointment_grace_min: 5 }
matters:
  - { id: yb-transfer, name: 医保关系转移接续, category: A, promised_days: 1, legal_days: 2 }
  - { id: bdc-first,   name: 不动产首次登记,   category: B, promised_days: 7, legal_days: 30 }
  - { id: qy-license,  name: 企业设立登记,     category: D, promised_days: 2 }
supervision: { warn_fraction: 0.5, default_days: 1 }
rating: { reasons: [服务态度不好, 办事效率低, 其他], target: 0.9 }
mobile: { public_url: "https://paidui.example.gov.cn/" }
printer: { tcp: "127.0.0.1:9100", width_mm: 58, timeout_ms: 800 }
gpio:
  backend: sim
  lines:
    - { name: fire_panel, chip: gpiochip0, offset: 17, dir: in, active_low: true, debounce_ms: 50 }
    - { name: door_main,  chip: gpiochip0, offset: 22, dir: out, normal: 0, safe: 1 }
audio:
  sink: none
  voice: cmn
  template: "请{code}号到{window}办理"
  window_templates: [ { window: 4, template: "请{code}号到二楼{window}办理" } ]
  repeat: 2
  digits: yao
  second_language: en
  second_template: "Number {code}, window {window_id}."
  evac_tone_s: 8
emergency:
  playbooks:
    - id: fire
      name: 火警
      triggers: [ { gpio: fire_panel, value: 1 } ]
      steps:
        - { do: gpio, line: door_main, value: 1 }
        - { do: queue_freeze }
        - { do: display, mode: evacuation }
    - id: mass_incident
      name: 群体性事件
      silent: true
      steps:
        - { do: alert, text: 大厅发生聚集, roles: [security, admin] }
"""

SENTINEL = MINIMAL + """redis:
  sentinels: ["10.0.0.5:26379", "[fe80::1]:26379", "localhost:26380"]
  master: hallmaster
  db: 3
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
        # the sections added with posts, appointments, cases, ratings, phones and the printer
        ("full", FULL),
        ("full_24h", FULL.replace('["08:30-12:00", "13:30-17:30"]', '["00:00-24:00"]')),
        ("sentinel", SENTINEL),
        ("sentinel_and_url", SENTINEL.replace("  db: 3\n", "  db: 3\n  url: \"redis://x:1/0\"\n")),
        ("sentinel_no_master", SENTINEL.replace("  master: hallmaster\n", "")),
        ("master_without_sentinels", MINIMAL + "redis: { master: m }\n"),
        ("sentinel_bad_host", SENTINEL.replace("localhost:26380", "redis.example:26380")),
        ("sentinel_db_big", SENTINEL.replace("db: 3", "db: 1000001")),
        ("work_bad_rollover", FULL.replace('rollover: "03:00"', 'rollover: "24:00"')),
        ("work_noon_rollover", FULL.replace('rollover: "03:00"', 'rollover: "20:00"')),
        ("work_zero_away", FULL.replace("away_alert_min: 2", "away_alert_min: 0")),
        ("posts_unknown_staff", FULL.replace('b: "0002" }', 'b: "0009" }')),
        ("posts_same_person", FULL.replace('a: "0001", b: "0002"', 'a: "0001", b: "0001"')),
        ("posts_a_twice", FULL.replace('a: "0002", b: "0003"', 'a: "0001", b: "0003"')),
        ("posts_unknown_key", FULL.replace('posts: { a: "0003"', 'posts: { c: "0002", a: "0003"')),
        ("alert_wait_big", FULL.replace("alert_wait_min: 30", "alert_wait_min: 1441")),
        ("queue_bad", FULL.replace("priority_max_in_row: 2", "priority_max_in_row: 0")),
        ("queue_unknown_key", FULL.replace("appointment_grace_min: 5", "appointment_grace_min: 5, grace: 1")),
        ("matter_legal_short", FULL.replace("promised_days: 7, legal_days: 30", "promised_days: 7, legal_days: 3")),
        ("matter_dup", FULL.replace("id: qy-license", "id: bdc-first")),
        ("matter_bad_category", FULL.replace("category: D, promised_days: 2", "category: Z, promised_days: 2")),
        ("matter_bad_id", FULL.replace("id: yb-transfer", "id: \"yb transfer\"")),
        ("supervision_bad", FULL.replace("warn_fraction: 0.5", "warn_fraction: 1.5")),
        ("supervision_nan", FULL.replace("warn_fraction: 0.5", "warn_fraction: .nan")),
        ("rating_dup_reason", FULL.replace("[服务态度不好, 办事效率低, 其他]", "[其他, 其他]")),
        ("rating_empty_reasons", FULL.replace("[服务态度不好, 办事效率低, 其他]", "[]")),
        ("rating_target_zero", FULL.replace("target: 0.9", "target: 0")),
        ("mobile_bad_url", FULL.replace("https://paidui.example.gov.cn/", "ftp://x?y#z")),
        ("printer_both", FULL.replace('tcp: "127.0.0.1:9100"', 'tcp: "127.0.0.1:9100", device: /dev/usb/lp0')),
        ("printer_device", FULL.replace('tcp: "127.0.0.1:9100"', "device: /dev/usb/lp0")),
        ("printer_ipv6", FULL.replace('tcp: "127.0.0.1:9100"', 'tcp: "[::1]:9100"')),
        ("printer_bad_width", FULL.replace("width_mm: 58", "width_mm: 70")),
        ("printer_name_host", FULL.replace('tcp: "127.0.0.1:9100"', 'tcp: "printer.local:9100"')),
        ("audio_bad_repeat", FULL.replace("repeat: 2", "repeat: 9")),
        ("audio_template_window", FULL.replace("window: 4, template", "window: 9, template")),
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


SECURITY_SLOT, FRESH = -3, -4   # script steps: switch to the security session, to a fresh one


def selector(role, scene, next_day=False, full=False):
    return role + 3 * scene + 12 * int(next_day) + 24 * int(full)


def cmd_seeds():
    """(name, role, scene, request): every command with the role and scene where it does work,
    plus refusals (wrong role, bad arguments)."""
    s = []
    add = lambda name, role, scene, req, nd=False, full=False, script=(): s.append((name, role, scene, nd, req, full, script))
    add("hello_admin", ADMIN, EMPTY, {"t": "hello", "id": 1, "token": "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6"})
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
    add("window_open_huge", STAFF, EMPTY, {"t": "window.open", "id": 4, "window": 4294967297})
    add("transfer_window_huge", STAFF, AT_WINDOW, {"t": "ticket.transfer", "id": 13, "window": 4294967298})
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
    # ---- the full hall (harness_cmd.c): posts, alerts, appointments, cases, ratings, phones, with
    # scripts that advance the clock so hall_tick's rules fire ----
    F = dict(full=True)
    add("checkin", STAFF, EMPTY, {"t": "staff.checkin", "id": 30, "window": 1}, **F,
        script=[600, {"t": "alerts.list", "id": 31}, {"t": "staff.checkout", "id": 32}, 180, {"t": "duty.get", "id": 33}])
    add("checkin_post_b", STAFF, TICKETS, {"t": "staff.checkin", "id": 30, "window": 3}, **F,
        script=[{"t": "window.open", "id": 31, "window": 3}, {"t": "call.next", "id": 32}, 200])
    add("checkin_not_post", STAFF, EMPTY, {"t": "staff.checkin", "id": 30, "window": 2}, **F)
    add("checkin_twice", STAFF, AT_WINDOW, {"t": "staff.checkin", "id": 30, "window": 1}, **F)
    add("checkout_busy", STAFF, AT_WINDOW, {"t": "staff.checkout", "id": 30}, **F,
        script=[300, -1, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", {"t": "alerts.list", "id": 31}, {"t": "alert.ack", "id": 32, "alert": 1},
                {"t": "alert.ack", "id": 33, "alert": 2}, {"t": "alert.ack", "id": 34, "alert": 99}])
    add("pause_away", STAFF, AT_WINDOW, {"t": "window.pause", "id": 30, "reason": "离开"}, **F,
        script=[-4, "staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez", {"t": "staff.checkin", "id": 31, "window": 1}, 200,
                {"t": "alerts.list", "id": 32}, {"t": "alert.ack", "id": 33, "alert": 3}, 0,
                {"t": "window.resume", "id": 34}, 120])
    add("alerts_admin", ADMIN, EMPTY, {"t": "alerts.list", "id": 30}, **F,
        script=[120, {"t": "alert.ack", "id": 31, "alert": 1}, {"t": "alert.ack", "id": 32, "alert": "x"}, 7200, 3600])
    add("alerts_kiosk", KIOSK, EMPTY, {"t": "alerts.list", "id": 30}, **F)
    add("duty_get", KIOSK, AT_WINDOW, {"t": "duty.get", "id": 30}, **F)
    add("duty_get_demo", STAFF, AT_WINDOW, {"t": "duty.get", "id": 30})
    add("load_alert", KIOSK, EMPTY, {"t": "ticket.issue", "id": 30, "category": "A"}, **F,
        script=[{"t": "ticket.issue", "id": 31, "category": "A"}, {"t": "ticket.issue", "id": 32, "category": "A"},
                {"t": "ticket.issue", "id": 33, "category": "B"}, {"t": "ticket.issue", "id": 34, "category": "B"}, 180])
    add("appt_add", ADMIN, EMPTY, {"t": "appointment.add", "id": 30, "number": "APT3", "name": "王小明", "category": "C",
                                   "slot_start": "10:40", "slot_end": "11:00", "matter": "qy-license"}, **F,
        script=[-1, {"t": "ticket.issue", "id": 31, "appointment": "APT3"}, 600,
                {"t": "ticket.issue", "id": 32, "appointment": "APT3"}, 0, {"t": "appointments.list", "id": 33}, 5400])
    add("appt_add_dated", ADMIN, TICKETS, {"t": "appointment.add", "id": 30, "number": "APT4", "name": "x", "category": "D",
                                           "slot_start": "2025-11-25 09:00", "slot_end": "24:00"}, **F,
        script=[86400, {"t": "appointments.list", "id": 31, "date": "all"}])
    add("appt_add_bad", ADMIN, EMPTY, {"t": "appointment.add", "id": 30, "number": "A P", "name": "", "category": "Z",
                                       "slot_start": "11:00", "slot_end": "10:00"}, **F)
    add("appt_add_past", ADMIN, EMPTY, {"t": "appointment.add", "id": 30, "number": "APT5", "name": "y", "category": "A",
                                        "slot_start": "08:00", "slot_end": "09:00"}, **F)
    add("appt_import", ADMIN, EMPTY, {"t": "appointment.import", "id": 30, "csv":
        "\ufeffnumber,name,category,date,start,end,matter\r\nYY1,张三,A,2025-11-24,10:30,11:00,社保卡补办\r\n"
        "YY2,\"欧阳, 娜娜\",B,2025-11-24,13:30,14:00,\r\n\r\nYY3,\"李\"\"四\",C,2025-11-25,09:00,24:00,x\r\n"}, **F,
        script=[{"t": "appointments.list", "id": 31, "date": "2025-11-24", "offset": 1, "limit": 1}, 20000])
    add("appt_import_bad", ADMIN, EMPTY, {"t": "appointment.import", "id": 30, "csv":
        "number,name,category,date,start,end\nYY1,,Q,2025-13-40,25:00,09:00\n\"unterminated,x\nYY1,a,A,2025-11-24,10:00,10:30\nYY1,a,A,2025-11-24,10:00,10:30\n"}, **F)
    add("appt_import_no_header", ADMIN, EMPTY, {"t": "appointment.import", "id": 30, "csv": ""}, **F)
    add("appt_cancel", ADMIN, TICKETS, {"t": "appointment.cancel", "id": 30, "number": "APT2"}, **F,
        script=[{"t": "appointment.cancel", "id": 31, "number": "APT2"}, {"t": "appointment.add", "id": 32, "number": "APT2",
                "name": "again", "category": "B", "slot_start": "15:00", "slot_end": "15:30"}])
    add("appt_list", STAFF, TICKETS, {"t": "appointments.list", "id": 30, "date": "all", "limit": 1}, **F)
    add("appt_list_bad", STAFF, TICKETS, {"t": "appointments.list", "id": 30, "date": "2025-02-30", "limit": 0}, **F)
    add("appt_checkin", KIOSK, TICKETS, {"t": "ticket.issue", "id": 30, "appointment": "APT1"}, **F,
        script=[{"t": "ticket.issue", "id": 31, "appointment": "APT1"}, {"t": "ticket.issue", "id": 32, "appointment": "APT2"},
                {"t": "ticket.issue", "id": 33, "appointment": "APT1", "category": "B"}, -2, {"t": "window.open", "id": 34, "window": 1},
                {"t": "call.next", "id": 35}, {"t": "call.next", "id": 36}, 16200])
    add("appt_release", ADMIN, TICKETS, {"t": "state.get", "id": 30}, **F, script=[3000, 14000, {"t": "appointments.list", "id": 31}])
    add("appt_list_demo", ADMIN, EMPTY, {"t": "appointments.list", "id": 30})
    add("finish_promised", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "承诺件", "matter": "yb-transfer"}, **F,
        script=[{"t": "cases.list", "id": 31}, 86400, 86400, {"t": "cases.list", "id": 32, "status": "all"},
                {"t": "case.close", "id": 33, "case": 1, "result": "办结"}, {"t": "case.close", "id": 34, "case": 1, "result": "x"},
                {"t": "cases.stats", "id": 35}])
    add("finish_promised_default", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "承诺件"}, **F,
        script=[20000, {"t": "cases.board", "id": 31}, 200000, {"t": "cases.list", "id": 32, "status": "overdue"}])
    add("finish_joint", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "联办件", "matter": "bdc-first",
                                          "lead_window": 3, "partners": ["税务局", "住建局"]}, **F,
        script=[{"t": "cases.list", "id": 31, "status": "open", "limit": 1}])
    add("finish_joint_no_matter", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "联办件", "partners": ["税务局"]}, **F)
    add("finish_joint_bad_lead", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "联办件", "matter": "bdc-first",
                                                   "lead_window": 99}, **F)
    add("finish_report", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "上报件", "matter": "qy-license",
                                           "sent_to": "市政务服务局"}, **F, script=[300000])
    add("finish_missing", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "补正", "matter": "yb-transfer",
                                            "missing": ["身份证复印件", "户口簿"]}, **F)
    add("finish_bad_combo", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "即办件", "partners": ["x"],
                                              "missing": [], "sent_to": ""}, **F)
    add("finish_unknown_matter", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "承诺件", "matter": "nope"})
    add("finish_matter_demo", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "承诺件", "matter": "bdc-first"},
        script=[400000, {"t": "cases.list", "id": 31, "status": "all"}])
    add("case_close_unknown", ADMIN, EMPTY, {"t": "case.close", "id": 30, "case": 7, "result": "x"}, **F)
    add("case_close_bad", STAFF, EMPTY, {"t": "case.close", "id": 30, "case": "1", "result": ""}, **F)
    add("cases_list_bad", STAFF, EMPTY, {"t": "cases.list", "id": 30, "status": "lost", "limit": 5000}, **F)
    add("cases_stats", ADMIN, EMPTY, {"t": "cases.stats", "id": 30}, **F)
    add("cases_board", KIOSK, EMPTY, {"t": "cases.board", "id": 30})
    add("matters_list", KIOSK, EMPTY, {"t": "matters.list", "id": 30}, **F)
    add("matters_list_demo", STAFF, EMPTY, {"t": "matters.list", "id": 30})
    add("ratings_reasons", KIOSK, EMPTY, {"t": "ratings.reasons", "id": 30}, **F)
    add("rate_bad", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "即办件"}, **F,
        script=[-1, {"t": "ticket.rate", "id": 31, "code": "A001", "score": 1, "reason": "服务态度不好", "text": "等了很久"},
                0, {"t": "followups.list", "id": 32}, -4, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", {"t": "followups.list", "id": 33, "status": "all"},
                {"t": "followup.close", "id": 34, "followup": 1, "resolution": "已回访"},
                {"t": "followup.close", "id": 35, "followup": 1, "resolution": "again"},
                {"t": "ratings.stats", "id": 36, "by": "staff"}, {"t": "ratings.stats", "id": 37, "by": "day", "from": 20251101, "to": 20251130}])
    add("rate_good", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "即办件"}, **F,
        script=[-1, {"t": "ticket.rate", "id": 31, "code": "A001", "score": 5}, {"t": "ticket.rate", "id": 32, "code": "A001", "score": 4},
                -4, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", {"t": "ratings.stats", "id": 33, "by": "window"}, {"t": "ratings.stats", "id": 34, "by": "category"}])
    add("rate_no_reason", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "即办件"}, **F,
        script=[-1, {"t": "ticket.rate", "id": 31, "code": "A001", "score": 2}, {"t": "ticket.rate", "id": 32, "code": "A001",
                "score": 2, "reason": "不存在的原因", "text": "x" * 400}])
    add("ratings_stats_bad", ADMIN, EMPTY, {"t": "ratings.stats", "id": 30, "by": "moon", "from": 20251301, "to": 1}, **F)
    add("followup_close_unknown", ADMIN, EMPTY, {"t": "followup.close", "id": 30, "followup": 5, "resolution": "x"}, **F)
    add("visitor", KIOSK, TICKETS, {"t": "ticket.issue", "id": 30, "category": "A"}, **F,
        script=[-4, "ticket:A001:good", {"t": "ticket.get", "id": 31}, {"t": "ticket.get", "id": 32, "code": "A002"},
                {"t": "state.get", "id": 33}, -2, {"t": "window.open", "id": 34, "window": 2}, {"t": "call.next", "id": 35},
                -4, {"t": "ticket.get", "id": 36}, -5, "ticket:A001:bad", -6, "ticket:Z999:good", -7, "ticket:a1:good"])
    add("visitor_demo", KIOSK, AT_WINDOW, {"t": "state.get", "id": 30},
        script=[-4, "ticket:A001:good", {"t": "ticket.get", "id": 31}, 86400, {"t": "ticket.get", "id": 32}])
    add("ticket_get_staff", STAFF, AT_WINDOW, {"t": "ticket.get", "id": 30, "code": "A001"}, **F)
    add("ticket_get_kiosk", KIOSK, TICKETS, {"t": "ticket.get", "id": 30, "code": "A001"}, **F)
    add("report_day", ADMIN, AT_WINDOW, {"t": "report.day", "id": 30, "day": 20251124}, **F)
    add("report_events", ADMIN, AT_WINDOW, {"t": "report.events", "id": 30, "day": 20251124, "after": 0}, **F)
    add("rollover", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "即办件"}, **F,
        script=[61200, {"t": "state.get", "id": 31}, {"t": "ticket.issue", "id": 32, "category": "A"}, 86400, 86400])
    add("rollover_demo", STAFF, TICKETS, {"t": "window.open", "id": 30, "window": 1}, script=[50400, {"t": "call.next", "id": 31}, 86400])
    add("fire_panel", ADMIN, TICKETS, {"t": "state.get", "id": 30}, **F,
        script=[True, 5, False, {"t": "emergency.clear", "id": 31, "reason": "误报"}, 60])
    # whole days: what a restart from the daily checkpoint must rebuild (cases, follow-ups,
    # bookings for later days, check-ins and acknowledged alerts carried across the rollover)
    add("long_day", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "承诺件", "matter": "bdc-first"}, **F,
        script=[-1, {"t": "ticket.rate", "id": 31, "code": "A001", "score": 1, "reason": "其他", "text": "态度差"},
                -4, "admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6", {"t": "appointment.add", "id": 32, "number": "TMR1", "name": "明天", "category": "A",
                                     "slot_start": "2025-11-25 09:00", "slot_end": "2025-11-25 09:30"},
                {"t": "alert.ack", "id": 33, "alert": 1}, 0, {"t": "call.next", "id": 34}, {"t": "ticket.start", "id": 35},
                {"t": "ticket.finish", "id": 36, "outcome": "联办件", "matter": "bdc-first", "partners": ["税务局"]},
                {"t": "window.pause", "id": 37, "reason": "午饭"}, 3600, 61000,
                {"t": "staff.checkin", "id": 38, "window": 1}, {"t": "window.open", "id": 39, "window": 1},
                -1, {"t": "ticket.issue", "id": 40, "appointment": "TMR1"}, 0, {"t": "call.next", "id": 41},
                {"t": "ticket.finish", "id": 42, "outcome": "承诺件"}, -4, {"t": "case.close", "id": 43, "case": 1, "result": "办结"},
                {"t": "followup.close", "id": 44, "followup": 1, "resolution": "已回访"}, 90000])
    add("long_day_demo", STAFF, AT_WINDOW, {"t": "ticket.finish", "id": 30, "outcome": "上报件", "matter": "qy-license", "sent_to": "市局"},
        script=[-1, {"t": "ticket.rate", "id": 31, "code": "A001", "score": 2, "reason": "办事效率低"}, 0,
                {"t": "staff.checkin", "id": 32, "window": 1}, {"t": "call.next", "id": 33}, {"t": "ticket.transfer", "id": 34, "category": "D"},
                {"t": "call.next", "id": 35}, {"t": "ticket.noshow", "id": 36}, 50000, {"t": "call.next", "id": 37},
                {"t": "call.recall", "id": 38}, 40000, -3, {"t": "emergency.clear", "id": 39, "reason": "结束"}, 86400])
    add("drill_over_midnight", ADMIN, DRILL, {"t": "emergency.trigger", "id": 30, "playbook": "mass_incident"}, **F,
        script=[{"t": "emergency.ack", "id": 31, "step": 1}, 70000, {"t": "state.get", "id": 32}, True, 60, 86400])
    add("weekend", STAFF, TICKETS, {"t": "window.open", "id": 30, "window": 1}, **F,
        script=[4 * 86400, 86400, {"t": "call.next", "id": 31}, 86400])
    return s


def cmd_corpus():
    out = os.path.join(HERE, "cmd_corpus")
    os.makedirs(out, exist_ok=True)
    seeds = cmd_seeds()
    for name, role, scene, nd, req, full, script in seeds:
        data = bytes([selector(role, scene, nd, full)]) + msgpack.packb(req, use_bin_type=True)
        data += b"".join(msgpack.packb(step, use_bin_type=True) for step in script)
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
A001 A002 B001 C001 admin.o_E5yjNGPdBR4VbsC5kjf9mCrMdfjhY6 staff-0001.Cp9HZ0Pr75l4U27BDUIcvbulyV1D5vqp staff-0002.L-QgBBYv_Tqm71xcdW3nZkd1CMhwPxez kiosk-1.XDSErQyktoER0Vf7vwFx9WJ38mePr1Zq security.dCVrYxG0p8otjwn2CMOEvv9nKWLzG74u
display.ZAVt0mvZ54hGrrZU9gz567w-K-EP-Ybj 即办件 承诺件 联办件 上报件 补正 不予受理 受理 staff.checkin staff.checkout alerts.list
alert.ack duty.get appointment.add appointment.import appointment.cancel appointments.list
matters.list case.close cases.list cases.stats cases.board ratings.stats ratings.reasons
followups.list followup.close ticket.get report.day report.events stats.get health clock.advance
announce alert number name slot_start slot_end csv date offset limit status case result by from
to followup resolution lead_window partners sent_to missing text matter yb-transfer bdc-first
qy-license APT1 APT2 10:00 14:00 24:00 2025-11-24 2025-11-25 all active open warning overdue
closed staff day ticket:A001:good ticket:A002:good good 服务态度不好 办事效率低 其他
number,name,category,date,start,end,matter\n""".split()

CONFIG_WORDS = """hall: http: listen: tls_cert: tls_key: redis: url: hours: days: open: tokens: token: role:
staff: id: name: title: photo: categories: weight: windows: zone: gpio: backend: lines: chip:
offset: dir: active_low: debounce_ms: normal: safe: audio: sink: path: device: voice:
emergency: playbooks: triggers: steps: do: line: value: mode: text: loop: roles: cap: zones:
silent: severity: kiosk display staff admin security sim gpiod in out mon tue sat sun
"09:00-12:00" "00:00-24:00" queue_freeze announce checklist alert occupancy notice evacuation
appointments_only alsa file none fire mass_incident { } [ ] - &a *a <<: --- ! !!str ~ true
false null 0x1F 1e309 .nan posts: a: b: work: rollover: checkin_before_min: away_alert_min:
empty_alert_min: alert_wait_min: alert_length: queue: priority_max_in_row: normal_max_wait_min:
appointment_early_min: appointment_grace_min: matters: category: promised_days: legal_days:
supervision: warn_fraction: default_days: rating: reasons: target: mobile: public_url: printer:
tcp: width_mm: timeout_ms: sentinels: master: db: rate_per_connection: rate_per_token: template:
window_templates: window: repeat: digits: second_language: second_template: evac_tone_s: ling yao
"03:00" "127.0.0.1:9100" "[::1]:26379" https://x/ /dev/usb/lp0""".split()


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
