//! Write-once storage: tables on an S3 bucket under Object Lock (moto's
//! S3 server on 127.0.0.1, which implements Object Lock: a locked version
//! cannot be deleted, a DELETE without a version id adds a delete marker).
//! With `worm = true` a maintenance round that would vacuum deletes
//! nothing; without it the same round issues deletes that only litter the
//! bucket with delete markers (the locked versions stay).

use crate::common;

use std::collections::HashMap;
use std::process::Command;

use common::python;
use railyard::audit::{self, MaintenanceSettings, retention::Lifecycle};
use serde_json::Value;

const BUCKET: &str = "worm-audit";

/// (object versions, delete markers) under `railyard/` in the bucket.
fn versions(py: &std::path::Path, endpoint: &str) -> (u64, u64) {
    let o = Command::new(py)
        .args([
            "-c",
            "import boto3,sys,json\n\
             c = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n\
             v = c.list_object_versions(Bucket=sys.argv[2], Prefix='railyard/')\n\
             print(json.dumps([len(v.get('Versions', [])), len(v.get('DeleteMarkers', []))]))",
            endpoint,
            BUCKET,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
}

#[test]
fn maintenance_on_an_object_lock_bucket_deletes_nothing_with_worm() {
    let Some(py) = python() else { return };
    let server = crate::audit_external::moto(&py);
    let create = Command::new(&py)
        .args([
            "-c",
            "import boto3,sys\n\
             c = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n\
             c.create_bucket(Bucket=sys.argv[2], ObjectLockEnabledForBucket=True)",
            &server.endpoint,
            BUCKET,
        ])
        .output()
        .unwrap();
    assert!(
        create.status.success(),
        "{}",
        String::from_utf8_lossy(&create.stderr)
    );
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("s3://{BUCKET}/railyard");
    let envs = [
        (
            "RAILYARD_CACHE_DIR",
            common::cache_dir().display().to_string(),
        ),
        (
            "RAILYARD_STATE_DIR",
            tmp.path().join("state").display().to_string(),
        ),
        ("RAILYARD_AUDIT_URL", url.clone()),
        ("AWS_ENDPOINT_URL", server.endpoint.clone()),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
    ];
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_railyard"))
            .args(args)
            .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    // Three commits (three small files per table), then a compaction: the
    // small files leave the table and wait for a vacuum.
    for i in 0..3 {
        run(&["check", &format!("worm test {i}")]);
    }
    run(&["log", "optimize"]);
    // Every object written so far locked (COMPLIANCE, one day), as a
    // bucket default retention would have. (moto refuses object_store's
    // PUTs into a bucket with a default retention rule: it wants the SDK's
    // `x-amz-sdk-checksum-algorithm` header; see docs/audit-schema.md.)
    let lock = Command::new(&py)
        .args([
            "-c",
            "import boto3,sys,datetime\n\
             c = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n\
             until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)\n\
             for v in c.list_object_versions(Bucket=sys.argv[2]).get('Versions', []):\n\
             \x20   c.put_object_retention(Bucket=sys.argv[2], Key=v['Key'], VersionId=v['VersionId'], Retention={'Mode': 'COMPLIANCE', 'RetainUntilDate': until})",
            &server.endpoint,
            BUCKET,
        ])
        .output()
        .unwrap();
    assert!(
        lock.status.success(),
        "{}",
        String::from_utf8_lossy(&lock.stderr)
    );
    let (before, markers) = versions(&py, &server.endpoint);
    assert_eq!(markers, 0);

    let root = audit::root_url(&url).unwrap();
    let options: HashMap<String, String> = envs[3..]
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let settings = |worm: bool| MaintenanceSettings {
        retention: std::time::Duration::ZERO,
        lifecycle: Lifecycle {
            worm,
            ..Lifecycle::default()
        },
        ..MaintenanceSettings::default()
    };
    rt.block_on(audit::maintain_round_with_vacuum(
        &root,
        &options,
        &settings(true),
    ))
    .unwrap();
    let (after, markers) = versions(&py, &server.endpoint);
    assert_eq!(markers, 0, "worm = true: no DELETE was sent");
    assert!(after >= before, "{after} < {before}");

    // Without worm the vacuum "deletes" the replaced files: S3 answers a
    // version-less DELETE with a delete marker, the locked versions stay.
    rt.block_on(audit::maintain_round_with_vacuum(
        &root,
        &options,
        &settings(false),
    ))
    .unwrap();
    let (kept, markers) = versions(&py, &server.endpoint);
    assert!(
        markers >= 6,
        "two tables' three replaced files each: {markers}"
    );
    assert!(kept >= after, "locked versions are never removed");
}
