//! The simulator in-process, and the real scanner pointed at it (fault tests).

use aws_config::{BehaviorVersion, Region, SdkConfig};
use certwatch_core::Report;
use certwatch_scanner::{RegionSelection, ScanConfig};
use certwatch_sim::{Behaviour, Scenario, SimServer};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// No fault test may run longer than this: a hung call would fail the test here instead of
/// hanging CI (a bound on termination, not a speed assertion).
pub const SCAN_DEADLINE: Duration = Duration::from_secs(120);

pub async fn start(scenario: Scenario, now: DateTime<Utc>, behaviour: Behaviour) -> SimServer {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    certwatch_sim::serve_with(scenario, now, behaviour)
        .await
        .expect("simulator starts")
}

pub async fn sdk_config(server: &SimServer) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::from_static("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "sim", "sim", None, None, "faults",
        ))
        .endpoint_url(server.endpoint())
        .http_client(certwatch_scanner::http_client())
        .load()
        .await
}

/// The scanner's defaults, with these regions and a short per-attempt timeout.
pub fn scan_config(regions: &[&str], call_timeout: Duration) -> ScanConfig {
    ScanConfig {
        member_role_name: "OrganizationAccountAccessRole".to_owned(),
        regions: RegionSelection::List(regions.iter().map(|r| (*r).to_owned()).collect()),
        call_timeout,
        ..ScanConfig::default()
    }
}

/// Scans the simulated organization, failing the test if the scan does not end.
pub async fn scan(server: &SimServer, config: &ScanConfig, now: DateTime<Utc>) -> Report {
    let base = sdk_config(server).await;
    tokio::time::timeout(
        SCAN_DEADLINE,
        certwatch_scanner::scan(&base, config, now, &certwatch_scanner::NoProgress),
    )
    .await
    .expect("the scan ends")
    .expect("the scan runs")
}

/// HTTP requests the scan sent for one IAM action (`acm:ListCertificates`).
pub fn calls(report: &Report, action: &str) -> u64 {
    report
        .stats
        .calls_by_action
        .get(action)
        .copied()
        .unwrap_or(0)
}
