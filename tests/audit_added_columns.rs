//! An `inferences` table written before the `api`, `previous_response_id`,
//! `scanned_fields` and provenance columns existed still opens: the columns
//! are added in place, older rows read them as null, and new rows record them.

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
        let url = table::table_url(&root, TableKind::Inferences);
        std::fs::create_dir_all(url.to_file_path().unwrap()).unwrap();
        let old_fields: Vec<_> = TableKind::Inferences
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
            .with_table_name("inferences")
            .with_columns(old_fields)
            .with_partition_columns(["date"])
            .await
            .unwrap();
        let batch = audit::schema::inferences_batch(&[row("old", None)]).unwrap();
        let keep: Vec<usize> = (0..batch.num_columns() - added.len()).collect();
        assert_eq!(
            batch
                .schema()
                .field(batch.num_columns() - added.len())
                .name(),
            "api"
        );
        let old_batch = batch.project(&keep).unwrap();
        table::commit_segment(&mut old, "old-host", 1, old_batch, None)
            .await
            .unwrap();

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
    // Provenance: the new row keeps it whole, the old one reads it empty.
    assert_eq!(rows[0].provenance, row("new", Some("anthropic")).provenance);
    assert_eq!(rows[1].provenance, audit::Provenance::default());
}
