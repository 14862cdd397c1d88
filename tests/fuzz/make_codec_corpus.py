#!/usr/bin/python3
"""Writes the seed frames of tests/fuzz/codec_corpus/: small valid hall.v1 frames that the
codec's mutation test (tests/unit/test_codec.c) and any fuzzer start from. Run once by hand:
/usr/bin/python3 tests/fuzz/make_codec_corpus.py"""
import os
import msgpack

SEEDS = {
    "hello.bin": {"t": "hello", "id": 1, "token": "kiosk-7f3a9c"},
    "ticket_issue.bin": {"t": "ticket.issue", "id": 2, "category": "社保", "priority": "priority"},
    "ticket_finish.bin": {"t": "ticket.finish", "id": 3, "outcome": "即办件"},
    "ticket_rate.bin": {"t": "ticket.rate", "id": 4, "code": "A017", "score": 5},
    "emergency_trigger.bin": {"t": "emergency.trigger", "id": 5, "playbook": "fire", "drill": True},
    "ev_called.bin": {"t": "ev", "ev": "ticket.called", "seq": 70000, "at": 1718000000123,
                      "code": "B102", "window": 3, "window_name": "3号窗口",
                      "category": "不动产", "recall": False},
    "ev_emergency.bin": {"t": "ev", "ev": "emergency.changed", "seq": 2**32, "at": 1718000000999,
                         "active": True, "playbook": "fire", "drill": None,
                         "steps": [{"do": "announce", "done_at": None},
                                   {"do": "checklist", "done_at": 1718000001000,
                                    "text": "拨打119报警"}]},
    "state_reply.bin": {"t": "ok", "id": 6, "state": {
        "windows": [{"id": 1, "open": True}, {"id": 2, "open": False}],
        "queues": {"A": {"waiting": 12, "est_wait_s": 840.5}},
        "recent_calls": [], "emergency": {"active": False}}},
    "numbers.bin": {"t": "x", "n": [0, -1, -32, -33, 127, 128, 255, 256, 65535, 65536,
                                    -(2**63), 2**63 - 1, 1.5, -0.25],
                    "f32": 0.0},
    "nested16.bin": None,  # filled below
}

def nested(depth):
    v = {"leaf": 1}
    for _ in range(depth - 1):
        v = {"k": v}
    return v

def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "codec_corpus")
    os.makedirs(here, exist_ok=True)
    SEEDS["nested16.bin"] = nested(16)
    for name, obj in SEEDS.items():
        data = msgpack.packb(obj, use_bin_type=True)
        if name == "numbers.bin":
            # one float32 (0xca), which Python's packer never emits for floats by default
            data = data[:-9] + b"\xca\x3f\xc0\x00\x00"
        with open(os.path.join(here, name), "wb") as f:
            f.write(data)

if __name__ == "__main__":
    main()
