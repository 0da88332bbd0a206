//! `GET /metrics`: what serve knows, in the Prometheus text format (version 0.0.4).
//!
//! Two kinds of series. The per-certificate ones are built from the inventory at each scrape by
//! [`Certificates`], a collector that holds the inventory of that scrape only: a deleted
//! certificate's series vanish with it, and nothing has to be kept in step with the store.
//! The others are kept here and moved by the runtime: the last scan's numbers (set when a
//! scan finishes) and counters of what was posted and answered.
//!
//! The per-certificate labels follow x509-certificate-exporter's `x509_cert_not_after`
//! (alert on `… - time()`), trimmed for cardinality: no serial (it changes at every renewal),
//! no SANs; `domain` is the name people read (`CertificateFacts::display_name`).

use certwatch_core::{CertificateRecord, Inventory, Stats};
use chrono::{DateTime, Utc};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// The `Content-Type` of what [`Metrics::encode`] writes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every series name starts with this (and `_`).
const PREFIX: &str = "certwatch";

/// How a `/certs` request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Answered from the inventory (or a scan started).
    Answered,
    /// Refused: a workspace, channel or user certwatch does not answer, or a stopping process.
    Refused,
    /// Failed on certwatch's side: the user got an apology with an error id.
    Error,
}

impl CommandOutcome {
    const ALL: [CommandOutcome; 3] = [
        CommandOutcome::Answered,
        CommandOutcome::Refused,
        CommandOutcome::Error,
    ];

    fn as_str(self) -> &'static str {
        match self {
            CommandOutcome::Answered => "answered",
            CommandOutcome::Refused => "refused",
            CommandOutcome::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The series serve keeps between scrapes (the per-certificate ones are built at each).
pub struct Metrics {
    registry: Registry,
    scan_duration: Gauge<f64, AtomicU64>,
    scan_api_calls: Family<ActionLabels, Gauge>,
    scan_throttles: Gauge,
    scan_failed_targets: Gauge,
    scan_certificates: Gauge,
    scan_describes_saved: Gauge,
    last_success: Gauge,
    scans: Family<OutcomeLabels, Counter>,
    digests: Counter,
    alerts: Counter,
    commands: Family<OutcomeLabels, Counter>,
}

impl Metrics {
    /// The series, registered; `inventory` (restored from the store) gives the last successful
    /// scan's time, so a restart does not look like a process that never scanned.
    pub fn new(inventory: &Inventory) -> Metrics {
        let mut metrics = Metrics {
            registry: Registry::with_prefix(PREFIX),
            scan_duration: Gauge::default(),
            scan_api_calls: Family::default(),
            scan_throttles: Gauge::default(),
            scan_failed_targets: Gauge::default(),
            scan_certificates: Gauge::default(),
            scan_describes_saved: Gauge::default(),
            last_success: Gauge::default(),
            scans: Family::default(),
            digests: Counter::default(),
            alerts: Counter::default(),
            commands: Family::default(),
        };
        let r = &mut metrics.registry;
        r.register(
            "scan_duration_seconds",
            "How long the last finished scan took",
            metrics.scan_duration.clone(),
        );
        r.register(
            "scan_api_calls",
            "HTTP requests the last finished scan sent to AWS, retries included, by IAM action",
            metrics.scan_api_calls.clone(),
        );
        r.register(
            "scan_throttles",
            "Throttling errors AWS answered in the last finished scan",
            metrics.scan_throttles.clone(),
        );
        r.register(
            "scan_failed_targets",
            "Failures (an account, an account-region or a certificate that could not be read) \
             in the last finished scan",
            metrics.scan_failed_targets.clone(),
        );
        r.register(
            "scan_certificates",
            "Certificates the last finished scan saw (the inventory also keeps stale ones)",
            metrics.scan_certificates.clone(),
        );
        r.register(
            "scan_describes_saved",
            "Certificates the last finished scan judged from the detail an earlier scan stored, \
             without calling DescribeCertificate again",
            metrics.scan_describes_saved.clone(),
        );
        r.register(
            "last_successful_scan_timestamp_seconds",
            "When the last scan that was stored ran, in seconds since the Unix epoch (0: none yet)",
            metrics.last_success.clone(),
        );
        r.register(
            "scans",
            "Scans finished since start, by outcome (succeeded: scanned and stored; failed)",
            metrics.scans.clone(),
        );
        r.register(
            "digests_posted",
            "Daily digests posted to Slack since start",
            metrics.digests.clone(),
        );
        r.register(
            "alert_sets_posted",
            "Change alerts (one message set per scan) posted to Slack since start",
            metrics.alerts.clone(),
        );
        r.register(
            "slack_commands",
            "/certs requests since start, by outcome (answered, refused, error)",
            metrics.commands.clone(),
        );
        // Every outcome from the start, so that `rate()` and `increase()` see the first one.
        for outcome in ["succeeded", "failed"] {
            let _ = metrics.scans.get_or_create(&OutcomeLabels { outcome });
        }
        for outcome in CommandOutcome::ALL {
            let _ = metrics.commands.get_or_create(&OutcomeLabels {
                outcome: outcome.as_str(),
            });
        }
        if let Some(at) = inventory.last_scan {
            metrics.last_success.set(at.timestamp());
        }
        metrics
    }

    /// A scan was stored: its numbers replace the last one's.
    pub fn scan_succeeded(&self, stats: &Stats, failures: usize, at: DateTime<Utc>) {
        self.scan_duration.set(stats.duration_ms as f64 / 1000.0);
        // An action the latest scan did not call has no series.
        self.scan_api_calls.clear();
        for (action, calls) in &stats.calls_by_action {
            self.scan_api_calls
                .get_or_create(&ActionLabels {
                    action: action.clone(),
                })
                .set(gauge_value(*calls));
        }
        self.scan_throttles.set(gauge_value(stats.throttled));
        self.scan_failed_targets.set(gauge_value(failures as u64));
        self.scan_certificates.set(gauge_value(stats.certificates));
        self.scan_describes_saved
            .set(gauge_value(stats.describes_saved));
        self.last_success.set(at.timestamp());
        self.scans
            .get_or_create(&OutcomeLabels {
                outcome: "succeeded",
            })
            .inc();
    }

    /// A scan failed, or could not be stored: the last successful one's numbers stay.
    pub fn scan_failed(&self) {
        self.scans
            .get_or_create(&OutcomeLabels { outcome: "failed" })
            .inc();
    }

    pub fn digest_posted(&self) {
        self.digests.inc();
    }

    pub fn alerts_posted(&self) {
        self.alerts.inc();
    }

    pub fn command(&self, outcome: CommandOutcome) {
        self.commands
            .get_or_create(&OutcomeLabels {
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// The exposition: the series kept here, then those of `inventory`'s certificates.
    pub fn encode(&self, inventory: Arc<Inventory>) -> Result<String, std::fmt::Error> {
        use prometheus_client::encoding::prometheus_text::encode;
        let mut scrape = Registry::with_prefix(PREFIX);
        scrape.register_collector(Box::new(Certificates(inventory)));
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        encode(&mut text, &scrape)?;
        Ok(text)
    }
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The per-certificate series of one inventory (one scrape's).
#[derive(Debug)]
struct Certificates(Arc<Inventory>);

impl Collector for Certificates {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let certificates = &self.0.report.certificates;
        // A certificate ACM has not issued yet has no NotAfter, and no series here.
        if certificates.iter().any(|c| c.facts.not_after.is_some()) {
            let mut family = encoder.encode_descriptor(
                "certificate_not_after_timestamp_seconds",
                "When the certificate expires (NotAfter), in seconds since the Unix epoch.",
                None,
                MetricType::Gauge,
            )?;
            for record in certificates {
                if let Some(not_after) = record.facts.not_after {
                    ConstGauge::new(not_after.timestamp())
                        .encode(family.encode_family(&labels(record))?)?;
                }
            }
        }
        if certificates.iter().any(|c| !c.findings.is_empty()) {
            let mut family = encoder.encode_descriptor(
                "certificate_findings",
                "The certificate's findings: 1 per finding code (what a human must do is in \
                 Slack and the report).",
                None,
                MetricType::Gauge,
            )?;
            for record in certificates {
                // One series per code and urgency: a code twice on one certificate counts 2
                // rather than repeating a series (which would fail the whole scrape).
                let mut findings: BTreeMap<(&str, &str), i64> = BTreeMap::new();
                for f in &record.findings {
                    *findings
                        .entry((f.code.as_str(), f.urgency.as_str()))
                        .or_default() += 1;
                }
                for ((code, urgency), n) in findings {
                    let [a, b, c, d, e] = labels(record);
                    let labels = [a, b, c, d, e, ("code", code), ("urgency", urgency)];
                    ConstGauge::new(n).encode(family.encode_family(&labels)?)?;
                }
            }
        }
        Ok(())
    }
}

/// The labels that name a certificate.
fn labels(record: &CertificateRecord) -> [(&'static str, &str); 5] {
    [
        ("account_id", record.facts.account_id.as_str()),
        ("account_name", record.account_name.as_str()),
        ("region", record.facts.region.as_str()),
        ("arn", record.facts.arn.as_str()),
        ("domain", record.facts.display_name()),
    ]
}
