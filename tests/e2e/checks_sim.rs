//! The scanner in-process against the demo organization and its simulated world (DNS zone and
//! TLS endpoints): each network code on the one certificate the demo made for it, and a rescan
//! that reuses the checks that still stand, as `serve` does.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use certwatch_core::{CertificateRecord, Code, Report};
use certwatch_scanner::{PreviousChecks, ProbeConfig, ScanConfig};
use certwatch_sim::{Behaviour, Scenario, SimServer};
use chrono::Utc;

use crate::support::sim::{sdk_config, start, SCAN_DEADLINE};

/// The six codes of the network checks, and the demo certificate each one belongs to.
const DEMO_NETWORK_CODES: [(Code, &str); 6] = [
    (Code::ValidationRecordMissing, "checkout.example.com"),
    (Code::ValidationRecordWrong, "status.example.com"),
    (Code::CaaForbidsAmazon, "www.example.de"),
    (Code::NameUnresolvable, "beta.example.com"),
    (Code::EndpointUnreachable, "admin.example.com"),
    (Code::ServedStale, "sftp.example.com"),
];

fn demo_config(server: &SimServer) -> ScanConfig {
    let dns = server.dns_addr().expect("the demo serves DNS");
    ScanConfig {
        checks: Some(ProbeConfig {
            nameservers: vec![dns],
            tls_port: server.tls_port().expect("the demo serves TLS"),
            timeout: Duration::from_secs(2),
            ..ProbeConfig::default()
        }),
        ..ScanConfig::default()
    }
}

async fn scan(server: &SimServer, config: &ScanConfig, previous: PreviousChecks) -> Report {
    let base = sdk_config(server).await;
    tokio::time::timeout(
        SCAN_DEADLINE,
        certwatch_scanner::scan_after(
            &base,
            config,
            Utc::now(),
            &certwatch_scanner::NoProgress,
            Arc::new(previous.into()),
        ),
    )
    .await
    .expect("the scan ends")
    .expect("the scan runs")
}

/// Network codes by certificate name.
fn network_codes(report: &Report) -> BTreeMap<String, Vec<Code>> {
    let network = Code::NETWORK;
    report
        .certificates
        .iter()
        .filter_map(|c: &CertificateRecord| {
            let codes: Vec<Code> = c
                .findings
                .iter()
                .map(|f| f.code.clone())
                .filter(|code| network.contains(code))
                .collect();
            (!codes.is_empty()).then(|| (c.facts.display_name().to_owned(), codes))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_world_shows_each_network_code_once_and_a_rescan_reuses_checks() {
    let server = start(Scenario::demo(), Utc::now(), Behaviour::default()).await;
    let config = demo_config(&server);
    let first = scan(&server, &config, PreviousChecks::default()).await;

    let expected: BTreeMap<String, Vec<Code>> = DEMO_NETWORK_CODES
        .iter()
        .map(|(code, name)| ((*name).to_owned(), vec![code.clone()]))
        .collect();
    assert_eq!(network_codes(&first), expected);
    let checks_failed: Vec<_> = first
        .failures
        .iter()
        .filter(|f| {
            matches!(
                f.stage,
                certwatch_core::Stage::Dns | certwatch_core::Stage::Tls
            )
        })
        .collect();
    assert!(checks_failed.is_empty(), "{checks_failed:#?}");
    let stats = first.stats.checks;
    assert!(stats.certificates > 0 && stats.lookups > 0 && stats.probes > 0);
    assert_eq!(stats.reused, 0);

    // A rescan given the first scan's checks: nothing changed, so every check stands and no
    // lookup or handshake is made; the verdicts are the same.
    let previous = PreviousChecks::new(
        config.recheck_after,
        first.certificates.iter().map(|c| &c.facts),
    );
    assert_eq!(previous.len() as u64, stats.certificates);
    let again = scan(&server, &config, previous).await;
    assert_eq!(network_codes(&again), expected);
    assert_eq!(again.stats.checks.reused, stats.certificates);
    assert_eq!(
        (again.stats.checks.lookups, again.stats.checks.probes),
        (0, 0)
    );

    // Checks older than recheck_after are made again.
    let stale = ScanConfig {
        recheck_after: Duration::from_secs(0),
        ..config.clone()
    };
    let previous = PreviousChecks::new(
        stale.recheck_after,
        first.certificates.iter().map(|c| &c.facts),
    );
    let fresh = scan(&server, &stale, previous).await;
    assert_eq!(fresh.stats.checks.reused, 0);
    assert_eq!(fresh.stats.checks.lookups, stats.lookups);
    assert_eq!(network_codes(&fresh), expected);
    server.shutdown().await;
}
