//! The simulated organization `certwatch demo` scans and `certwatch serve --demo` watches: the
//! simulator on 127.0.0.1 (Organizations, STS, Account and ACM over the AWS wire protocols, a
//! DNS zone and TLS endpoints), and the AWS and check settings that point at it.

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use certwatch_scanner::{AccountMetadata, ProbeConfig, Rates, ScanConfig};
use certwatch_sim::SimServer;

/// The simulated world, running until [`DemoWorld::shutdown`] (or dropped with the process).
pub struct DemoWorld {
    server: SimServer,
    /// The SDK config that reaches the simulator, with its static credentials.
    pub aws: SdkConfig,
    /// The scan settings for it: the scanner's defaults, the checks pointed at its DNS zone and
    /// TLS endpoints, and each account's OU path and tags learned.
    pub scan: ScanConfig,
}

impl DemoWorld {
    pub async fn start() -> Result<DemoWorld> {
        let now = chrono::Utc::now();
        let server = certwatch_sim::serve(certwatch_sim::Scenario::demo(), now)
            .await
            .context("starting the simulated organization")?;
        eprintln!(
            "Demo: a simulated AWS Organization served at {} (Organizations, STS, Account and ACM \
             over the AWS wire protocols).",
            server.endpoint()
        );
        // The simulated world's DNS zone and TLS endpoints, wired in by the same settings as
        // `[checks]` in a config file.
        let checks = server.dns_addr().map(|dns| {
            eprintln!(
                "Demo: checking DNS at {dns} and TLS endpoints on port {} of 127.0.0.1.",
                server.tls_port().unwrap_or(443)
            );
            ProbeConfig {
                nameservers: vec![dns],
                tls_port: server.tls_port().unwrap_or(443),
                ..ProbeConfig::default()
            }
        });
        let aws = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::from_static("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "sim", "sim", None, None, "demo",
            ))
            .endpoint_url(server.endpoint())
            .http_client(certwatch_scanner::http_client())
            .load()
            .await;
        Ok(DemoWorld {
            server,
            aws,
            scan: ScanConfig {
                checks,
                // The demo organization has OUs and tagged accounts: show them.
                account_metadata: AccountMetadata {
                    ou_path: true,
                    tags: true,
                },
                // The simulator serves Organizations without a quota: its 20-odd OU and tag
                // lookups take about a second at 20/s, not ten at AWS's pace.
                rates: Rates {
                    organizations: 20.0,
                    ..Rates::default()
                },
                ..ScanConfig::default()
            },
        })
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
