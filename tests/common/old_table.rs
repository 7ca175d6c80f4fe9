//! An audit table as an older railyard created it: none of the columns
//! added since (`TableKind::added_columns`), for the upgrade tests.

use deltalake::arrow::array::RecordBatch;
use railyard::audit::{TableKind, table};

/// Creates `kind`'s table under `root` without the added columns and
/// commits `batch` (a batch of this version's schema) cut to the old
/// columns. The added columns are the batch's last ones: returns the name
/// of the first of them, for the caller to check it is the one it means.
pub async fn old_table(
    root: &url::Url,
    kind: TableKind,
    batch: RecordBatch,
) -> (deltalake::DeltaTable, String) {
    let added = kind.added_columns();
    let url = table::table_url(root, kind);
    std::fs::create_dir_all(url.to_file_path().unwrap()).unwrap();
    let old_fields: Vec<_> = kind
        .delta_schema()
        .fields()
        .filter(|f| !added.contains(&f.name().as_str()))
        .cloned()
        .collect();
    let mut old = deltalake::DeltaTableBuilder::from_url(url.clone())
        .unwrap()
        .build()
        .unwrap()
        .create()
        .with_table_name(kind.name())
        .with_columns(old_fields)
        .with_partition_columns(["date"])
        .await
        .unwrap();
    let first_added = batch.num_columns() - added.len();
    let first_name = batch.schema().field(first_added).name().clone();
    let keep: Vec<usize> = (0..first_added).collect();
    table::commit_segment(&mut old, "old-host", 1, batch.project(&keep).unwrap(), None)
        .await
        .unwrap();
    (old, first_name)
}
