#!/usr/bin/env python3
"""Replay logged railyard traffic through a candidate policy on Spark.

The distributed form of `railyard replay` (docs/replay.md says why it is
built this way):

1. Snapshot: the active data files of `inferences` and `decisions` are
   taken from each table's Delta log (the `deltalake` package reads the
   log and its checkpoints), never from a directory listing, which would
   also see files that compaction or erasure removed.
2. Spark reads those Parquet files, keeps the calls of the period, and
   joins each call with its decisions (one JSON line per call).
3. Each partition is piped through `railyard replay --stdin` (one process
   per partition, one thread each: Spark already runs a task per core),
   which evaluates the candidate's plugins exactly as `railyard replay`
   does on one machine and answers one JSON line per call.
4. The changed decisions are written as Parquet by the executors straight
   into the output table's folder and committed to its Delta log by the
   driver in one transaction (the same columns `railyard replay
   --out-table` writes, so both can append to one table).

Usage:
  spark_replay.py --audit DIR --policy candidate.toml --out-table DIR
                  [--since RFC3339] [--until RFC3339] [--plugin NAME=PATH]
                  [--railyard PATH] [--master local[*]] [--partitions N]
                  [--unreplayable-table DIR]

Prints one JSON summary object on stdout. Exit 0 when done, 2 on an error.
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import time
import tomllib
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.transaction import AddAction

# The columns `railyard replay --out-table` writes (host/src/replay/out_table.rs).
TEXT_COLUMNS = [
    "request_id", "host_id", "route", "caller", "stage", "plugin",
    "live_action", "candidate_action", "live_outcome", "candidate_outcome",
    "live_reason", "candidate_reason", "live_plugin_digest",
    "candidate_plugin_digest", "live_policy_digest",
]
CHANGES_SCHEMA = pa.schema(
    [pa.field("replay_id", pa.string(), False),
     pa.field("replayed_at", pa.timestamp("us", tz="UTC"), False),
     pa.field("candidate_policy", pa.string(), False),
     pa.field("candidate_policy_digest", pa.string(), False),
     pa.field("call_timestamp", pa.timestamp("us", tz="UTC"), False)]
    + [pa.field(c, pa.string(), False) for c in TEXT_COLUMNS]
    + [pa.field("candidate_categories",
                pa.list_(pa.field("element", pa.string(), False)), False)]
)
UNREPLAYABLE_SCHEMA = pa.schema([
    pa.field("replay_id", pa.string(), False),
    pa.field("request_id", pa.string(), False),
    pa.field("host_id", pa.string(), False),
    pa.field("call_timestamp", pa.timestamp("us", tz="UTC"), False),
    pa.field("reasons", pa.list_(pa.field("element", pa.string(), False)), False),
])


def fail(message):
    print(f"spark_replay: error: {message}", file=sys.stderr)
    sys.exit(2)


def parse_time(s):
    try:
        t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        fail(f"time {s!r}: expected RFC 3339, e.g. 2026-11-22T10:00:00Z")
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t


def active_files(table_uri, since, until, day_before=False):
    """The table snapshot's active files of the days the period touches."""
    try:
        table = DeltaTable(table_uri)
    except Exception as e:  # noqa: BLE001 - any reason is reported the same way
        fail(f"{table_uri}: not a Delta table ({e})")
    filters = []
    if since is not None:
        first = since.date() - dt.timedelta(days=1 if day_before else 0)
        filters.append(("date", ">=", first.isoformat()))
    if until is not None:
        filters.append(("date", "<=", until.date().isoformat()))
    return table.version(), table.file_uris(filters or None)


def candidate_policy(path):
    """The candidate's name and digest, as railyard records them."""
    data = open(path, "rb").read()
    name = tomllib.loads(data.decode()).get("name") or os.path.splitext(os.path.basename(path))[0]
    return name, "sha256:" + hashlib.sha256(data).hexdigest()


def commit_files(spark, folder, table_uri, schema):
    """Commits the Parquet files Spark wrote under `table_uri/folder` to
    the table's Delta log in one transaction (creating the table first
    when there is none). Returns the files committed."""
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(os.path.join(table_uri, folder))
    fs = path.getFileSystem(conf)
    adds = []
    for status in fs.listStatus(path):
        name = status.getPath().getName()
        if not name.endswith(".parquet"):
            continue
        rows = pq.read_metadata(os.path.join(table_uri, folder, name)).num_rows
        adds.append(AddAction(
            path=f"{folder}/{name}",
            size=status.getLen(),
            partition_values={},
            modification_time=status.getModificationTime(),
            data_change=True,
            stats=json.dumps({"numRecords": rows}),
        ))
    # Spark's own markers are not table files.
    for marker in ("_SUCCESS",):
        p = jvm.org.apache.hadoop.fs.Path(os.path.join(table_uri, folder, marker))
        if fs.exists(p):
            fs.delete(p, False)
    try:
        table = DeltaTable(table_uri)
    except Exception:  # noqa: BLE001 - no table yet
        table = DeltaTable.create(table_uri, schema, mode="ignore", name="replay_changes")
    if adds:
        table.create_write_transaction(adds, mode="append", schema=table.schema())
    return len(adds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--audit", required=True, help="audit table root (folder)")
    ap.add_argument("--policy", required=True, help="candidate policy (TOML)")
    ap.add_argument("--plugin", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--since")
    ap.add_argument("--until")
    ap.add_argument("--out-table", required=True, help="Delta table of changed decisions")
    ap.add_argument("--unreplayable-table", help="Delta table of calls not replayable")
    ap.add_argument("--railyard", default=shutil.which("railyard") or "railyard",
                    help="the railyard binary, on every executor")
    ap.add_argument("--master", default=None, help="Spark master (default: spark-submit's)")
    ap.add_argument("--partitions", type=int, default=0,
                    help="replay partitions (default: Spark's default parallelism)")
    args = ap.parse_args()

    since = parse_time(args.since) if args.since else None
    until = parse_time(args.until) if args.until else None
    audit = os.path.abspath(args.audit) if "://" not in args.audit else args.audit
    inf_version, inf_files = active_files(f"{audit}/inferences", since, until)
    dec_version, dec_files = active_files(f"{audit}/decisions", since, until, day_before=True)
    policy_name, policy_digest = candidate_policy(args.policy)
    replay_id = str(uuid.uuid4())

    from pyspark.sql import SparkSession, functions as F, types as T

    builder = SparkSession.builder.appName(f"railyard-replay-{replay_id}")
    if args.master:
        builder = builder.master(args.master)
    spark = (builder
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             # Delta readers expect microsecond timestamps, not INT96.
             .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    started = time.monotonic()

    def read(files, columns):
        if not files:
            return None
        return spark.read.parquet(*files).select(*columns)

    calls = read(inf_files, [
        "request_id", "timestamp", "host_id", "policy_name", "policy_digest", "route",
        "caller", "stage", "capture", "request", "response", "decision_count"])
    if calls is None:
        fail(f"{audit}/inferences has no data files in the period")
    if since is not None:
        calls = calls.where(F.col("timestamp") >= F.lit(since))
    if until is not None:
        calls = calls.where(F.col("timestamp") < F.lit(until))
    calls = calls.withColumn("timestamp_us", F.unix_micros("timestamp")).drop("timestamp")

    decisions = read(dec_files, [
        "request_id", "stage", "plugin", "plugin_kind", "plugin_digest", "action",
        "outcome", "reason", "findings"])
    if decisions is not None:
        grouped = (decisions
                   .join(calls.select("request_id"), "request_id", "left_semi")
                   .groupBy("request_id")
                   .agg(F.collect_list(F.struct("stage", "plugin", "plugin_kind", "plugin_digest",
                                                "action", "outcome", "reason", "findings"))
                        .alias("decisions")))
        calls = calls.join(grouped, "request_id", "left")
    lines = calls.select(F.to_json(F.struct(*calls.columns)).alias("line")).rdd.map(lambda r: r.line)
    if args.partitions:
        lines = lines.repartition(args.partitions)

    command = [args.railyard, "replay", "--stdin", "--threads", "1", "--policy",
               os.path.abspath(args.policy)]
    for p in args.plugin:
        command += ["--plugin", p]
    env = {k: v for k, v in os.environ.items()}
    # PySpark splits the command with shlex: quote each word.
    import shlex
    piped = lines.pipe(" ".join(shlex.quote(w) for w in command), env=env, checkCode=True)

    side = T.StructType([T.StructField(n, T.StringType()) for n in
                         ["action", "outcome", "reason", "plugin_digest"]]
                        + [T.StructField("categories", T.ArrayType(T.StringType()))])
    result_schema = T.StructType([
        T.StructField("request_id", T.StringType()),
        T.StructField("timestamp_us", T.LongType()),
        T.StructField("host_id", T.StringType()),
        T.StructField("route", T.StringType()),
        T.StructField("caller", T.StringType()),
        T.StructField("live_policy_digest", T.StringType()),
        T.StructField("not_replayable", T.ArrayType(T.StringType())),
        T.StructField("decisions", T.ArrayType(T.StructType([
            T.StructField("stage", T.StringType()),
            T.StructField("plugin", T.StringType()),
            T.StructField("live", side),
            T.StructField("candidate", side),
            T.StructField("changed", T.BooleanType()),
        ]))),
        T.StructField("live_action", T.StringType()),
        T.StructField("candidate_action", T.StringType()),
        T.StructField("error", T.StringType()),
    ])
    results = spark.read.schema(result_schema).json(piped).persist()
    errors = results.where(F.col("error").isNotNull()).limit(5).collect()
    if errors:
        fail("railyard replay --stdin refused lines: " + "; ".join(r.error for r in errors))

    replayed = results.where(F.size("not_replayable") == 0)
    pairs = replayed.select("*", F.explode("decisions").alias("d"))
    absent = F.lit("absent")
    pairs = (pairs
             .withColumn("live_act", F.coalesce(F.col("d.live.action"), absent))
             .withColumn("cand_act", F.coalesce(F.col("d.candidate.action"), absent)))
    replayed_at = dt.datetime.now(dt.timezone.utc)
    changes = pairs.where(F.col("d.changed")).select(
        F.lit(replay_id).alias("replay_id"),
        F.lit(replayed_at).alias("replayed_at"),
        F.lit(policy_name).alias("candidate_policy"),
        F.lit(policy_digest).alias("candidate_policy_digest"),
        F.timestamp_micros("timestamp_us").alias("call_timestamp"),
        "request_id", "host_id", "route", "caller",
        F.col("d.stage").alias("stage"),
        F.col("d.plugin").alias("plugin"),
        F.col("live_act").alias("live_action"),
        F.col("cand_act").alias("candidate_action"),
        F.coalesce(F.col("d.live.outcome"), F.lit("")).alias("live_outcome"),
        F.coalesce(F.col("d.candidate.outcome"), F.lit("")).alias("candidate_outcome"),
        F.coalesce(F.col("d.live.reason"), F.lit("")).alias("live_reason"),
        F.coalesce(F.col("d.candidate.reason"), F.lit("")).alias("candidate_reason"),
        F.coalesce(F.col("d.live.plugin_digest"), F.lit("")).alias("live_plugin_digest"),
        F.coalesce(F.col("d.candidate.plugin_digest"), F.lit("")).alias("candidate_plugin_digest"),
        "live_policy_digest",
        F.coalesce(F.col("d.candidate.categories"), F.array().cast("array<string>"))
        .alias("candidate_categories"),
    )
    out = args.out_table.rstrip("/")
    folder = f"replay-{replay_id}"
    changes.write.mode("errorifexists").parquet(f"{out}/{folder}")
    files = commit_files(spark, folder, out, CHANGES_SCHEMA)

    unreplayable = results.where(F.size("not_replayable") > 0)
    if args.unreplayable_table:
        u_out = args.unreplayable_table.rstrip("/")
        (unreplayable.select(
            F.lit(replay_id).alias("replay_id"), "request_id", "host_id",
            F.timestamp_micros("timestamp_us").alias("call_timestamp"),
            F.col("not_replayable").alias("reasons"))
         .write.mode("errorifexists").parquet(f"{u_out}/{folder}"))
        commit_files(spark, folder, u_out, UNREPLAYABLE_SCHEMA)

    matrices = {}
    for r in pairs.groupBy("d.stage", "d.plugin", "live_act", "cand_act").count().collect():
        matrices.setdefault(f"{r['stage']}/{r['plugin']}", []).append(
            {"live": r["live_act"], "candidate": r["cand_act"], "count": r["count"]})
    reasons = {}
    # Counted by reason without the plugin that caused it, as the
    # single-machine report does.
    kinds = unreplayable.select(F.array_distinct(F.transform(
        "not_replayable", lambda w: F.regexp_replace(w, r" \(`.*$", ""))).alias("kinds"))
    for r in kinds.select(F.explode("kinds").alias("why")).groupBy("why").count().collect():
        reasons[r["why"]] = r["count"]
    # Every count in one pass over the (cached) results.
    totals = results.agg(
        F.count(F.lit(1)).alias("calls"),
        F.sum(F.when(F.size("not_replayable") == 0, 1).otherwise(0)).alias("replayed"),
        F.sum(F.when((F.size("not_replayable") == 0)
                     & F.exists("decisions", lambda d: d["changed"]), 1).otherwise(0))
        .alias("changed_calls"),
        F.sum(F.when(F.size("not_replayable") == 0,
                     F.size(F.filter("decisions", lambda d: d["changed"]))).otherwise(0))
        .alias("decisions_changed"),
    ).collect()[0]
    calls_n = totals["calls"]
    replayed_n = totals["replayed"] or 0
    summary = {
        "replay_id": replay_id,
        "candidate_policy": policy_name,
        "candidate_policy_digest": policy_digest,
        "inferences_version": inf_version,
        "decisions_version": dec_version,
        "files_read": len(inf_files) + len(dec_files),
        "calls": calls_n,
        "replayed": replayed_n,
        "not_replayable": calls_n - replayed_n,
        "changed_calls": totals["changed_calls"] or 0,
        "decisions_changed": totals["decisions_changed"] or 0,
        "unreplayable_reasons": reasons,
        "matrices": matrices,
        "out_table": out,
        "files_committed": files,
        "elapsed_s": round(time.monotonic() - started, 3),
    }
    print(json.dumps(summary))
    spark.stop()


if __name__ == "__main__":
    main()
    # The deltalake and pyarrow worker threads can abort the interpreter's
    # teardown after a clean run ("terminate called without an active
    # exception", delta-io/delta-rs#2184); the summary is out and Spark is
    # stopped, so leave without the teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
