#!/usr/bin/env python3
"""test_layers: the folders' include graph points one way (docs/architecture.md).

Each folder has a layer; a file may include headers of its own folder or of a lower layer only,
so no folder includes a header of a folder that includes it back. core/ includes no system
header that does I/O or reads a clock."""
import os
import re
import sys

SRC = os.environ.get("HK_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
LAYER = {
    "core": 0,
    "core/codec": 1,
    "gpio": 2, "web": 2, "io/base": 2,
    "io/store": 3, "io/config": 3, "io/audio": 3, "io/printer": 3, "io/ups": 3,
    "io/daemon": 4, "io/ctl": 4,
}
# core is pure logic: no sockets, files, clocks or libraries of the outside world.
CORE_FORBIDDEN = re.compile(r"^(uv|hiredis/.*|msgpack|yaml|sodium|lws_.*|libwebsockets|gpiod|"
                            r"sys/socket|sys/stat|fcntl|unistd|time|sys/time|pthread|"
                            r"alsa/.*|qrencode|systemd/.*|curl/.*)\.h$")
INC = re.compile(r'^\s*#\s*include\s+([<"])([^">]+)[">]', re.M)


def folder_of(path):
    d = os.path.dirname(path)
    return d if d in LAYER else None


def main():
    bad = []
    checked = 0
    for d in LAYER:
        full = os.path.join(SRC, d)
        for name in sorted(os.listdir(full)):
            if not name.endswith((".c", ".h")):
                continue
            rel = f"{d}/{name}"
            text = open(os.path.join(full, name), encoding="utf-8").read()
            for kind, inc in INC.findall(text):
                checked += 1
                if kind == "<":
                    if d.startswith("core") and d != "core/codec" and CORE_FORBIDDEN.match(inc):
                        bad.append(f"{rel}: core includes <{inc}> (core does no I/O)")
                    continue
                target = inc if "/" in inc else f"{d}/{inc}"
                tdir = folder_of(target)
                if tdir is None:
                    bad.append(f"{rel}: includes \"{inc}\", not a header of a known folder")
                    continue
                if not os.path.exists(os.path.join(SRC, target)):
                    bad.append(f"{rel}: includes \"{inc}\", which does not exist")
                if tdir != d and LAYER[tdir] >= LAYER[d]:
                    bad.append(f"{rel}: {d} (layer {LAYER[d]}) includes {target} "
                               f"(layer {LAYER[tdir]}): dependencies point down only")
    for b in bad:
        print("FAIL", b)
    print(f"{checked} includes checked in {len(LAYER)} folders")
    if checked < 100:
        print("FAIL too few includes seen: is HK_SRC right?")
        return 1
    print(f"{0 if bad else 1} passed, {1 if bad else 0} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
