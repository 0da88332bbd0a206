//! `certwatch scan --store PATH --changes` against moto (the cron path): the first scan's
//! findings are all new; after moto is changed (a certificate deleted, one imported that
//! expires in 3 days, one re-imported with a later NotAfter) the next scan reports exactly
//! those changes; a scan with nothing changed reports none.

use crate::support::moto::{self, Moto};
use serde_json::Value;

const CHECKS_OFF: &str = "[checks]\ndns = false\ntls = false\n";

fn changes(output: &std::process::Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "scan failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not the changes JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    json["changes"].as_array().expect("a changes array").clone()
}

#[test]
fn a_rescan_reports_exactly_what_changed() {
    let moto = Moto::start();
    let manifest = moto::seed(&moto);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.sqlite");
    let store_arg = store.to_str().unwrap();
    let args = ["--store", store_arg, "--changes"];

    // First scan: every finding is new.
    let first = changes(&moto::scan(&moto, &manifest, CHECKS_OFF, &args));
    let expected: usize = manifest.certificates.iter().map(|c| c.expected.len()).sum();
    assert_eq!(first.len(), expected, "{first:#?}");
    assert!(first.iter().all(|c| c["kind"] == "new"), "{first:#?}");

    // Change one member's us-east-1 … or wherever it has an imported RSA certificate.
    let changed = moto::change_one_target(&moto, &manifest);
    let (delete, reimport, new_arn) = (changed.deleted, changed.reimported, &changed.new_arn);

    let second = changes(&moto::scan(&moto, &manifest, CHECKS_OFF, &args));
    let mut got: Vec<(String, String, String)> = second
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["arn"].as_str().unwrap().to_owned(),
                c["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        ("gone".to_owned(), delete.arn.clone(), String::new()),
        ("new".to_owned(), new_arn.to_owned(), "IMPORTED".to_owned()),
        ("renewed".to_owned(), reimport.arn.clone(), String::new()),
    ];
    want.sort();
    assert_eq!(got, want, "{second:#?}");
    let new = second.iter().find(|c| c["kind"] == "new").unwrap();
    assert_eq!(new["urgency"], "urgent", "expires in 3 days: {new}");
    assert_eq!(new["account_id"], reimport.account_id.as_str());

    // Nothing changed since: nothing reported.
    let third = changes(&moto::scan(&moto, &manifest, CHECKS_OFF, &args));
    assert!(third.is_empty(), "{third:#?}");
}
