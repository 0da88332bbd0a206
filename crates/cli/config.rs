//! The configuration file: a model that mirrors the TOML (unknown keys are errors), and
//! `validate()` that turns it into the checked config each component takes. Errors name the key.
//! Secrets never live here: they come from the environment.

use certwatch_core::{Policy, RenewalWindow};
use certwatch_scanner::{AccountFilter, Rates, RegionSelection, ScanConfig};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    pub organization: Organization,
    pub scan: Scan,
    pub policy: PolicyFile,
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
    fn default() -> Self {
        Organization {
            member_role_name: "OrganizationAccountAccessRole".to_owned(),
            external_id: None,
            session_name: "certwatch".to_owned(),
            include_management_account: true,
            accounts: Accounts::default(),
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
    pub rates: Rates,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            regions: Regions::Word("enabled".to_owned()),
            max_concurrency: 64,
            call_timeout_seconds: 10,
            rates: Rates::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyFile {
    pub urgent_days: i64,
    pub action_days: i64,
    pub renewal_windows: Vec<RenewalWindow>,
    pub private_renewal_days: i64,
    pub renewal_grace_days: i64,
    pub stalled_after_hours: i64,
    pub request_stuck_hours: i64,
}

impl Default for PolicyFile {
    fn default() -> Self {
        let p = Policy::default();
        PolicyFile {
            urgent_days: p.urgent_days,
            action_days: p.action_days,
            renewal_windows: p.renewal_windows,
            private_renewal_days: p.private_renewal_days,
            renewal_grace_days: p.renewal_grace_days,
            stalled_after_hours: p.stalled_after_hours,
            request_stuck_hours: p.request_stuck_hours,
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

/// IAM role names: 1–64 of letters, digits and `+=,.@_-`.
fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

impl FileConfig {
    pub fn parse(text: &str, path: &str) -> Result<FileConfig, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
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

        let p = &self.policy;
        let policy = Policy {
            urgent_days: p.urgent_days,
            action_days: p.action_days,
            renewal_windows: p.renewal_windows.clone(),
            private_renewal_days: p.private_renewal_days,
            renewal_grace_days: p.renewal_grace_days,
            stalled_after_hours: p.stalled_after_hours,
            request_stuck_hours: p.request_stuck_hours,
        };
        policy
            .validate()
            .map_err(|e| invalid(format!("policy.{}", e.key), e.reason))?;

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
        ] {
            let err = check(text).expect_err(text);
            assert!(
                err.contains(wanted),
                "{text:?} gave {err:?}, wanted {wanted:?}"
            );
            assert!(err.starts_with("test.toml"), "{err}");
        }
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
}
