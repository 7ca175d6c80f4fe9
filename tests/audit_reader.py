"""An independent reader of railyard's audit tables, for the tests.

Reads a Delta table without any railyard code, two ways:

- `replay`: pyarrow only, replaying `_delta_log` by hand as the Delta
  protocol describes (last checkpoint, then JSON commits; live files are
  adds not removed), then reading the live Parquet files;
- `duckdb`: DuckDB's delta extension, loaded from the `duckdb-ext-delta`
  wheel's folder (no network).

Usage: python audit_reader.py replay|duckdb TABLE_PATH [COLUMN]
Prints one JSON object: {"rows": N, "decision_ids": [...], "txn": {app: version}},
and with COLUMN, "values": {decision_id: that column's value} (null where a
file was written before the column existed).
"""

import json
import os
import sys


def replay(table, column=None):
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
    values = {}
    for path in files:
        t = pq.read_table(os.path.join(table, unquote(path)))
        if "decision_id" in t.column_names:
            these = t.column("decision_id").to_pylist()
            ids.extend(these)
            if column:
                got = (
                    t.column(column).to_pylist()
                    if column in t.column_names
                    else [None] * t.num_rows
                )
                values.update(zip(these, got))
        else:
            ids.extend([None] * t.num_rows)
    out = {"rows": len(ids), "decision_ids": ids, "txn": txn}
    if column:
        out["values"] = values
    return out


def duckdb_scan(table, column=None):
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
    extra = f', "{column}"' if column else ""
    rows = con.execute(
        f"SELECT decision_id, date{extra} FROM delta_scan(?)", [table]
    ).fetchall()
    out = {"rows": len(rows), "decision_ids": [r[0] for r in rows], "txn": {}}
    if column:
        out["values"] = {r[0]: r[2] for r in rows}
    return out


if __name__ == "__main__":
    mode, table = sys.argv[1], sys.argv[2]
    column = sys.argv[3] if len(sys.argv) > 3 else None
    out = replay(table, column) if mode == "replay" else duckdb_scan(table, column)
    print(json.dumps(out))
