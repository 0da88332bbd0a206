//! Repeat scans against moto (ListCertificates, since moto does not serve SearchCertificates):
//! `certwatch scan --store` describes again only what changed since the store's last scan, and
//! gets the findings a cold scan of the same organization gets, before and after moto is changed
//! (a certificate re-imported, an unused one attached to an ALB listener).

use crate::support::moto::{self, Kind, Moto};
use serde_json::Value;
use std::collections::BTreeMap;

const CHECKS_OFF: &str = "[checks]\ndns = false\ntls = false\n";

/// The report a scan printed.
fn report(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "scan failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not a report ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// ARN → its findings as (code, urgency), sorted: what the verdicts are.
fn verdicts(report: &Value) -> BTreeMap<String, Vec<(String, String)>> {
    report["certificates"]
        .as_array()
        .expect("certificates")
        .iter()
        .map(|c| {
            let mut findings: Vec<(String, String)> = c["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| {
                    (
                        f["code"].as_str().unwrap().to_owned(),
                        f["urgency"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            findings.sort();
            (c["arn"].as_str().unwrap().to_owned(), findings)
        })
        .collect()
}

fn calls(report: &Value, action: &str) -> u64 {
    report["stats"]["calls_by_action"][action]
        .as_u64()
        .unwrap_or(0)
}

fn saved(report: &Value) -> u64 {
    report["stats"]["describes_saved"]
        .as_u64()
        .expect("describes_saved")
}

#[test]
fn a_repeat_scan_describes_only_what_changed_and_judges_as_a_cold_scan() {
    let moto = Moto::start();
    let manifest = moto::seed(&moto);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.sqlite");
    let store_arg = store.to_str().unwrap();
    let warm = ["--store", store_arg];
    let scan = |args: &[&str]| report(&moto::scan(&moto, &manifest, CHECKS_OFF, args));

    // The first scan into the store describes what its verdicts need; the second, nothing.
    let first = scan(&warm);
    let described = calls(&first, "acm:DescribeCertificate");
    assert!(
        described > 0,
        "moto's requested certificates need their detail"
    );
    assert_eq!(saved(&first), 0);
    let second = scan(&warm);
    assert_eq!(
        calls(&second, "acm:DescribeCertificate"),
        0,
        "{}",
        second["stats"]
    );
    assert_eq!(saved(&second), described);
    assert_eq!(verdicts(&second), verdicts(&first));
    assert_eq!(
        calls(&second, "acm:ListCertificates"),
        calls(&first, "acm:ListCertificates"),
        "every target is still listed"
    );
    // moto answers SearchCertificates with HTTP 500: each region's first search finds that
    // out (one call, without the SDK's retries) while the region's other targets wait,
    // then list.
    for report in [&first, &second] {
        assert_eq!(
            calls(report, "acm:SearchCertificates"),
            manifest.regions.len() as u64,
            "{}",
            report["stats"]
        );
        assert_eq!(
            report["stats"]["search_fallbacks"], report["stats"]["targets"],
            "every target fell back"
        );
    }

    // Change: an imported certificate re-imported to expire in 3 days, an unused requested one
    // attached to a listener (its NOT_IN_USE goes away; its listing shows InUse).
    let imported = manifest
        .certificates
        .iter()
        .find(|c| c.kind == Kind::ImportedRsa)
        .expect("an imported certificate");
    moto::reimport(&moto, imported, 3);
    let unused = manifest
        .certificates
        .iter()
        .find(|c| c.kind == Kind::DnsUnused)
        .expect("an unused certificate");
    moto::attach(&moto, unused);

    let repeat = scan(&warm);
    let cold = scan(&[]);
    assert_eq!(
        verdicts(&repeat),
        verdicts(&cold),
        "the repeat scan judges as a cold scan"
    );
    // Only the attached certificate was described again (an imported one needs no detail).
    assert_eq!(
        calls(&repeat, "acm:DescribeCertificate"),
        1,
        "{}",
        repeat["stats"]
    );
    assert_eq!(saved(&repeat), described - 1);
    let attached = &verdicts(&repeat)[&unused.arn];
    assert!(
        !attached.iter().any(|(code, _)| code == "NOT_IN_USE"),
        "{attached:?}"
    );
    assert!(
        verdicts(&repeat)[&imported.arn].contains(&("IMPORTED".to_owned(), "urgent".to_owned())),
        "{:?}",
        verdicts(&repeat)[&imported.arn]
    );
    assert_eq!(
        calls(&cold, "acm:DescribeCertificate"),
        described,
        "a cold scan describes all"
    );
}
