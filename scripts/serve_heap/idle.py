"""Idle heap and resident size of `railyard serve` after start and after a
hot reload that compiles, for two or more builds or settings side by side.

Each run starts one `railyard serve` on 127.0.0.1:0 with an empty compile
cache (so it compiles the default policy's plugins at start), the default
policy plus a plugins folder, the audit log and state in a temp dir, and
nothing else running in it. It reads, `SETTLE_SECS` (5) after the server
listens:

- start: seconds from the spawn to "listening" (the plugins' compile is
  most of it);
- heap in use (`railyard_heap_in_use_bytes`, glibc's `mallinfo2`) and
  `VmRSS`, idle.

Then it lands a new version of the `hostile` test fixture (a custom
section appended, so its digest is new and it is compiled) with its
manifest in the plugins folder, and reads:

- reload: seconds from the manifest landing to
  `railyard_plugin_versions_live_total` counting it (filesystem event,
  settle window, compile, smoke test, swap);
- heap in use and `VmRSS` `SETTLE_SECS` after it went live.

Variants run in turn (A, B, A, B, ...), `RUNS` (3) processes each, one
process at a time. `VARIANTS` is a `;`-separated list of
`label=binary [NAME=value ...]` (settings passed to that variant only),
e.g.

    VARIANTS="main=/tmp/railyard-main;branch=target/release/railyard" \\
      python3 scripts/serve_heap/idle.py

`HOSTILE_WASM` is the fixture (default: under the release target dir).
Stdlib only.
"""

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HOSTILE = os.environ.get(
    "HOSTILE_WASM", "/work/target-release/railyard-plugins/components/railyard_fixture_hostile.wasm"
)
DEFAULT_POLICY = os.path.join(os.path.dirname(__file__), "../../host/src/policy/default.toml")


def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


def write_atomic(path, data):
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def one(label, binary, extra_env, run, settle):
    d = tempfile.mkdtemp(prefix=f"railyard-idle-{label}-")
    plugins = os.path.join(d, "plugins")
    os.mkdir(plugins)
    with open(DEFAULT_POLICY) as f:
        policy = f.read()
    with open(os.path.join(d, "policy.toml"), "w") as f:
        f.write(policy.replace('name = "default"\n', 'name = "default"\n\n[registry]\ndir = "plugins"\n', 1))
    config = os.path.join(d, "serve.toml")
    with open(config, "w") as f:
        f.write(
            '[policies]\ndefault = "policy.toml"\n\n'
            '[upstreams.openai]\nbase-url = "http://127.0.0.1:9/v1"\n\n'
            '[[routes]]\nmodel = "*"\nupstream = "openai"\n'
        )
    env = dict(
        os.environ,
        RAILYARD_AUDIT_URL=f"{d}/audit",
        RAILYARD_STATE_DIR=f"{d}/state",
        RAILYARD_CACHE_DIR=f"{d}/cache",
        **extra_env,
    )
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--config", config],
        stdout=subprocess.PIPE,
        stderr=open(f"{d}/stderr", "w"),
        env=env,
        text=True,
    )
    port = None
    for line in proc.stdout:
        if line.startswith("railyard: listening on http://"):
            port = int(line.strip().rsplit(":", 1)[1])
            break
    if port is None:
        sys.exit(f"{label}: railyard serve exited before listening; see {d}/stderr")
    started = time.monotonic() - t0
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    try:
        time.sleep(settle)
        idle = (metric(port, "railyard_heap_in_use_bytes"), rss(proc.pid), metric(port, "railyard_heap_free_bytes"))

        with open(HOSTILE, "rb") as f:
            wasm = f.read()
        tag = f"{label}-{run}-{time.time_ns()}".encode()
        name = b"railyard-test-version"
        body = bytes([len(name)]) + name + tag
        assert len(body) < 128
        wasm += bytes([0, len(body)]) + body
        write_atomic(os.path.join(plugins, "hostile.wasm"), wasm)
        manifest = subprocess.run(
            [binary, "manifest", os.path.join(plugins, "hostile.wasm")], capture_output=True, check=True
        ).stdout.replace(b'component = "hostile.wasm.partial"', b'component = "hostile.wasm"')
        live_before = metric(port, "railyard_plugin_versions_live_total")
        t1 = time.monotonic()
        write_atomic(os.path.join(plugins, "hostile.toml"), manifest)
        while metric(port, "railyard_plugin_versions_live_total") <= live_before:
            if time.monotonic() - t1 > 120:
                sys.exit(f"{label}: the plugin did not go live in 120 s; see {d}/stderr")
            time.sleep(0.005)
        reload = time.monotonic() - t1
        time.sleep(settle)
        after = (metric(port, "railyard_heap_in_use_bytes"), rss(proc.pid), metric(port, "railyard_heap_free_bytes"))
    finally:
        proc.terminate()
        proc.wait()
    return started, idle, reload, after


def main():
    variants = []
    for v in os.environ["VARIANTS"].split(";"):
        label, rest = v.split("=", 1)
        parts = rest.split()
        variants.append((label, parts[0], dict(p.split("=", 1) for p in parts[1:])))
    runs = int(os.environ.get("RUNS", "3"))
    settle = float(os.environ.get("SETTLE_SECS", "5"))
    mib = 1 << 20
    results = {label: [] for label, _, _ in variants}
    print(
        "variant run | start s | idle: heap in use, VmRSS, heap free MiB | reload s"
        " | after the reload: heap in use, VmRSS, heap free MiB"
    )
    for run in range(runs):
        for label, binary, extra in variants:
            s, (h, r, f), rl, (h2, r2, f2) = one(label, binary, extra, run, settle)
            results[label].append((s, h, r, f, rl, h2, r2, f2))
            print(
                f"{label} {run + 1} | {s:.3f} | {h / mib:.2f}, {r / mib:.1f}, {f / mib:.1f} | {rl:.3f}"
                f" | {h2 / mib:.2f}, {r2 / mib:.1f}, {f2 / mib:.1f}",
                flush=True,
            )
    print("\nmedians:")
    for label, rows in results.items():
        cols = list(zip(*rows))
        med = [statistics.median(c) for c in cols]
        print(
            f"{label} | start {med[0]:.3f} s | idle: {med[1] / mib:.2f}, {med[2] / mib:.1f}, {med[3] / mib:.1f} MiB"
            f" | reload {med[4]:.3f} s | after: {med[5] / mib:.2f}, {med[6] / mib:.1f}, {med[7] / mib:.1f} MiB"
        )


if __name__ == "__main__":
    main()
