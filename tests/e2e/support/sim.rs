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

/// Calls per Organizations action (`organizations:ListParents` → count) of a scan.
pub fn organizations_calls(report: &Report) -> std::collections::BTreeMap<&str, u64> {
    report
        .stats
        .calls_by_action
        .iter()
        .filter(|(action, _)| action.starts_with("organizations:"))
        .map(|(action, count)| (action.as_str(), *count))
        .collect()
}

/// The organization of the account-metadata tests: root `r-ab12` with Payments (and Cards
/// nested in it) and Platform, accounts in each, tagged or not, one certificate each.
///
/// | account | id | OU | tags |
/// |---|---|---|---|
/// | management | 111111111111 | (root) | team=platform |
/// | cards-prod | 222222222222 | Payments/Cards | team=cards, env=prod |
/// | cards-dev | 333333333333 | Payments/Cards | team=cards, env=dev |
/// | payments-core | 444444444444 | Payments | team=payments and k01…k11 (two pages) |
/// | networking | 555555555555 | Platform | none |
/// | shared-services | 666666666666 | Platform | team=platform |
/// | retired | 777777777777 | Platform | SUSPENDED: not scanned |
pub fn organization_with_units() -> Scenario {
    Scenario::from_toml(ORGANIZATION_WITH_UNITS)
        .expect("the organization with OUs is a valid scenario")
}

const ORGANIZATION_WITH_UNITS: &str = r#"
[organization]
management_account_id = "111111111111"
root_id = "r-ab12"
regions = ["us-east-1", "eu-west-1"]

[[organizational_units]]
id = "ou-ab12-payments"
name = "Payments"

[[organizational_units]]
id = "ou-ab12-cards000"
name = "Cards"
parent = "ou-ab12-payments"

[[organizational_units]]
id = "ou-ab12-platform"
name = "Platform"
parent = "r-ab12"

[[accounts]]
id = "111111111111"
name = "management"
tags = { team = "platform" }
[[accounts.certificates]]
region = "us-east-1"
domain = "management.example.com"
expires_in_days = 100

[[accounts]]
id = "222222222222"
name = "cards-prod"
ou = "ou-ab12-cards000"
tags = { team = "cards", env = "prod" }
[[accounts.certificates]]
region = "us-east-1"
domain = "cards-prod.example.com"
expires_in_days = 100

[[accounts]]
id = "333333333333"
name = "cards-dev"
ou = "ou-ab12-cards000"
tags = { team = "cards", env = "dev" }
[[accounts.certificates]]
region = "eu-west-1"
domain = "cards-dev.example.com"
expires_in_days = 100

[[accounts]]
id = "444444444444"
name = "payments-core"
ou = "ou-ab12-payments"
tags = { team = "payments", k01 = "v1", k02 = "v2", k03 = "v3", k04 = "v4", k05 = "v5", k06 = "v6", k07 = "v7", k08 = "v8", k09 = "v9", k10 = "v10", k11 = "v11" }
[[accounts.certificates]]
region = "us-east-1"
domain = "payments-core.example.com"
expires_in_days = 100

[[accounts]]
id = "555555555555"
name = "networking"
ou = "ou-ab12-platform"
[[accounts.certificates]]
region = "us-east-1"
domain = "networking.example.com"
expires_in_days = 100

[[accounts]]
id = "666666666666"
name = "shared-services"
ou = "ou-ab12-platform"
tags = { team = "platform" }
[[accounts.certificates]]
region = "us-east-1"
domain = "shared-services.example.com"
expires_in_days = 100

[[accounts]]
id = "777777777777"
name = "retired"
ou = "ou-ab12-platform"
state = "SUSPENDED"
[[accounts.certificates]]
region = "us-east-1"
domain = "retired.example.com"
expires_in_days = 100
"#;

/// The demo's certificate pending email validation (campaign.example.org in marketing-web), as
/// [`demo_pending_email`] set it up.
pub struct PendingEmail {
    pub account_id: String,
    /// The id at the end of the ARN, fixed here so that a test can name it.
    pub id: String,
    pub arn: String,
    /// The certificate's names whose renewal waits for an approval email, in its order.
    pub pending: Vec<String>,
    /// Its names already validated: no email to resend for them.
    pub validated: Vec<String>,
    /// The approver addresses ACM mails for each pending name.
    pub emails: Vec<String>,
}

/// [`Scenario::demo`] without its network (no checks need it), its campaign.example.org given a
/// fixed id and two more names: www.campaign.example.org waits for email validation with it,
/// static.campaign.example.org is validated already. ACM resends per name, so a resend must send
/// two emails, not one, not three.
pub fn demo_pending_email() -> (Scenario, PendingEmail) {
    let mut scenario = Scenario::demo();
    scenario.network = None;
    let account = scenario
        .accounts
        .iter_mut()
        .find(|a| a.name == "marketing-web")
        .expect("the demo has marketing-web");
    let account_id = account.id.clone();
    let spec = account
        .certificates
        .iter_mut()
        .find(|c| c.domain == "campaign.example.org")
        .expect("marketing-web has campaign.example.org");
    let id = "c0ffee00-7e57-4e5e-8d00-000000000042".to_owned();
    spec.id = Some(id.clone());
    spec.sans = vec![
        "www.campaign.example.org".to_owned(),
        "static.campaign.example.org".to_owned(),
    ];
    let renewal = spec
        .renewal
        .as_mut()
        .expect("campaign.example.org's renewal waits");
    assert_eq!(renewal.status, "PENDING_VALIDATION");
    renewal.pending_domains = Some(vec![
        "campaign.example.org".to_owned(),
        "www.campaign.example.org".to_owned(),
    ]);
    let pending = renewal.pending_domains.clone().unwrap_or_default();
    let names: Vec<String> = std::iter::once(spec.domain.clone())
        .chain(spec.sans.iter().cloned())
        .collect();
    let certificate = PendingEmail {
        arn: format!("arn:aws:acm:{}:{account_id}:certificate/{id}", spec.region),
        account_id,
        id,
        validated: names
            .iter()
            .filter(|n| !pending.contains(n))
            .cloned()
            .collect(),
        pending: names.into_iter().filter(|n| pending.contains(n)).collect(),
        emails: spec
            .validation_emails
            .clone()
            .expect("the demo lists campaign.example.org's approvers"),
    };
    (scenario, certificate)
}
