//! The one write against the simulator: `Resender` resends ACM's validation email once per
//! domain waiting for email validation, and nothing when no domain is, when the role may not, or
//! when the certificate is gone.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use certwatch_scanner::{ResendError, Resender, Resent, ScanConfig, SentTo};
use certwatch_sim::{Scenario, SimServer};
use chrono::{TimeZone, Utc};
use std::time::Duration;

const MANAGEMENT: &str = "111111111111";
/// A member whose role may resend.
const WEB: &str = "222222222222";
/// A member whose role was deployed read-only.
const READ_ONLY: &str = "333333333333";
/// A member whose role certwatch cannot assume.
const UNREACHABLE: &str = "444444444444";
const ROLE: &str = "certwatch-read-only";

const SCENARIO: &str = r#"
[organization]
management_account_id = "111111111111"
regions = ["us-east-1", "eu-west-1"]

[[accounts]]
id = "111111111111"
name = "management"

# A request still waiting for its approver.
[[accounts.certificates]]
id = "request"
region = "eu-west-1"
domain = "new.example.net"
status = "PENDING_VALIDATION"
validation = "EMAIL"

[[accounts]]
id = "222222222222"
name = "web"

# PENDING_VALIDATION_EMAIL: the renewal waits for both names.
[[accounts.certificates]]
id = "renewal"
region = "us-east-1"
domain = "shop.example.org"
sans = ["*.shop.example.org"]
validation = "EMAIL"
validation_domain = "example.org"
validation_emails = ["admin@example.org", "webmaster@example.org"]
expires_in_days = 20
in_use_by = ["arn:aws:cloudfront::222222222222:distribution/E1SHOP"]
[accounts.certificates.renewal]
status = "PENDING_VALIDATION"

# Email-validated and issued: nothing to resend.
[[accounts.certificates]]
id = "issued"
region = "us-east-1"
domain = "blog.example.org"
validation = "EMAIL"
expires_in_days = 150
in_use_by = ["arn:aws:cloudfront::222222222222:distribution/E2BLOG"]

[[accounts]]
id = "333333333333"
name = "read-only"
denied_actions = ["acm:ResendValidationEmail"]

[[accounts.certificates]]
id = "denied"
region = "us-east-1"
domain = "legacy.example.org"
validation = "EMAIL"
expires_in_days = 20
in_use_by = ["arn:aws:cloudfront::333333333333:distribution/E3LEGACY"]
[accounts.certificates.renewal]
status = "PENDING_VALIDATION"

[[accounts]]
id = "444444444444"
name = "unreachable"
deny_assume_role = true
"#;

fn arn(account: &str, region: &str, id: &str) -> String {
    format!("arn:aws:acm:{region}:{account}:certificate/{id}")
}

async fn start() -> SimServer {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let scenario = Scenario::from_toml(SCENARIO).expect("scenario");
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    certwatch_sim::serve(scenario, now)
        .await
        .expect("simulator starts")
}

async fn resender(server: &SimServer) -> Resender {
    let base: SdkConfig = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::from_static("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "sim", "sim", None, None, "act",
        ))
        .endpoint_url(server.endpoint())
        .http_client(certwatch_scanner::http_client())
        .load()
        .await;
    let config = ScanConfig {
        member_role_name: ROLE.to_owned(),
        call_timeout: Duration::from_secs(5),
        ..ScanConfig::default()
    };
    Resender::new(&base, &config)
        .await
        .expect("the simulator's credentials work")
}

fn resends(resender: &Resender) -> u64 {
    resender
        .calls_by_action()
        .get("acm:ResendValidationEmail")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_renewal_pending_email_validation_is_resent_once_per_domain() {
    let server = start().await;
    let resender = resender(&server).await;
    let renewal = arn(WEB, "us-east-1", "renewal");
    let resent = resender
        .resend(WEB, "us-east-1", &renewal)
        .await
        .expect("resent");
    let emails = vec![
        "admin@example.org".to_owned(),
        "webmaster@example.org".to_owned(),
    ];
    assert_eq!(
        resent,
        Resent {
            sent: vec![
                SentTo {
                    domain: "shop.example.org".into(),
                    validation_domain: "example.org".into(),
                    emails: emails.clone(),
                },
                SentTo {
                    domain: "*.shop.example.org".into(),
                    validation_domain: "example.org".into(),
                    emails,
                },
            ],
            not_sent: None,
        }
    );
    assert_eq!(
        server.resends(),
        vec![
            (renewal.clone(), "shop.example.org".to_owned()),
            (renewal.clone(), "*.shop.example.org".to_owned()),
        ]
    );
    assert_eq!(resends(&resender), 2, "counted like a scan's calls");
    assert_eq!(
        resender.calls_by_action().get("acm:DescribeCertificate"),
        Some(&1),
        "read once first"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_request_in_certwatch_s_own_account_is_resent_with_its_own_credentials() {
    let server = start().await;
    let resender = resender(&server).await;
    let request = arn(MANAGEMENT, "eu-west-1", "request");
    let resent = resender
        .resend(MANAGEMENT, "eu-west-1", &request)
        .await
        .expect("resent");
    let domains: Vec<(&str, &str)> = resent
        .sent
        .iter()
        .map(|s| (s.domain.as_str(), s.validation_domain.as_str()))
        .collect();
    assert_eq!(domains, [("new.example.net", "new.example.net")]);
    assert_eq!(server.resends(), vec![(request, "new.example.net".into())]);
    assert_eq!(server.sessions_issued(), 0, "no role assumed");
    server.shutdown().await;
}

#[tokio::test]
async fn nothing_pending_nothing_permitted_nothing_found_means_nothing_sent() {
    let server = start().await;
    let resender = resender(&server).await;

    let issued = resender
        .resend(WEB, "us-east-1", &arn(WEB, "us-east-1", "issued"))
        .await;
    assert_eq!(issued, Err(ResendError::NotPending));

    let denied = resender
        .resend(
            READ_ONLY,
            "us-east-1",
            &arn(READ_ONLY, "us-east-1", "denied"),
        )
        .await;
    let Err(ResendError::NotPermitted { account, message }) = &denied else {
        panic!("{denied:?}")
    };
    assert_eq!(account, READ_ONLY);
    assert!(message.contains("AccessDeniedException"), "{message}");
    let shown = denied.as_ref().unwrap_err().to_string();
    assert!(shown.contains("acm:ResendValidationEmail"), "{shown}");
    assert!(!shown.contains("arn:aws:sts"), "no internals: {shown}");
    assert_eq!(
        resends(&resender),
        1,
        "the denied attempt, and no second domain"
    );

    let gone = resender
        .resend(WEB, "us-east-1", &arn(WEB, "us-east-1", "deleted"))
        .await;
    assert_eq!(
        gone,
        Err(ResendError::NotFound {
            account: WEB.into(),
            region: "us-east-1".into()
        })
    );

    let unreachable = resender
        .resend(
            UNREACHABLE,
            "us-east-1",
            &arn(UNREACHABLE, "us-east-1", "any"),
        )
        .await;
    assert!(
        matches!(&unreachable, Err(ResendError::AssumeRole { account, .. }) if account == UNREACHABLE),
        "{unreachable:?}"
    );

    assert_eq!(server.resends(), Vec::<(String, String)>::new());
    server.shutdown().await;
}
