//! Write-once storage: tables on an S3 bucket under Object Lock (moto's
//! S3 server on 127.0.0.1, which implements Object Lock: a locked version
//! cannot be deleted, a DELETE without a version id adds a delete marker).
//!
//! Every path that can delete an object is exercised with `worm = true`
//! (no DELETE is sent: no delete marker appears, the objects stay, and
//! what was left is an `events` row of kind `worm_kept`) and, where a
//! contrast shows the test can fail, without it (delete markers appear):
//! the vacuum of a maintenance round, a compaction that loses its commit,
//! a deletion (erase, retention) that loses its commit, `railyard log
//! vacuum` and `railyard log checkpoint`, and an erasure.

use crate::common;

use std::collections::HashMap;
use std::process::{Command, Output};

use common::python;
use railyard::audit::maintenance::{commit_compaction, plan_compaction, write_compaction};
use railyard::audit::rewrite::{self, Deletion};
use railyard::audit::worm::Storage;
use railyard::audit::{self, MaintenanceSettings, TableKind, retention::Lifecycle, table};
use serde_json::Value;
use url::Url;

/// An Object Lock bucket on a moto server, and the environment that points
/// railyard at `s3://<bucket>/railyard`. Each test names its own bucket:
/// tests share one process, and a process keeps each table URL's chain
/// heads, so two tests on one URL would extend each other's chains.
struct Bucket {
    bucket: &'static str,
    py: std::path::PathBuf,
    server: crate::audit_external::Moto,
    envs: Vec<(&'static str, String)>,
    _tmp: tempfile::TempDir,
}

impl Bucket {
    fn new(bucket: &'static str) -> Option<Bucket> {
        let py = python()?;
        let server = crate::audit_external::moto(&py);
        let tmp = tempfile::tempdir().unwrap();
        let envs = vec![
            (
                "RAILYARD_CACHE_DIR",
                common::cache_dir().display().to_string(),
            ),
            (
                "RAILYARD_STATE_DIR",
                tmp.path().join("state").display().to_string(),
            ),
            ("RAILYARD_AUDIT_URL", format!("s3://{bucket}/railyard")),
            ("AWS_ENDPOINT_URL", server.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ];
        let b = Bucket {
            bucket,
            py,
            server,
            envs,
            _tmp: tmp,
        };
        b.boto("c.create_bucket(Bucket=B, ObjectLockEnabledForBucket=True)");
        Some(b)
    }

    /// Runs Python with `c` (a boto3 client on the server) and `B` (the
    /// bucket) defined; returns its stdout.
    fn boto(&self, code: &str) -> String {
        let o = Command::new(&self.py)
            .args([
                "-c",
                &format!(
                    "import boto3,sys,json,datetime\n\
                     c = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n\
                     B = sys.argv[2]\n{code}"
                ),
                &self.server.endpoint,
                self.bucket,
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    }

    /// Every object version written so far locked (COMPLIANCE, one day),
    /// as a bucket default retention would have. (moto refuses
    /// object_store's PUTs into a bucket with a default retention rule: it
    /// wants the SDK's `x-amz-sdk-checksum-algorithm` header; see
    /// docs/audit-schema.md.)
    fn lock_all(&self) {
        self.boto(
            "until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)\n\
             for v in c.list_object_versions(Bucket=B).get('Versions', []):\n\
             \x20   c.put_object_retention(Bucket=B, Key=v['Key'], VersionId=v['VersionId'], Retention={'Mode': 'COMPLIANCE', 'RetainUntilDate': until})",
        );
    }

    /// (object versions, delete markers) under `railyard/`.
    fn versions(&self) -> (u64, u64) {
        let v: Value = serde_json::from_str(&self.boto(
            "v = c.list_object_versions(Bucket=B, Prefix='railyard/')\n\
             print(json.dumps([len(v.get('Versions', [])), len(v.get('DeleteMarkers', []))]))",
        ))
        .unwrap();
        (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
    }

    /// Whether `key` is listed as a live object (no delete marker over it).
    fn listed(&self, key: &str) -> bool {
        let v: Value = serde_json::from_str(&self.boto(&format!(
            "r = c.list_objects_v2(Bucket=B, Prefix={key:?})\n\
             print(json.dumps([o['Key'] for o in r.get('Contents', [])]))"
        )))
        .unwrap();
        v.as_array().unwrap().iter().any(|k| k == key)
    }

    fn railyard(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_railyard"))
            .args(args)
            .envs(self.envs.iter().map(|(k, v)| (*k, v.as_str())))
            .envs(extra.iter().copied())
            .output()
            .unwrap()
    }

    fn run(&self, args: &[&str], extra: &[(&str, &str)]) -> String {
        let o = self.railyard(args, extra);
        assert!(
            o.status.success(),
            "railyard {args:?}: {}\n{}",
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&o.stdout)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn root(&self) -> Url {
        audit::root_url(&format!("s3://{}/railyard", self.bucket)).unwrap()
    }

    fn options(&self) -> HashMap<String, String> {
        self.envs[3..]
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn storage(&self, worm: bool) -> Storage {
        Storage::new(self.root(), self.options(), worm)
    }

    /// Rows of `table`, read back through the Delta log by the CLI.
    fn rows(&self, table: &str) -> Vec<Value> {
        self.run(&["log", "query", "--table", table, "--json"], &[])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `events` rows of `kind`, each with its `detail` parsed.
    fn events(&self, kind: &str) -> Vec<Value> {
        self.rows("events")
            .into_iter()
            .filter(|e| e["kind"] == kind)
            .map(|mut e| {
                let d: Value = serde_json::from_str(e["detail"].as_str().unwrap()).unwrap();
                e["detail"] = d;
                e
            })
            .collect()
    }

    /// Creates the (empty) `events` table, as a serving host does.
    fn create_events_table(&self, rt: &tokio::runtime::Runtime) {
        rt.block_on(table::open_or_create(
            &self.root(),
            TableKind::Events,
            &self.options(),
        ))
        .unwrap();
    }

    fn verify_ok(&self) {
        let o = self.railyard(&["log", "verify", "--json"], &[]);
        assert!(
            o.status.success(),
            "verify: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

fn settings(worm: bool) -> MaintenanceSettings {
    MaintenanceSettings {
        retention: std::time::Duration::ZERO,
        lifecycle: Lifecycle {
            worm,
            ..Lifecycle::default()
        },
        ..MaintenanceSettings::default()
    }
}

#[test]
fn maintenance_on_an_object_lock_bucket_deletes_nothing_with_worm() {
    let Some(b) = Bucket::new("worm-vacuum") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Three commits (three small files per table), then a compaction: the
    // small files leave the table and wait for a vacuum.
    for i in 0..3 {
        b.run(&["check", &format!("worm test {i}")], &[]);
    }
    b.run(&["log", "optimize"], &[]);
    b.create_events_table(&rt);
    b.lock_all();
    let (before, markers) = b.versions();
    assert_eq!(markers, 0);

    rt.block_on(audit::maintain_round_with_vacuum(
        &b.root(),
        &b.options(),
        &settings(true),
    ))
    .unwrap();
    let (after, markers) = b.versions();
    assert_eq!(markers, 0, "worm = true: no DELETE was sent");
    assert!(after >= before, "{after} < {before}");
    // What the vacuum would have deleted is recorded, per table.
    let kept = b.events("worm_kept");
    for t in ["decisions", "inferences"] {
        let e = kept
            .iter()
            .find(|e| e["detail"]["table"] == t)
            .unwrap_or_else(|| panic!("no worm_kept event for {t}: {kept:?}"));
        assert_eq!(e["detail"]["objects"], 3, "{e}");
        assert!(
            e["message"].as_str().unwrap().contains("not vacuuming"),
            "{e}"
        );
        for p in e["detail"]["paths"].as_array().unwrap() {
            let key = format!("railyard/{t}/{}", p.as_str().unwrap());
            assert!(b.listed(&key), "{key} is gone");
        }
    }
    b.verify_ok();

    // Without worm the vacuum "deletes" the replaced files: S3 answers a
    // version-less DELETE with a delete marker, the locked versions stay.
    rt.block_on(audit::maintain_round_with_vacuum(
        &b.root(),
        &b.options(),
        &settings(false),
    ))
    .unwrap();
    let (kept, markers) = b.versions();
    assert!(
        markers >= 6,
        "two tables' three replaced files each: {markers}"
    );
    assert!(kept >= after, "locked versions are never removed");
}

/// Two compactions of the same files race; the loser's file is never
/// committed. With worm it stays in storage and is recorded; without, it
/// is deleted (a delete marker on the locked bucket).
#[test]
fn a_compaction_that_loses_its_commit_leaves_its_file_with_worm() {
    let Some(b) = Bucket::new("worm-compaction") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    b.create_events_table(&rt);
    let race = |worm: bool| {
        rt.block_on(async {
            let (root, options) = (b.root(), b.options());
            let open = || table::open_existing(&root, TableKind::Decisions, &options);
            let mut a = open().await.unwrap().unwrap();
            let mut c = open().await.unwrap().unwrap();
            let plan_a = plan_compaction(&a, 128 << 20, 2).unwrap();
            let plan_c = plan_compaction(&c, 128 << 20, 2).unwrap();
            assert!(plan_a.files() >= 2);
            let kind = TableKind::Decisions;
            let files_a = write_compaction(&a, kind, plan_a, 128 << 20, |_, _| {})
                .await
                .unwrap();
            let files_c = write_compaction(&c, kind, plan_c, 128 << 20, |_, _| {})
                .await
                .unwrap();
            let storage = b.storage(worm);
            let won = commit_compaction(&mut a, files_a, &storage).await.unwrap();
            assert!(won.version.is_some(), "{won:?}");
            let lost = commit_compaction(&mut c, files_c, &storage).await.unwrap();
            assert!(lost.superseded && lost.version.is_none(), "{lost:?}");
        })
    };
    for i in 0..3 {
        b.run(&["check", &format!("worm race {i}")], &[]);
    }
    b.lock_all();
    race(true);
    assert_eq!(b.versions().1, 0, "worm = true: no DELETE was sent");
    let kept = b.events("worm_kept");
    assert_eq!(kept.len(), 1, "{kept:?}");
    let e = &kept[0];
    assert_eq!(e["detail"]["table"], "decisions");
    assert_eq!(e["detail"]["objects"], 1);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("compaction superseded"),
        "{e}"
    );
    let left = format!(
        "railyard/decisions/{}",
        e["detail"]["paths"][0].as_str().unwrap()
    );
    assert!(
        b.listed(&left),
        "the uncommitted file {left} is still there"
    );
    b.verify_ok();

    // The same race without worm: the loser deletes its file.
    for i in 3..6 {
        b.run(&["check", &format!("worm race {i}")], &[]);
    }
    b.lock_all();
    race(false);
    assert_eq!(b.versions().1, 1, "the loser's file deleted (a marker)");
    assert_eq!(b.events("worm_kept").len(), 1, "nothing more recorded");
}

/// A deletion (what erase and retention commit) whose planned file is
/// already gone commits nothing; the files written for it stay with worm
/// and are recorded, and the `delta.appendOnly` off/on pair around it
/// leaves the table verifiable.
#[test]
fn a_deletion_that_loses_its_commit_leaves_its_files_with_worm() {
    let Some(b) = Bucket::new("worm-deletion") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    b.run(&["check", "worm deletion"], &[]);
    b.create_events_table(&rt);
    // A file "written for the deletion" (as an erasure writes the rows it
    // keeps), in the table's folder, referenced by no version.
    let written = "date=2026-01-01/part-00000-rewritten.zstd.parquet";
    b.boto(&format!(
        "c.put_object(Bucket=B, Key='railyard/decisions/{written}', Body=b'PAR1 rows kept PAR1')"
    ));
    b.lock_all();
    let version = rt.block_on(async {
        let mut t = table::open_existing(&b.root(), TableKind::Decisions, &b.options())
            .await
            .unwrap()
            .unwrap();
        let snapshot = t.snapshot().unwrap();
        let live = snapshot.log_data().into_iter().next().unwrap();
        let mut gone = live.remove_action(true);
        gone.path = "date=2026-01-01/removed-by-another-writer.parquet".into();
        let deletion = Deletion {
            op: "erase",
            actions: vec![deltalake::kernel::Action::Remove(gone)],
            adds: Vec::new(),
            removes: Vec::new(),
            written: vec![deltalake::Path::from(written)],
            note: serde_json::json!({"test": "lost race"}),
        };
        rewrite::commit(&mut t, "worm-test", deletion, &b.storage(true))
            .await
            .unwrap()
    });
    assert_eq!(version, None, "the planned file was not live");
    assert_eq!(b.versions().1, 0, "worm = true: no DELETE was sent");
    assert!(b.listed(&format!("railyard/decisions/{written}")));
    let kept = b.events("worm_kept");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["detail"]["paths"][0], written);
    assert!(
        kept[0]["message"]
            .as_str()
            .unwrap()
            .contains("erase whose commit did not land"),
        "{}",
        kept[0]
    );
    b.verify_ok();
}

/// The `railyard log` commands that delete: with RAILYARD_AUDIT_WORM=true
/// `vacuum` refuses (its dry run lists), `checkpoint` writes a checkpoint
/// and keeps expired log entries, and `erase` rewrites the table without
/// deleting anything and records the erasure in `events`.
#[test]
fn log_commands_delete_nothing_with_worm() {
    let Some(b) = Bucket::new("worm-commands") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    for i in 0..3 {
        b.run(&["check", &format!("worm command {i}")], &[]);
    }
    b.run(&["log", "optimize"], &[]);
    b.create_events_table(&rt);
    b.lock_all();
    let worm = [("RAILYARD_AUDIT_WORM", "true")];

    let refused = b.railyard(&["log", "vacuum", "--retention-hours", "0"], &worm);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("write-once storage") && err.contains("--dry-run"),
        "{err}"
    );
    let listed = b.run(
        &["log", "vacuum", "--retention-hours", "0", "--dry-run"],
        &worm,
    );
    assert_eq!(
        listed
            .lines()
            .filter(|l| l.starts_with("would delete"))
            .count(),
        6,
        "{listed}"
    );
    let out = b.run(&["log", "checkpoint"], &worm);
    assert!(out.contains("expired log files kept"), "{out}");

    let request_id = b.rows("inferences")[0]["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let erased = b.run(
        &[
            "log",
            "erase",
            "--request-id",
            &request_id,
            "--by",
            "dpo",
            "--json",
        ],
        &worm,
    );
    let erased: Value = serde_json::from_str(&erased).unwrap();
    assert_eq!(erased["recorded_in_events"], true, "{erased}");
    assert_eq!(b.versions().1, 0, "no DELETE was sent: {erased}");
    assert!(
        b.rows("inferences")
            .iter()
            .all(|r| r["request_id"] != request_id.as_str())
    );
    let e = b.events("erasure");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["admin"], "dpo");
    assert_eq!(e[0]["detail"]["selector"], "request_id");
    assert!(
        !e[0].to_string().contains(&request_id),
        "the erasure record must not keep the erased id"
    );
    b.verify_ok();

    // Without worm the vacuum runs (and only adds delete markers here).
    b.run(&["log", "vacuum", "--retention-hours", "0"], &[]);
    assert!(b.versions().1 >= 6);
}
