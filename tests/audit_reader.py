"""An independent reader of railyard's audit tables, for the tests.

Reads a Delta table without any railyard code, two ways:

- `replay`: pyarrow only, replaying `_delta_log` by hand as the Delta
  protocol describes (last checkpoint, then JSON commits; live files are
  adds not removed), then reading the live Parquet files;
- `duckdb`: DuckDB's delta extension, loaded from the `duckdb-ext-delta`
  wheel's folder (no network).

Usage: python audit_reader.py replay|duckdb TABLE_PATH [COLUMN,COLUMN...]
Prints one JSON object: {"rows": N, "decision_ids": [...], "txn": {app: version}},
and with columns named, "records": one object per row with those columns
(map columns as JSON objects) and, for a table with decision ids,
"values": {decision_id: the first column's value} (null where a file was
written before the column existed).
"""

import json
import os
import sys


def as_dict(v):
    """A map value as pyarrow (list of pairs) or DuckDB (dict, or
    {"key": [...], "value": [...]}) hands it back, as a plain dict."""
    if v is None:
        return None
    if isinstance(v, dict):
        if set(v.keys()) == {"key", "value"} and isinstance(v["key"], list):
            return dict(zip(v["key"], v["value"]))
        return v
    if isinstance(v, list):
        return dict(v)
    return v


def replay(table, columns=()):
    import pyarrow.parquet as pq

    log = os.path.join(table, "_delta_log")
    files = {}
    txn = {}
    start = -1
    last = os.path.join(log, "_last_checkpoint")
    if os.path.exists(last):
        with open(last) as f:
            start = json.load(f)["version"]
        cp = pq.read_table(os.path.join(log, f"{start:020}.checkpoint.parquet")).to_pylist()
        for action in cp:
            if action.get("add"):
                files[action["add"]["path"]] = action["add"]
            if action.get("txn"):
                txn[action["txn"]["appId"]] = action["txn"]["version"]
    versions = sorted(
        int(name[:20])
        for name in os.listdir(log)
        if name.endswith(".json") and name[:20].isdigit()
    )
    for v in versions:
        if v <= start:
            continue
        with open(os.path.join(log, f"{v:020}.json")) as f:
            for line in f:
                action = json.loads(line)
                if "add" in action:
                    files[action["add"]["path"]] = action["add"]
                elif "remove" in action:
                    files.pop(action["remove"]["path"], None)
                elif "txn" in action:
                    txn[action["txn"]["appId"]] = action["txn"]["version"]
    from urllib.parse import unquote

    ids = []
    records = []
    for path in files:
        t = pq.read_table(os.path.join(table, unquote(path)))
        if "decision_id" in t.column_names:
            ids.extend(t.column("decision_id").to_pylist())
        else:
            ids.extend([None] * t.num_rows)
        if columns:
            cols = {
                c: (t.column(c).to_pylist() if c in t.column_names else [None] * t.num_rows)
                for c in columns
            }
            for i in range(t.num_rows):
                records.append({c: cols[c][i] for c in columns})
    out = {"rows": len(ids), "decision_ids": ids, "txn": txn}
    if columns:
        out["records"] = [normalize(r) for r in records]
        if any(i is not None for i in ids):
            out["values"] = {i: r[columns[0]] for i, r in zip(ids, records)}
    return out


def normalize(record):
    return {k: (as_dict(v) if k == "attributes" else v) for k, v in record.items()}


def duckdb_scan(table, columns=()):
    import importlib.util

    import duckdb

    # The duckdb-ext-delta wheel ships the extension binary under the
    # `duckdb_ext` package: duckdb_ext/extensions/v<ver>/<platform>/.
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the duckdb-ext-delta wheel is not installed")
    ext_dir = list(spec.submodule_search_locations)[0]
    ext = [
        os.path.join(root, name)
        for root, _, names in os.walk(ext_dir)
        for name in names
        if name == "delta.duckdb_extension"
    ]
    if not ext:
        raise SystemExit(f"no .duckdb_extension file under {ext_dir}")
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{ext[0]}'")
    if columns:
        picked = ", ".join(f'"{c}"' for c in columns)
        try:
            rows = con.execute(
                f"SELECT decision_id, {picked} FROM delta_scan(?)", [table]
            ).fetchall()
            ids = [r[0] for r in rows]
            rows = [r[1:] for r in rows]
        except duckdb.Error:
            # A table without decision ids (inferences, events).
            rows = con.execute(f"SELECT {picked} FROM delta_scan(?)", [table]).fetchall()
            ids = []
        records = [normalize(dict(zip(columns, r))) for r in rows]
        out = {"rows": len(rows), "decision_ids": ids, "txn": {}, "records": records}
        if ids:
            out["values"] = {i: r[0] for i, r in zip(ids, rows)}
        return out
    rows = con.execute(
        "SELECT decision_id, date FROM delta_scan(?)", [table]
    ).fetchall()
    return {"rows": len(rows), "decision_ids": [r[0] for r in rows], "txn": {}}


if __name__ == "__main__":
    mode, table = sys.argv[1], sys.argv[2]
    columns = tuple(c for c in (sys.argv[3] if len(sys.argv) > 3 else "").split(",") if c)
    out = replay(table, columns) if mode == "replay" else duckdb_scan(table, columns)
    print(json.dumps(out))
    # pyarrow's and DuckDB's worker threads can abort the interpreter's
    # teardown ("terminate called without an active exception",
    # apache/arrow#34314); the answer is out, so skip the teardown.
    sys.stdout.flush()
    os._exit(0)
