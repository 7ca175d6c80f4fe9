//! An `inferences` table written before the added columns (`api`,
//! `previous_response_id`, `trace_id`, …) existed still opens: the columns
//! are added in place, older rows read them as null, and new rows record
//! them.

use railyard::audit::{self, InferenceRow, TableKind, table};
use railyard::cli::log::read_inferences;

fn row(id: &str, api: Option<&str>) -> InferenceRow {
    let provenance = api.map(|_| audit::Provenance {
        upstream: Some("primary".into()),
        end_user: Some("alice".into()),
        attributes: [("team".to_string(), "payments".to_string())].into(),
        ..Default::default()
    });
    InferenceRow {
        provenance: provenance.unwrap_or_default(),
        request_id: id.into(),
        timestamp_us: 1_763_800_000_000_000,
        host_id: "h".into(),
        policy_name: "p".into(),
        policy_digest: "sha256:00".into(),
        route: "m".into(),
        caller: "c".into(),
        stage: "response".into(),
        capture: "none".into(),
        payload_hash: "ab".into(),
        action: "allow".into(),
        status_code: Some(200),
        decision_count: 1,
        api: api.map(str::to_string),
        trace_id: api.map(|_| "4bf92f3577b34da6a3ce929d0e0e4736".to_string()),
        ..InferenceRow::default()
    }
}

#[test]
fn an_inferences_table_without_the_api_column_gains_it_and_keeps_its_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let root = audit::root_url(&tmp.path().display().to_string()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // The table as an older railyard created it: none of the added
        // columns.
        let added = TableKind::Inferences.added_columns();
        old_table(&root).await;

        // Opened by this version: the column is added, rows go in with it.
        let mut t = table::open_or_create(&root, TableKind::Inferences, &Default::default())
            .await
            .unwrap();
        let names: Vec<String> = t
            .snapshot()
            .unwrap()
            .schema()
            .fields()
            .map(|f| f.name().to_string())
            .collect();
        assert_eq!(names[names.len() - added.len()..], *added, "{names:?}");
        let mut new = row("new", Some("anthropic"));
        new.scanned_fields = Some(vec!["messages[0].content".into()]);
        let batch = audit::schema::inferences_batch(&[new]).unwrap();
        table::commit_segment(&mut t, "new-host", 1, batch, None)
            .await
            .unwrap();
        // Opening it again changes nothing.
        table::open_or_create(&root, TableKind::Inferences, &Default::default())
            .await
            .unwrap();
    });
    let mut rows = rt
        .block_on(read_inferences(&root, &Default::default()))
        .unwrap();
    rows.sort_by(|a, b| a.request_id.cmp(&b.request_id));
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.request_id.as_str(),
                r.api.as_deref(),
                r.scanned_fields.as_deref(),
            )
        })
        .collect();
    let scanned = ["messages[0].content".to_string()];
    assert_eq!(
        got,
        [
            ("new", Some("anthropic"), Some(&scanned[..])),
            ("old", None, None)
        ]
    );
    assert_eq!(
        (rows[0].trace_id.as_deref(), rows[1].trace_id.as_deref()),
        (Some("4bf92f3577b34da6a3ce929d0e0e4736"), None)
    );
    // Provenance: the new row keeps it whole, the old one reads it empty.
    assert_eq!(rows[0].provenance, row("new", Some("anthropic")).provenance);
    assert_eq!(rows[1].provenance, audit::Provenance::default());
}

/// The `inferences` table as an older railyard created it (none of the
/// added columns), with one row committed.
async fn old_table(root: &url::Url) -> deltalake::DeltaTable {
    let batch = audit::schema::inferences_batch(&[row("old", None)]).unwrap();
    let (old, first_added) =
        crate::common::old_table::old_table(root, TableKind::Inferences, batch).await;
    assert_eq!(first_added, "api");
    old
}

/// Adding the columns is a commit railyard makes outside the committer;
/// like every railyard commit it removes no expired log entry (delta-rs
/// does on every commit unless told not to, when the table has a
/// checkpoint and entries older than `delta.logRetentionDuration`): log
/// cleanup is `railyard log checkpoint`'s alone, and never on write-once
/// storage.
#[test]
fn adding_columns_removes_no_expired_log_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let root = audit::root_url(&tmp.path().display().to_string()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut old = old_table(&root).await;
        old.update_state().await.unwrap();
        assert_eq!(old.version(), Some(1));
        deltalake::checkpoints::create_checkpoint(&old, None)
            .await
            .unwrap();
        // Both commits up to the checkpoint (version 1) 60 days old: past
        // the 30-day default log retention, so version 0 is expired.
        let log = tmp.path().join("inferences/_delta_log");
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(60 * 86_400);
        for v in 0..2 {
            let f = std::fs::File::options()
                .write(true)
                .open(log.join(format!("{v:020}.json")))
                .unwrap();
            f.set_modified(long_ago).unwrap();
        }
        table::open_or_create(&root, TableKind::Inferences, &Default::default())
            .await
            .unwrap();
        let json = |v: u64| log.join(format!("{v:020}.json")).exists();
        assert!(json(2), "the columns were added (version 2)");
        assert!(
            json(0),
            "an expired log entry removed by the add-columns commit"
        );
    });
}
