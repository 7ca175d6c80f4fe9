"""Where `railyard serve`'s resident memory lives, by kind of mapping, over time.

The soak (`benches/serve_memory`) sees the resident size step up at the
first audit maintenance round while the live heap grows ~3 MiB. This
reads `/proc/<pid>/smaps` every `SAMPLE_SECS` (5) while one server is
driven at `RATE` calls/s (300, the soak's) for `SECS` (300), and sums the
resident bytes of each kind of mapping, so a step shows where it is:

- `heap`: the main malloc arena (`[heap]`, grown with brk);
- `arenas`: glibc's other arenas, each a 64 MiB-aligned anonymous
  reservation that the arena commits from the bottom (a mapping of at most
  64 MiB whose start is 64 MiB-aligned);
- `stacks`: thread stacks, an anonymous mapping right above a
  `---p` guard page (Rust's and tokio's threads: 2 MiB by default);
- `pool slots`: what the wasmtime instance pool keeps resident in its
  linear-memory slots not in use (`railyard_pool_warm_memory_resident_bytes`;
  at most `RAILYARD_POOL_KEEP_RESIDENT_KIB` a slot). The pool is one
  reservation of many GiB split into pieces by protection, and glibc maps
  large allocations right beside it, so its share cannot be told from the
  mappings themselves;
- `other anon`: every other private anonymous page (large allocations
  glibc maps on their own, the slots of instances in use, Cranelift's
  code, runtime buffers);
- `files`: file-backed mappings (the binary and the libraries).

Each line also shows the heap in use (`railyard_heap_in_use_bytes`) and the
number of threads, so a step in `stacks` can be told from one in the heap.
Set `RAILYARD_AUDIT_MAINTENANCE_SECS=60` for a round every minute (the
server reads it; the default is every 300 s).

Knobs (environment): `RAILYARD_BIN` (default `target/release/railyard`),
`RATE`, `SECS`, `SAMPLE_SECS`, and any `RAILYARD_*` / `MALLOC_*` setting.
Run: `python3 scripts/serve_heap/regions.py` (stdlib only; the server and
the fake upstream are `per_call.py`'s).
"""

import os
import sys
import threading
import time
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from per_call import Server, Upstream, env_num  # noqa: E402

KINDS = ["heap", "arenas", "stacks", "pool slots", "other anon", "files"]
ARENA = 64 << 20


def regions(pid, pool_slots):
    """Resident bytes by kind of mapping, from /proc/<pid>/smaps; the pool's
    warm slots (`pool_slots`, from the server's metrics) are taken out of
    `other anon`."""
    out = dict.fromkeys(KINDS, 0)
    maps = []
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                maps.append({"lo": lo, "hi": hi, "perms": head[1], "path": " ".join(head[5:]), "rss": 0})
            elif head[0] == "Rss:" and maps:
                maps[-1]["rss"] = int(head[1]) * 1024
    for i, m in enumerate(maps):
        size = m["hi"] - m["lo"]
        below = maps[i - 1] if i > 0 and maps[i - 1]["hi"] == m["lo"] else None
        if m["path"] == "[heap]":
            kind = "heap"
        elif m["path"] == "[stack]":
            kind = "stacks"
        elif m["path"]:
            kind = "files"
        elif m["lo"] % ARENA == 0 and size <= ARENA:
            kind = "arenas"
        elif below and below["perms"] == "---p" and below["hi"] - below["lo"] <= 64 << 10:
            kind = "stacks"
        else:
            kind = "other anon"
        out[kind] += m["rss"]
    out["pool slots"] = pool_slots
    out["other anon"] -= pool_slots
    return out


def threads(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))


def main():
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    rate, secs, every = env_num("RATE", 300), env_num("SECS", 300), env_num("SAMPLE_SECS", 5)
    server = Server("regions", upstream.server_port)
    mib = 1 << 20
    start = time.time()
    print("t (s) | calls | threads | heap in use | " + " | ".join(KINDS) + " | total (MiB)")
    try:
        workers = server.drive(start + secs, 8, rate)
        while True:
            heap, slots = server.gauges("railyard_heap_in_use_bytes", "railyard_pool_warm_memory_resident_bytes")
            r = regions(server.pid, slots)
            print(
                f"{time.time() - start:5.0f} | {server.calls:7d} | {threads(server.pid):3d} | {heap / mib:6.2f} | "
                + " | ".join(f"{r[k] / mib:6.1f}" for k in KINDS)
                + f" | {sum(r.values()) / mib:6.1f}",
                flush=True,
            )
            if not any(t.is_alive() for t in workers):
                break
            time.sleep(every)
        print(f"5xx answers: {server.errors}")
    finally:
        server.stop(False)


if __name__ == "__main__":
    main()
