//! The configuration file: a model that mirrors the TOML (unknown keys are errors), and
//! `validate()` that turns it into the checked config each component takes. Errors name the key.
//! Secrets never live here: they come from the environment.

mod routes;

pub use routes::{ActionsFile, RouteFile};

use certwatch_core::Policy;
use certwatch_scanner::{AccountFilter, ProbeConfig, Rates, RegionSelection, ScanConfig};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    pub organization: Organization,
    pub scan: Scan,
    pub policy: Policy,
    pub checks: ChecksFile,
    pub serve: ServeFile,
    pub slack: SlackFile,
}

/// `[checks]`: what the world sees of each certificate's names (DNS, CAA, TLS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChecksFile {
    pub dns: bool,
    pub tls: bool,
    pub nameservers: Vec<String>,
    pub tls_port: u32,
    pub timeout_seconds: u64,
    pub max_concurrency: usize,
    pub queries_per_second: f64,
    pub recheck_hours: u64,
}

impl Default for ChecksFile {
    /// The probe's own defaults: one home for them.
    fn default() -> Self {
        let probe = ProbeConfig::default();
        ChecksFile {
            dns: probe.dns,
            tls: probe.tls,
            nameservers: Vec::new(),
            tls_port: u32::from(probe.tls_port),
            timeout_seconds: probe.timeout.as_secs(),
            max_concurrency: probe.max_concurrency,
            queries_per_second: probe.queries_per_second,
            recheck_hours: ScanConfig::default().recheck_after.as_secs() / 3600,
        }
    }
}

impl ChecksFile {
    /// The probe's config, None when both kinds of check are off, or the bad key and why.
    fn validate(&self) -> Result<Option<ProbeConfig>, (String, String)> {
        let mut nameservers = Vec::with_capacity(self.nameservers.len());
        for text in &self.nameservers {
            let address = text
                .parse::<std::net::SocketAddr>()
                .or_else(|_| {
                    text.parse::<std::net::IpAddr>()
                        .map(|ip| std::net::SocketAddr::new(ip, 53))
                })
                .map_err(|_| {
                    invalid(
                        "checks.nameservers",
                        format!(
                            "{text:?} is not a nameserver address like \"9.9.9.9\", \"127.0.0.1:5353\" or \"[2620:fe::fe]:53\""
                        ),
                    )
                })?;
            nameservers.push(address);
        }
        let tls_port = u16::try_from(self.tls_port)
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| invalid("checks.tls_port", "must be a port between 1 and 65535"))?;
        if !(1..=60).contains(&self.timeout_seconds) {
            return Err(invalid(
                "checks.timeout_seconds",
                "must be between 1 and 60",
            ));
        }
        if !(1..=4096).contains(&self.max_concurrency) {
            return Err(invalid(
                "checks.max_concurrency",
                "must be between 1 and 4096",
            ));
        }
        if !(self.queries_per_second.is_finite() && self.queries_per_second > 0.0) {
            return Err(invalid(
                "checks.queries_per_second",
                format!(
                    "{} is not a positive number of queries per second",
                    self.queries_per_second
                ),
            ));
        }
        if !(1..=720).contains(&self.recheck_hours) {
            return Err(invalid(
                "checks.recheck_hours",
                "must be between 1 and 720 (30 days)",
            ));
        }
        if !self.dns && !self.tls {
            return Ok(None);
        }
        Ok(Some(ProbeConfig {
            dns: self.dns,
            tls: self.tls,
            nameservers,
            tls_port,
            timeout: Duration::from_secs(self.timeout_seconds),
            max_concurrency: self.max_concurrency,
            queries_per_second: self.queries_per_second,
        }))
    }
}

/// `[serve]`: the long-running process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeFile {
    pub scan_interval_minutes: u64,
    pub store_path: String,
    pub listen: String,
}

impl Default for ServeFile {
    fn default() -> Self {
        ServeFile {
            scan_interval_minutes: 360,
            store_path: "certwatch.sqlite".to_owned(),
            listen: "127.0.0.1:8080".to_owned(),
        }
    }
}

/// `[slack]`: names of the environment variables that hold secrets, never the secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackFile {
    pub transport: String,
    pub api_url: String,
    pub bot_token_env: String,
    pub app_token_env: String,
    pub signing_secret_env: String,
    pub admin_user_ids: Vec<String>,
    pub responder_user_ids: Vec<String>,
    pub team_id: String,
    pub channel_ids: Vec<String>,
    /// The account tag whose value is the channel id of the account's owners; empty: none.
    pub route_by_tag: String,
    pub digest: DigestFile,
    pub alerts: AlertsFile,
    pub actions: ActionsFile,
    pub routes: Vec<RouteFile>,
}

impl Default for SlackFile {
    fn default() -> Self {
        SlackFile {
            transport: "socket".to_owned(),
            api_url: "https://slack.com/api".to_owned(),
            bot_token_env: "SLACK_BOT_TOKEN".to_owned(),
            app_token_env: "SLACK_APP_TOKEN".to_owned(),
            signing_secret_env: "SLACK_SIGNING_SECRET".to_owned(),
            admin_user_ids: Vec::new(),
            responder_user_ids: Vec::new(),
            team_id: String::new(),
            channel_ids: Vec::new(),
            route_by_tag: String::new(),
            digest: DigestFile::default(),
            alerts: AlertsFile::default(),
            actions: ActionsFile::default(),
            routes: Vec::new(),
        }
    }
}

/// `[slack.alerts]`: what changed after each scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsFile {
    pub enabled: bool,
    pub channel: String,
    pub min_urgency: String,
}

impl Default for AlertsFile {
    fn default() -> Self {
        AlertsFile {
            enabled: true,
            channel: String::new(),
            min_urgency: "action".to_owned(),
        }
    }
}

/// `[slack.digest]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestFile {
    pub channel: String,
    pub time: String,
    pub time_zone: String,
    pub post_when_clear: bool,
}

impl Default for DigestFile {
    fn default() -> Self {
        DigestFile {
            channel: String::new(),
            time: "09:00".to_owned(),
            time_zone: "UTC".to_owned(),
            post_when_clear: true,
        }
    }
}

/// How `certwatch serve` talks to Slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Socket Mode: an outbound WebSocket, no inbound traffic.
    Socket,
    /// Slash commands POSTed to `/slack/commands`, verified with the signing secret.
    Http,
}

/// The checked `[serve]` and `[slack]` settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub scan_interval: Duration,
    pub store_path: std::path::PathBuf,
    pub listen: std::net::SocketAddr,
    pub transport: Transport,
    pub api_url: String,
    pub bot_token_env: String,
    pub app_token_env: String,
    pub signing_secret_env: String,
    pub admin_user_ids: Vec<String>,
    pub team_id: Option<String>,
    pub channel_ids: Vec<String>,
    /// Users who may snooze and acknowledge (besides the admins).
    pub responder_user_ids: Vec<String>,
    /// None: no digest.
    pub digest: Option<DigestConfig>,
    /// None: no change alerts.
    pub alerts: Option<AlertsConfig>,
    /// Which channel each account's certificates go to (digests, alerts, `/certs`).
    pub routes: certwatch_slack::routes::Routes,
    /// `[slack.actions]`: what may be changed in AWS from Slack.
    pub actions: ActionsFile,
}

/// Where change alerts go and from which urgency on.
#[derive(Debug, Clone)]
pub struct AlertsConfig {
    pub channel: String,
    pub min_urgency: certwatch_core::Urgency,
}

#[derive(Debug, Clone)]
pub struct DigestConfig {
    pub time: chrono::NaiveTime,
    pub time_zone: chrono_tz::Tz,
    pub post_when_clear: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Organization {
    pub member_role_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub session_name: String,
    pub include_management_account: bool,
    pub accounts: Accounts,
}

impl Default for Organization {
    /// The scanner's own defaults (`ScanConfig::default`): one home for them.
    fn default() -> Self {
        let scan = ScanConfig::default();
        Organization {
            member_role_name: scan.member_role_name,
            external_id: scan.external_id,
            session_name: scan.session_name,
            include_management_account: scan.accounts.include_own_account,
            accounts: Accounts {
                include: scan.accounts.include,
                exclude: scan.accounts.exclude,
            },
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Accounts {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// `regions = "enabled"` or `regions = ["us-east-1", …]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Regions {
    Word(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scan {
    pub regions: Regions,
    pub max_concurrency: usize,
    pub call_timeout_seconds: u64,
    pub search_certificates: bool,
    pub account_metadata_hours: u64,
    pub detail_max_age_hours: u64,
    pub rates: Rates,
}

impl Default for Scan {
    /// The scanner's own defaults (`ScanConfig::default`): one home for them.
    fn default() -> Self {
        let scan = ScanConfig::default();
        Scan {
            regions: match scan.regions {
                RegionSelection::Enabled => Regions::Word("enabled".to_owned()),
                RegionSelection::List(list) => Regions::List(list),
            },
            max_concurrency: scan.max_concurrency,
            call_timeout_seconds: scan.call_timeout.as_secs(),
            search_certificates: scan.search_certificates,
            account_metadata_hours: scan.relearn_accounts_after.as_secs() / 3600,
            detail_max_age_hours: scan.detail_max_age.as_secs() / 3600,
            rates: scan.rates,
        }
    }
}

/// A configuration error: which key, and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {key}: {reason}")]
    Invalid {
        path: String,
        key: String,
        reason: String,
    },
}

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> (String, String) {
    (key.into(), reason.into())
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// `us-east-1`, `ap-southeast-5`, `us-gov-west-1`, `eu-central-2` …
fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

/// Slack user ids: `U…` or `W…` (Enterprise Grid), upper-case letters and digits.
fn is_slack_id(id: &str) -> bool {
    (3..=32).contains(&id.len())
        && (id.starts_with('U') || id.starts_with('W'))
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// IAM role names: 1–64 of letters, digits and `+=,.@_-`.
fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// toml's message, which shows the line and column of the mistake when toml knows them. For the
/// few errors it gives no place (a key of more than 80 dotted parts: "recursion limit"), the
/// line is the first one at which the file fails that way.
fn located(text: &str, error: &toml::de::Error) -> String {
    let message = error.to_string().trim_end().to_owned();
    if error.span().is_some() {
        return message;
    }
    let mut end = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        end += line.len();
        if toml::from_str::<FileConfig>(&text[..end]).is_err_and(|e| e.span().is_none()) {
            return format!("TOML parse error at line {}: {message}", index + 1);
        }
    }
    message
}

impl FileConfig {
    pub fn parse(text: &str, path: &str) -> Result<FileConfig, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: located(text, &e),
        })
    }

    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        FileConfig::parse(&text, &shown)
    }

    /// The `serve` settings, or the first invalid key and why.
    pub fn serve_config(&self, path: &str) -> Result<ServeConfig, ConfigError> {
        self.check_serve()
            .map_err(|(key, reason)| ConfigError::Invalid {
                path: path.to_owned(),
                key,
                reason,
            })
    }

    fn check_serve(&self) -> Result<ServeConfig, (String, String)> {
        let serve = &self.serve;
        if !(5..=10_080).contains(&serve.scan_interval_minutes) {
            return Err(invalid(
                "serve.scan_interval_minutes",
                "must be between 5 and 10080 (a week)",
            ));
        }
        if serve.store_path.trim().is_empty() {
            return Err(invalid("serve.store_path", "must not be empty"));
        }
        let listen = serve.listen.parse().map_err(|_| {
            invalid(
                "serve.listen",
                format!("{:?} is not an address like \"0.0.0.0:8080\"", serve.listen),
            )
        })?;
        let slack = &self.slack;
        let transport = match slack.transport.as_str() {
            "socket" => Transport::Socket,
            "http" => Transport::Http,
            other => {
                return Err(invalid(
                    "slack.transport",
                    format!("{other:?}: expected \"socket\" or \"http\""),
                ))
            }
        };
        if !(slack.api_url.starts_with("https://") || slack.api_url.starts_with("http://")) {
            return Err(invalid("slack.api_url", "must be an http(s) URL"));
        }
        for (key, name) in [
            ("slack.bot_token_env", &slack.bot_token_env),
            ("slack.app_token_env", &slack.app_token_env),
            ("slack.signing_secret_env", &slack.signing_secret_env),
        ] {
            let ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                return Err(invalid(
                    key,
                    "must name an environment variable (A-Z, 0-9, _); the secret itself never goes in this file",
                ));
            }
        }
        let digest = &slack.digest;
        let time = chrono::NaiveTime::parse_from_str(&digest.time, "%H:%M:%S")
            .or_else(|_| chrono::NaiveTime::parse_from_str(&digest.time, "%H:%M"))
            .map_err(|_| {
                invalid(
                    "slack.digest.time",
                    format!("{:?} is not a 24-hour time like \"09:00\"", digest.time),
                )
            })?;
        let time_zone: chrono_tz::Tz = digest.time_zone.parse().map_err(|_| {
            invalid(
                "slack.digest.time_zone",
                format!(
                    "{:?} is not an IANA time zone like \"Asia/Tokyo\" or \"UTC\"",
                    digest.time_zone
                ),
            )
        })?;
        for (key, ids) in [
            ("slack.admin_user_ids", &slack.admin_user_ids),
            ("slack.responder_user_ids", &slack.responder_user_ids),
        ] {
            if let Some(bad) = ids.iter().find(|id| !is_slack_id(id)) {
                return Err(invalid(
                    key,
                    format!("{bad:?} is not a Slack user id like \"U012AB3CD\""),
                ));
            }
        }
        let alerts = &slack.alerts;
        let min_urgency: certwatch_core::Urgency = alerts.min_urgency.parse().map_err(|_| {
            invalid(
                "slack.alerts.min_urgency",
                format!(
                    "{:?}: expected \"upcoming\", \"action\", \"urgent\" or \"expired\"",
                    alerts.min_urgency
                ),
            )
        })?;
        let routes = routes::check(&slack.routes, &slack.route_by_tag, &digest.channel)?;
        let alerts_channel = if alerts.channel.is_empty() {
            digest.channel.clone()
        } else {
            alerts.channel.clone()
        };
        Ok(ServeConfig {
            scan_interval: Duration::from_secs(serve.scan_interval_minutes * 60),
            store_path: serve.store_path.clone().into(),
            listen,
            transport,
            api_url: slack.api_url.trim_end_matches('/').to_owned(),
            bot_token_env: slack.bot_token_env.clone(),
            app_token_env: slack.app_token_env.clone(),
            signing_secret_env: slack.signing_secret_env.clone(),
            admin_user_ids: slack.admin_user_ids.clone(),
            responder_user_ids: slack.responder_user_ids.clone(),
            team_id: Some(slack.team_id.clone()).filter(|t| !t.is_empty()),
            channel_ids: slack.channel_ids.clone(),
            // Where it goes is `routes.default_channel` (and each routed channel).
            digest: (!digest.channel.is_empty()).then_some(DigestConfig {
                time,
                time_zone,
                post_when_clear: digest.post_when_clear,
            }),
            alerts: (alerts.enabled && !alerts_channel.is_empty()).then_some(AlertsConfig {
                channel: alerts_channel,
                min_urgency,
            }),
            routes,
            actions: slack.actions.clone(),
        })
    }

    /// The scanner's config, or the first invalid key and why.
    pub fn scan_config(&self, path: &str) -> Result<ScanConfig, ConfigError> {
        self.check().map_err(|(key, reason)| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            reason,
        })
    }

    fn check(&self) -> Result<ScanConfig, (String, String)> {
        let org = &self.organization;
        if !is_role_name(&org.member_role_name) {
            return Err(invalid(
                "organization.member_role_name",
                "must be an IAM role name: 1-64 letters, digits or +=,.@_-",
            ));
        }
        if !(2..=64).contains(&org.session_name.len())
            || !org
                .session_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        {
            return Err(invalid(
                "organization.session_name",
                "must be 2-64 letters, digits or +=,.@_-",
            ));
        }
        if let Some(id) = &org.external_id {
            if !(2..=1224).contains(&id.len()) {
                return Err(invalid(
                    "organization.external_id",
                    "must be 2-1224 characters",
                ));
            }
        }
        for (key, ids) in [
            ("organization.accounts.include", &org.accounts.include),
            ("organization.accounts.exclude", &org.accounts.exclude),
        ] {
            if let Some(bad) = ids.iter().find(|id| !is_account_id(id)) {
                return Err(invalid(
                    key,
                    format!("{bad:?} is not an AWS account id (12 digits, as a string)"),
                ));
            }
        }

        let regions = match &self.scan.regions {
            Regions::Word(word) if word == "enabled" => RegionSelection::Enabled,
            Regions::Word(word) => {
                return Err(invalid(
                    "scan.regions",
                    format!("{word:?}: expected \"enabled\" or a list of region names"),
                ))
            }
            Regions::List(list) if list.is_empty() => {
                return Err(invalid("scan.regions", "the list is empty"))
            }
            Regions::List(list) => {
                if let Some(bad) = list.iter().find(|r| !is_region_name(r)) {
                    return Err(invalid(
                        "scan.regions",
                        format!("{bad:?} is not a region name like \"eu-west-1\""),
                    ));
                }
                RegionSelection::List(list.clone())
            }
        };
        if !(1..=4096).contains(&self.scan.max_concurrency) {
            return Err(invalid(
                "scan.max_concurrency",
                "must be between 1 and 4096",
            ));
        }
        if !(1..=300).contains(&self.scan.call_timeout_seconds) {
            return Err(invalid(
                "scan.call_timeout_seconds",
                "must be between 1 and 300",
            ));
        }
        if let Some((key, value)) = self.scan.rates.invalid() {
            return Err(invalid(
                format!("scan.rates.{key}"),
                format!("{value} is not a positive number of requests per second"),
            ));
        }

        let policy = self.policy.clone();
        policy
            .validate()
            .map_err(|e| invalid(format!("policy.{}", e.key), e.reason))?;
        let checks = self.checks.validate()?;
        // The scan learns what the routes match on, and nothing more: Organizations' quota is
        // shared with everything else the management account runs.
        let slack = &self.slack;
        let routes = routes::check(&slack.routes, &slack.route_by_tag, &slack.digest.channel)?;
        if !(1..=720).contains(&self.scan.account_metadata_hours) {
            return Err(invalid(
                "scan.account_metadata_hours",
                "must be between 1 and 720 (30 days)",
            ));
        }
        if self.scan.detail_max_age_hours > 720 {
            return Err(invalid(
                "scan.detail_max_age_hours",
                "must be between 0 (always describe) and 720 (30 days)",
            ));
        }

        Ok(ScanConfig {
            member_role_name: org.member_role_name.clone(),
            external_id: org.external_id.clone(),
            session_name: org.session_name.clone(),
            accounts: AccountFilter {
                include: org.accounts.include.clone(),
                exclude: org.accounts.exclude.clone(),
                include_own_account: org.include_management_account,
            },
            regions,
            max_concurrency: self.scan.max_concurrency,
            call_timeout: Duration::from_secs(self.scan.call_timeout_seconds),
            rates: self.scan.rates,
            policy,
            search_certificates: self.scan.search_certificates,
            checks,
            recheck_after: Duration::from_secs(self.checks.recheck_hours * 3600),
            account_metadata: certwatch_scanner::AccountMetadata {
                ou_path: routes.needs_ou_paths(),
                tags: routes.needs_tags(),
            },
            relearn_accounts_after: Duration::from_secs(self.scan.account_metadata_hours * 3600),
            detail_max_age: Duration::from_secs(self.scan.detail_max_age_hours * 3600),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<ScanConfig, String> {
        FileConfig::parse(text, "test.toml")
            .map_err(|e| e.to_string())?
            .scan_config("test.toml")
            .map_err(|e| e.to_string())
    }

    #[test]
    fn empty_file_means_defaults() {
        let c = check("").unwrap();
        assert_eq!(c.member_role_name, "OrganizationAccountAccessRole");
        assert_eq!(c.regions, RegionSelection::Enabled);
        assert!(c.accounts.include_own_account);
        assert_eq!(c.policy, Policy::default());
    }

    #[test]
    fn example_parses_and_lists_every_key() {
        let text = include_str!("../../config/example.toml");
        let parsed = check(text).expect("config/example.toml is valid");
        assert_eq!(parsed.regions, RegionSelection::Enabled);
        // Every key the program knows must be documented in the example.
        let example: toml::Table = toml::from_str(text).unwrap();
        let defaults = toml::Table::try_from(FileConfig {
            organization: Organization {
                external_id: Some("x".into()),
                ..Organization::default()
            },
            ..FileConfig::default()
        })
        .unwrap();
        fn missing(prefix: &str, want: &toml::Table, have: &toml::Table, out: &mut Vec<String>) {
            for (key, value) in want {
                let path = format!("{prefix}{key}");
                match (value, have.get(key)) {
                    (toml::Value::Table(w), Some(toml::Value::Table(h))) => {
                        missing(&format!("{path}."), w, h, out)
                    }
                    (_, None) => out.push(path),
                    _ => {}
                }
            }
        }
        let mut absent = Vec::new();
        missing("", &defaults, &example, &mut absent);
        // external_id is optional and documented commented out.
        absent.retain(|k| k != "organization.external_id");
        assert!(
            absent.is_empty(),
            "keys missing from config/example.toml: {absent:?}"
        );
        assert!(text.contains("# external_id"));
    }

    /// "The values below are the defaults": config/example.toml states each default, and the
    /// file model takes them from the library configs (`ScanConfig`, `ProbeConfig`, `Policy`,
    /// `Rates`), so the example, the file model and the libraries agree.
    #[test]
    fn example_values_are_the_defaults() {
        let text = include_str!("../../config/example.toml");
        let example = FileConfig::parse(text, "config/example.toml").expect("valid");
        assert_eq!(example, FileConfig::default());
        let scan = example.scan_config("config/example.toml").expect("valid");
        let library = ScanConfig::default();
        assert_eq!(
            (
                &scan.member_role_name,
                &scan.session_name,
                &scan.accounts,
                &scan.regions,
                scan.max_concurrency,
                scan.call_timeout,
                scan.search_certificates,
                scan.recheck_after,
                scan.relearn_accounts_after,
                scan.detail_max_age,
                &scan.policy,
                scan.rates,
            ),
            (
                &library.member_role_name,
                &library.session_name,
                &library.accounts,
                &library.regions,
                library.max_concurrency,
                library.call_timeout,
                library.search_certificates,
                library.recheck_after,
                library.relearn_accounts_after,
                library.detail_max_age,
                &library.policy,
                library.rates,
            )
        );
        // The file turns the checks on, which the library leaves off; with the probe's values.
        assert_eq!(scan.checks, Some(ProbeConfig::default()));
    }

    #[test]
    fn errors_name_the_key() {
        for (text, wanted) in [
            ("[scan]\nregionz = []", "unknown field `regionz`"),
            ("[scan]\nregions = \"all\"", "scan.regions: \"all\""),
            ("[scan]\nregions = []", "scan.regions: the list is empty"),
            (
                "[scan]\nregions = [\"eu-wst\"]",
                "scan.regions: \"eu-wst\" is not a region",
            ),
            ("[scan]\nmax_concurrency = 0", "scan.max_concurrency"),
            (
                "[scan.rates]\nlist_certificates = -1.0",
                "scan.rates.list_certificates",
            ),
            (
                "[organization]\nmember_role_name = \"bad role\"",
                "organization.member_role_name",
            ),
            (
                "[organization.accounts]\ninclude = [\"1234\"]",
                "organization.accounts.include: \"1234\"",
            ),
            (
                "[policy]\nurgent_days = 50",
                "policy.action_days: must be at least urgent_days",
            ),
            ("[policy]\nurgent_days = \"7\"", "invalid type"),
            (
                "[checks]\nnameservers = [\"dns.example\"]",
                "checks.nameservers: \"dns.example\" is not a nameserver address",
            ),
            ("[checks]\ntls_port = 0", "checks.tls_port"),
            ("[checks]\ntls_port = 70000", "checks.tls_port"),
            ("[checks]\ntimeout_seconds = 0", "checks.timeout_seconds"),
            ("[checks]\nmax_concurrency = 0", "checks.max_concurrency"),
            (
                "[checks]\nqueries_per_second = 0.0",
                "checks.queries_per_second: 0 is not a positive",
            ),
            ("[checks]\ndnss = true", "unknown field `dnss`"),
            ("[checks]\nrecheck_hours = 0", "checks.recheck_hours"),
        ] {
            let err = check(text).expect_err(text);
            assert!(
                err.contains(wanted),
                "{text:?} gave {err:?}, wanted {wanted:?}"
            );
            assert!(err.starts_with("test.toml"), "{err}");
        }
        // toml gives no place for a key nested too deep; the loader finds its line.
        let deep = format!("[scan]\n{} = 1", vec!["a"; 100].join("."));
        let err = check(&deep).expect_err("too deep");
        assert!(
            err.starts_with("test.toml: TOML parse error at line 2: recursion limit"),
            "{err}"
        );
    }

    #[test]
    fn serve_settings_are_checked() {
        let serve = |text: &str| {
            FileConfig::parse(text, "t.toml")
                .and_then(|c| c.serve_config("t.toml"))
                .map_err(|e| e.to_string())
        };
        let c = serve("").unwrap();
        assert_eq!(c.transport, Transport::Socket);
        assert!(c.digest.is_none(), "no channel, no digest");
        let c =
            serve("[slack.digest]\nchannel = \"C1\"\ntime = \"07:30\"\ntime_zone = \"Asia/Tokyo\"")
                .unwrap();
        let d = c.digest.unwrap();
        assert_eq!(
            (d.time.to_string().as_str(), d.time_zone.name()),
            ("07:30:00", "Asia/Tokyo")
        );
        for (text, wanted) in [
            ("[slack.digest]\ntime = \"9am\"", "slack.digest.time"),
            (
                "[slack.digest]\ntime_zone = \"Mars/Olympus\"",
                "slack.digest.time_zone",
            ),
            ("[slack]\ntransport = \"carrier-pigeon\"", "slack.transport"),
            (
                "[slack]\nbot_token_env = \"xoxb-123\"",
                "slack.bot_token_env",
            ),
            (
                "[serve]\nscan_interval_minutes = 1",
                "serve.scan_interval_minutes",
            ),
            ("[serve]\nlisten = \"localhost\"", "serve.listen"),
            (
                "[slack]\nbot_token = \"xoxb-1\"",
                "unknown field `bot_token`",
            ),
        ] {
            let err = serve(text).expect_err(text);
            assert!(err.contains(wanted), "{text:?}: {err}");
        }
    }

    #[test]
    fn checks_settings() {
        let c = check("").unwrap().checks.expect("checks are on by default");
        assert!(c.dns && c.tls);
        assert!(c.nameservers.is_empty(), "the system resolver");
        assert_eq!(c.tls_port, 443);
        let c = check(
            "[checks]\ntls = false\nnameservers = [\"127.0.0.1:5353\", \"9.9.9.9\", \"[::1]:53\"]\n\
             tls_port = 8443\ntimeout_seconds = 2\nqueries_per_second = 50.0",
        )
        .unwrap()
        .checks
        .unwrap();
        assert!(c.dns && !c.tls);
        assert_eq!(
            c.nameservers,
            ["127.0.0.1:5353", "9.9.9.9:53", "[::1]:53"].map(|a| a.parse().unwrap())
        );
        assert_eq!(
            (c.tls_port, c.timeout, c.queries_per_second),
            (8443, Duration::from_secs(2), 50.0)
        );
        let off = check("[checks]\ndns = false\ntls = false").unwrap();
        assert!(off.checks.is_none());
    }

    #[test]
    fn region_list_and_filters() {
        let c = check(
            "[organization]\ninclude_management_account = false\n\
             [organization.accounts]\nexclude = [\"111122223333\"]\n\
             [scan]\nregions = [\"eu-west-1\", \"us-gov-west-1\"]",
        )
        .unwrap();
        assert_eq!(
            c.regions,
            RegionSelection::List(vec!["eu-west-1".into(), "us-gov-west-1".into()])
        );
        assert!(!c.accounts.include_own_account);
        assert_eq!(c.accounts.exclude, ["111122223333"]);
    }

    /// Property tests: whatever the file holds, loading it (parsing, then checking the scan and
    /// serve settings) answers Ok or an error that names a key or a line, and never panics.
    mod props {
        use super::*;
        use proptest::collection::vec;
        use proptest::prelude::*;
        use proptest::sample::select;
        use toml::Value;

        /// Loads `text` the way `certwatch` does, every check included.
        fn load(text: &str) -> Result<FileConfig, ConfigError> {
            let file = FileConfig::parse(text, "test.toml")?;
            file.scan_config("test.toml")?;
            file.serve_config("test.toml")?;
            Ok(file)
        }

        /// A valid file with every key set: the defaults, external_id included.
        fn full_defaults() -> toml::Table {
            let mut slack = SlackFile::default();
            // A route with every key, and the default channel routing needs.
            slack.digest.channel = "C0DIGEST01".into();
            slack.routes = vec![RouteFile {
                name: "payments".into(),
                channel: "C0PAYMENT1".into(),
                accounts: vec!["111111111111".into()],
                ous: vec!["Root/Payments".into()],
                account_tag: Some(routes::TagFile {
                    key: "team".into(),
                    value: "payments".into(),
                }),
            }];
            toml::Table::try_from(FileConfig {
                organization: Organization {
                    external_id: Some("certwatch-0f3c".into()),
                    ..Organization::default()
                },
                slack,
                ..FileConfig::default()
            })
            .expect("the defaults serialize")
        }

        /// The path of every table, key and array-of-tables element of the file model, read
        /// from the model itself (so a new key is covered without touching this test).
        fn key_paths() -> Vec<Vec<String>> {
            fn walk(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
                let children: Vec<(String, &Value)> = match value {
                    Value::Table(table) => table.iter().map(|(k, v)| (k.clone(), v)).collect(),
                    Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| v.is_table())
                        .map(|(i, v)| (i.to_string(), v))
                        .collect(),
                    _ => Vec::new(),
                };
                for (key, child) in children {
                    prefix.push(key);
                    out.push(prefix.clone());
                    walk(child, prefix, out);
                    prefix.pop();
                }
            }
            let mut out = Vec::new();
            walk(&Value::Table(full_defaults()), &mut Vec::new(), &mut out);
            out
        }

        /// The key names of the model, for tables and perturbed documents.
        fn key_names() -> Vec<String> {
            let mut names: Vec<String> = key_paths()
                .into_iter()
                .filter_map(|p| p.last().cloned())
                .filter(|k| k.parse::<usize>().is_err())
                .collect();
            names.sort();
            names.dedup();
            names
        }

        /// Sets `path` in `doc` to `value`, making tables on the way; false when the path
        /// goes through a value that is not a table (or an array element that is not there).
        fn set(doc: &mut Value, path: &[String], value: Value) -> bool {
            let mut here = doc;
            for key in path {
                let next = match here {
                    Value::Table(table) => Some(
                        table
                            .entry(key.clone())
                            .or_insert_with(|| Value::Table(toml::Table::new())),
                    ),
                    Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
                    _ => None,
                };
                let Some(next) = next else {
                    return false;
                };
                here = next;
            }
            *here = value;
            true
        }

        const STRINGS: &[&str] = &[
            "",
            " ",
            "enabled",
            "us-east-1",
            "us-gov-west-1",
            "eu-wst",
            "123456789012",
            "1234",
            "OrganizationAccountAccessRole",
            "bad role",
            "09:00",
            "23:59:59",
            "24:00",
            "9am",
            "UTC",
            "Asia/Tokyo",
            "Mars/Olympus",
            "socket",
            "http",
            "https://slack.com/api",
            "ftp://x",
            "127.0.0.1:8080",
            "[::1]:53",
            "9.9.9.9",
            "localhost",
            "SLACK_BOT_TOKEN",
            "xoxb-1",
            "\u{0}",
            "\u{130}",
            "\u{1f512}",
        ];

        const INTEGERS: &[i64] = &[
            0,
            1,
            -1,
            2,
            4,
            5,
            7,
            45,
            60,
            61,
            64,
            300,
            301,
            720,
            4096,
            4097,
            10_080,
            65_535,
            65_536,
            u32::MAX as i64 + 1,
            i64::MAX,
            i64::MIN,
        ];

        const FLOATS: &[f64] = &[
            0.0,
            -0.0,
            0.5,
            1.0,
            100_000.0,
            100_000.5,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];

        const DATETIMES: &[&str] = &[
            "1979-05-27T07:32:00Z",
            "1979-05-27T00:32:00.999999-07:00",
            "1979-05-27T07:32:00",
            "1979-05-27",
            "07:32:00",
        ];

        /// A TOML value of any type, biased to the edges of what the keys accept.
        fn toml_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                any::<i64>().prop_map(Value::Integer),
                select(INTEGERS).prop_map(Value::Integer),
                any::<f64>().prop_map(Value::Float),
                select(FLOATS).prop_map(Value::Float),
                any::<bool>().prop_map(Value::Boolean),
                any::<String>().prop_map(Value::String),
                select(STRINGS).prop_map(|s| Value::String(s.to_owned())),
                select(DATETIMES).prop_map(|s| Value::Datetime(s.parse().expect("a datetime"))),
            ];
            let names = key_names();
            leaf.prop_recursive(3, 24, 4, move |inner| {
                let key = prop_oneof![select(names.clone()), "[a-z_]{1,8}", any::<String>()];
                prop_oneof![
                    vec(inner.clone(), 0..4).prop_map(Value::Array),
                    vec((key, inner), 0..4)
                        .prop_map(|entries| Value::Table(entries.into_iter().collect())),
                ]
            })
        }

        const FRAGMENTS: &[&str] = &[
            "1",
            "-1",
            "1e400",
            "nan",
            "-inf",
            "0x7f",
            "1_000",
            "007",
            "true",
            "\"\"",
            "\"x\"",
            "'x'",
            "\"\"\"",
            "'''",
            "[",
            "]",
            "[]",
            "{",
            "}",
            "{}",
            ",",
            "=",
            ".",
            "\"\\u0000\"",
            "\"\\q\"",
            "1979-05-27",
            "99999999999999999999",
            "[[policy.renewal_windows]]",
            "#",
            "\n",
        ];

        /// Text made of real section headers, real keys and TOML fragments, right or wrong.
        fn toml_like_text() -> impl Strategy<Value = String> {
            let sections: Vec<String> = key_paths()
                .into_iter()
                .filter(|p| p.iter().all(|k| k.parse::<usize>().is_err()))
                .map(|p| p.join("."))
                .collect();
            let line = prop_oneof![
                select(sections.clone()).prop_map(|s| format!("[{s}]")),
                select(sections).prop_map(|s| format!("[[{s}]]")),
                (select(key_names()), vec(select(FRAGMENTS), 1..4))
                    .prop_map(|(k, v)| format!("{k} = {}", v.concat())),
                vec(
                    prop_oneof![select(FRAGMENTS).prop_map(str::to_owned), "[a-z_]{1,8}"],
                    0..6
                )
                .prop_map(|parts| parts.concat()),
            ];
            vec(line, 0..10).prop_map(|lines| lines.join("\n"))
        }

        /// An error points at a line (TOML errors) or names a key (checks); `perturbed`, when
        /// given, is the key that was changed, and a check's error must be about it.
        fn explains(
            error: &ConfigError,
            perturbed: Option<&[String]>,
        ) -> Result<(), TestCaseError> {
            let text = error.to_string();
            match error {
                ConfigError::Parse { message, .. } => {
                    prop_assert!(message.contains("line"), "no line in {text:?}");
                }
                ConfigError::Invalid { key, .. } => {
                    let known: Vec<String> = key_paths().iter().map(|p| p.join(".")).collect();
                    // `slack.routes[2].channel` is the path slack.routes.2.channel; every
                    // element of an array of tables has the keys of the first.
                    let key = &key.replace('[', ".").replace(']', "");
                    let first = key
                        .split('.')
                        .map(|part| {
                            if part.parse::<usize>().is_ok() {
                                "0"
                            } else {
                                part
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(".");
                    prop_assert!(
                        known.contains(key) || known.contains(&first),
                        "{key:?} is not a key, in {text:?}"
                    );
                    if let Some(path) = perturbed {
                        let named: Vec<&str> = path
                            .iter()
                            .map(String::as_str)
                            .filter(|k| k.parse::<usize>().is_err())
                            .collect();
                        let dotted = named.join(".");
                        let leaf = named.last().copied().unwrap_or_default();
                        // The changed key itself, a key inside a changed table, the array
                        // holding a changed element, or (urgent_days) the key it must agree with.
                        prop_assert!(
                            key.starts_with(&dotted)
                                || dotted.starts_with(key.as_str())
                                || text.contains(leaf),
                            "changed {dotted:?}, error names {key:?}: {text:?}"
                        );
                    }
                }
                ConfigError::Read { .. } => prop_assert!(false, "nothing is read: {text:?}"),
            }
            Ok(())
        }

        /// A loaded file written back as TOML loads as the same file.
        fn saves_and_loads_back(file: &FileConfig) -> Result<(), TestCaseError> {
            let saved = toml::to_string(file).expect("the model serializes");
            let again = FileConfig::parse(&saved, "saved.toml")
                .map_err(|e| TestCaseError::fail(format!("{e}\n{saved}")))?;
            // Compared as text: a NaN is never equal to itself.
            prop_assert_eq!(toml::to_string(&again).ok(), Some(saved));
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn any_text_loads_or_explains(text in any::<String>()) {
                if let Err(e) = load(&text) {
                    explains(&e, None)?;
                }
            }

            #[test]
            fn toml_like_text_loads_or_explains(text in toml_like_text()) {
                if let Err(e) = load(&text) {
                    explains(&e, None)?;
                }
            }

            /// Documents of real keys holding values of any type; what loads, saves and loads
            /// back the same.
            #[test]
            fn real_keys_with_any_values(
                entries in vec((select(key_paths()), toml_value()), 0..8),
            ) {
                let mut doc = Value::Table(toml::Table::new());
                for (path, value) in entries {
                    set(&mut doc, &path, value);
                }
                let text = toml::to_string(&doc).expect("a table serializes");
                match load(&text) {
                    Ok(file) => saves_and_loads_back(&file)?,
                    Err(e) => explains(&e, None)?,
                }
            }

            /// A valid file with one key changed to anything: it loads, or the error is about
            /// that key (or points at a line).
            #[test]
            fn one_changed_key_is_named(
                path in select(key_paths()),
                value in toml_value(),
            ) {
                let mut doc = Value::Table(full_defaults());
                prop_assert!(set(&mut doc, &path, value));
                let text = toml::to_string(&doc).expect("a table serializes");
                match load(&text) {
                    Ok(file) => saves_and_loads_back(&file)?,
                    Err(e) => explains(&e, Some(&path))?,
                }
            }
        }

        /// Nesting far deeper than any file: an error, not a stack overflow.
        #[test]
        fn deep_nesting_is_an_error() {
            let depth = 100_000;
            for text in [
                format!("x = {}{}", "[".repeat(depth), "]".repeat(depth)),
                format!("x = {}{}", "{ a = ".repeat(depth), "}".repeat(depth)),
                format!("{} = 1", vec!["a"; depth].join(".")),
                format!("[{}]", vec!["a"; depth].join(".")),
            ] {
                let error = load(&text).expect_err("too deep").to_string();
                let first = error.lines().next().unwrap_or_default();
                assert!(first.contains("line 1"), "{first}");
            }
        }
    }
}
