//! Delta tables read back by the `deltalake` Python package (delta-rs
//! through pyarrow), an implementation of the Delta protocol apart from
//! railyard's: what the tests use to check a table railyard wrote.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Runs `script` with the table's path as its one argument and returns its
/// standard output, failing the test with the script's standard error if
/// it fails. Every script ends with a flush and `os._exit(0)`: pyarrow's
/// and delta-rs's worker threads can abort the interpreter's teardown
/// after a clean read (apache/arrow#34314, delta-io/delta-rs#2184).
pub fn run(py: &Path, script: &str, table: &Path) -> String {
    let script = format!(
        "import json,glob,os,sys\nfrom deltalake import DeltaTable\n{script}\nsys.stdout.flush()\nos._exit(0)"
    );
    let out = Command::new(py)
        .args(["-c", &script, table.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reading {} with deltalake: {}",
        table.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The table's rows, one JSON object each (values JSON has no type for,
/// such as timestamps, as their `str`).
pub fn delta_rows(py: &Path, table: &Path) -> Vec<Value> {
    run(
        py,
        "for r in DeltaTable(sys.argv[1]).to_pyarrow_table().to_pylist():\n    print(json.dumps(r, default=str))",
        table,
    )
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

/// The data files the table's log lists as live, and the Parquet files in
/// its folder (more after a compaction, until a vacuum).
pub fn delta_file_counts(py: &Path, table: &Path) -> (usize, usize) {
    let text = run(
        py,
        "print(len(DeltaTable(sys.argv[1]).file_uris()), len(glob.glob(sys.argv[1] + '/**/*.parquet', recursive=True)))",
        table,
    );
    let mut it = text.split_whitespace().map(|n| n.parse::<usize>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}
