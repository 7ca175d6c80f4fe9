#!/usr/bin/env python3
"""Merge the trapping WASI stub modules of a componentize-py component into one.

    python3 merge_wasi_stubs.py IN.wasm OUT.wasm

Why: `componentize-py componentize --stub-wasi` replaces every WASI import
with a tiny module whose functions trap, one module *instance* per WASI
interface (about 25). The component then has about 38 core instances, and
a host with a pooling allocator sized for a handful per component (the
railyard conformance harness allows 32 at once) cannot instantiate it.

What it does: it finds the core modules that import nothing and whose every
function is just `unreachable`, builds one module that exports all their
functions (as `<module index>:<name>`), instantiates that once in place of
the first of them, turns the other instantiations into empty instances (so
no index moves), and points every alias of their exports at the merged
instance. Behaviour is unchanged: every one of those functions still traps.

Only the component's top level is rewritten; module bytes other than the
stubs are copied as they are. Standard library only.
"""

import sys

# Component section ids (component model binary format).
SEC_CORE_MODULE = 1
SEC_CORE_INSTANCE = 2
SEC_ALIAS = 6
CORE_SORT_MODULE = 0x11
CORE_SORT_INSTANCE = 0x12


def read_u32(buf, pos):
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def u32(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_name(buf, pos):
    n, pos = read_u32(buf, pos)
    return bytes(buf[pos : pos + n]), pos + n


def name(raw):
    return u32(len(raw)) + raw


def vec(items):
    return u32(len(items)) + b"".join(items)


def sections(buf, pos=8):
    """(id, payload) of each section after the 8-byte preamble."""
    while pos < len(buf):
        sid = buf[pos]
        size, pos = read_u32(buf, pos + 1)
        yield sid, buf[pos : pos + size]
        pos += size


def section(sid, payload):
    return bytes([sid]) + u32(len(payload)) + payload


# --- core modules -------------------------------------------------------

# A trapping function body: no locals, `unreachable`, `end`.
TRAP_BODY = b"\x00\x00\x0b"
# Core module sections a stub may have: custom, type, function, export, code.
STUB_SECTIONS = {0, 1, 3, 7, 10}


def stub_module(module):
    """(types, func type indices, exports) if `module` is an all-trap stub, else None."""
    if module[:8] != b"\x00asm\x01\x00\x00\x00":
        return None
    types, funcs, exports, bodies = [], [], [], []
    for sid, payload in sections(module):
        if sid not in STUB_SECTIONS:
            return None
        if sid == 1:
            count, pos = read_u32(payload, 0)
            for _ in range(count):
                start = pos
                if payload[pos] != 0x60:  # only plain function types
                    return None
                params, pos = read_u32(payload, pos + 1)
                pos += params
                results, pos = read_u32(payload, pos)
                pos += results
                types.append(bytes(payload[start:pos]))
        elif sid == 3:
            count, pos = read_u32(payload, 0)
            for _ in range(count):
                t, pos = read_u32(payload, pos)
                funcs.append(t)
        elif sid == 7:
            count, pos = read_u32(payload, 0)
            for _ in range(count):
                field, pos = read_name(payload, pos)
                kind = payload[pos]
                index, pos = read_u32(payload, pos + 1)
                if kind != 0:  # functions only
                    return None
                exports.append((field, index))
        elif sid == 10:
            count, pos = read_u32(payload, 0)
            for _ in range(count):
                size, pos = read_u32(payload, pos)
                bodies.append(bytes(payload[pos : pos + size]))
                pos += size
    if not funcs or len(bodies) != len(funcs) or any(b != TRAP_BODY for b in bodies):
        return None
    return types, funcs, exports


def merged_module(stubs):
    """One module exporting every stub's functions as `<module index>:<name>`."""
    types, funcs, exports, codes = [], [], [], []
    for module_index, (s_types, s_funcs, s_exports) in stubs.items():
        type_base, func_base = len(types), len(funcs)
        types.extend(s_types)
        funcs.extend(type_base + t for t in s_funcs)
        codes.extend(u32(len(TRAP_BODY)) + TRAP_BODY for _ in s_funcs)
        for field, index in s_exports:
            exports.append(
                name(f"{module_index}:".encode() + field) + b"\x00" + u32(func_base + index)
            )
    return (
        b"\x00asm\x01\x00\x00\x00"
        + section(1, vec(types))
        + section(3, vec([u32(t) for t in funcs]))
        + section(7, vec(exports))
        + section(10, vec(codes))
    )


# --- the component's top level ------------------------------------------


def parse_core_instances(payload):
    count, pos = read_u32(payload, 0)
    entries = []
    for _ in range(count):
        tag = payload[pos]
        pos += 1
        if tag == 0x00:
            module, pos = read_u32(payload, pos)
            n, pos = read_u32(payload, pos)
            args = []
            for _ in range(n):
                field, pos = read_name(payload, pos)
                assert payload[pos] == CORE_SORT_INSTANCE
                inst, pos = read_u32(payload, pos + 1)
                args.append((field, inst))
            entries.append(("instantiate", module, args))
        elif tag == 0x01:
            n, pos = read_u32(payload, pos)
            exports = []
            for _ in range(n):
                field, pos = read_name(payload, pos)
                sort = payload[pos]
                index, pos = read_u32(payload, pos + 1)
                exports.append((field, sort, index))
            entries.append(("exports", exports))
        else:
            raise ValueError(f"unknown core instance form 0x{tag:02x}")
    return entries


def encode_core_instances(entries):
    out = []
    for entry in entries:
        if entry[0] == "instantiate":
            _, module, args = entry
            out.append(
                b"\x00"
                + u32(module)
                + vec([name(f) + bytes([CORE_SORT_INSTANCE]) + u32(i) for f, i in args])
            )
        else:
            out.append(b"\x01" + vec([name(f) + bytes([s]) + u32(i) for f, s, i in entry[1]]))
    return vec(out)


def parse_aliases(payload):
    count, pos = read_u32(payload, 0)
    entries = []
    for _ in range(count):
        sort = payload[pos : pos + (2 if payload[pos] == 0x00 else 1)]
        pos += len(sort)
        target = payload[pos]
        pos += 1
        if target in (0x00, 0x01):
            inst, pos = read_u32(payload, pos)
            field, pos = read_name(payload, pos)
            entries.append((bytes(sort), target, inst, field))
        elif target == 0x02:
            count_, pos = read_u32(payload, pos)
            index, pos = read_u32(payload, pos)
            entries.append((bytes(sort), target, count_, index))
        else:
            raise ValueError(f"unknown alias target 0x{target:02x}")
    return entries


def encode_aliases(entries):
    out = []
    for sort, target, a, b in entries:
        if target == 0x02:
            out.append(sort + bytes([target]) + u32(a) + u32(b))
        else:
            out.append(sort + bytes([target]) + u32(a) + name(b))
    return vec(out)


def merge(component):
    if component[:4] != b"\x00asm" or component[4:8] != b"\x0d\x00\x01\x00":
        raise ValueError("not a WebAssembly component")
    parsed = list(sections(component))

    # Pass 1: which modules are stubs, and which instances instantiate them.
    stubs, module_count, instance_of = {}, 0, {}
    instance_count = 0
    for sid, payload in parsed:
        if sid == SEC_CORE_MODULE:
            found = stub_module(payload)
            if found:
                stubs[module_count] = found
            module_count += 1
        elif sid == SEC_CORE_INSTANCE:
            for entry in parse_core_instances(payload):
                if entry[0] == "instantiate" and entry[1] in stubs and not entry[2]:
                    instance_of[instance_count] = entry[1]
                instance_count += 1
        elif sid == SEC_ALIAS:
            for sort, *_ in parse_aliases(payload):
                if sort == bytes([0, CORE_SORT_MODULE]):
                    module_count += 1
                elif sort == bytes([0, CORE_SORT_INSTANCE]):
                    instance_count += 1
    if len(instance_of) < 2:
        return component, 0
    # Only stubs that are instantiated are merged.
    used = {m: stubs[m] for m in sorted(set(instance_of.values()))}
    if len(used) != len(instance_of):
        raise ValueError("a stub module is instantiated more than once")
    keeper = min(instance_of)  # the instance that becomes the merged one
    keeper_module = instance_of[keeper]

    # Pass 2: rewrite.
    out = [component[:8]]
    module_index = instance_index = 0
    for sid, payload in parsed:
        if sid == SEC_CORE_MODULE:
            if module_index == keeper_module:
                payload = merged_module(used)
            module_index += 1
        elif sid == SEC_CORE_INSTANCE:
            entries = parse_core_instances(payload)
            for i, entry in enumerate(entries):
                if entry[0] == "instantiate":
                    for _, inst in entry[2]:
                        if inst in instance_of:
                            raise ValueError(f"core instance {inst} (a stub) is passed whole")
                if instance_index in instance_of and instance_index != keeper:
                    entries[i] = ("exports", [])
                instance_index += 1
            payload = encode_core_instances(entries)
        elif sid == SEC_ALIAS:
            entries = parse_aliases(payload)
            for i, (sort, target, a, b) in enumerate(entries):
                if target == 0x01 and a in instance_of:
                    entries[i] = (sort, target, keeper, f"{instance_of[a]}:".encode() + b)
                if sort == bytes([0, CORE_SORT_INSTANCE]):
                    instance_index += 1
                elif sort == bytes([0, CORE_SORT_MODULE]):
                    module_index += 1
            payload = encode_aliases(entries)
        out.append(section(sid, bytes(payload)))
    return b"".join(out), len(instance_of)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: python3 merge_wasi_stubs.py IN.wasm OUT.wasm")
    source, target = sys.argv[1:]
    with open(source, "rb") as f:
        component = f.read()
    try:
        merged, count = merge(component)
    except (ValueError, IndexError, AssertionError) as e:
        sys.exit(f"merge_wasi_stubs.py: {source}: cannot rewrite this component: {e}")
    with open(target, "wb") as f:
        f.write(merged)
    if count:
        print(f"merged {count} WASI stub instances into one")
    else:
        print("no WASI stub instances to merge; copied as it is")


if __name__ == "__main__":
    main()
