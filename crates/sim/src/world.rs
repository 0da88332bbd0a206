//! The resolved organization: a [`Scenario`] with every default applied, every
//! relative date turned into an instant, every ARN and validation record derived.
//!
//! The services read only this; they never look at the scenario file model. All
//! semantic checks of a scenario happen here, while resolving, so whatever resolves
//! can be served.

use crate::ids;
use crate::regions::{self, RegionKind};
use crate::scenario::{
    AccountSpec, CertificateSpec, NetworkSpec, OrganizationalUnitSpec, RegionFaults, RenewalSpec,
    Scenario, ScenarioError,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A fixed clock for [`Scenario::validate`]: validity does not depend on `now`.
fn validation_clock() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// The ACM operations `services::acm` serves, which are also the actions a scenario's
/// `denied_actions` may name (as `acm:<operation>`).
pub const ACM_OPERATIONS: &[&str] = &[
    "ListCertificates",
    "SearchCertificates",
    "DescribeCertificate",
    "ListTagsForCertificate",
    "ResendValidationEmail",
];

pub const DEFAULT_MEMBER_ROLES: &[&str] = &["OrganizationAccountAccessRole", "certwatch-read-only"];
pub const DEFAULT_MANAGEMENT_ROLES: &[&str] = &["certwatch-read-only"];

// Defined here rather than in `scenario` (the file model) because checking a
// scenario is resolving it.
impl Scenario {
    /// Parses and checks a scenario.
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// The built-in demo organization: `scenarios/demo.toml`.
    pub fn demo() -> Scenario {
        // The file is compiled in and checked by a test, so failing here is a bug in
        // this crate, not an input error.
        Scenario::from_toml(Scenario::demo_toml()).expect("the built-in demo scenario is valid")
    }

    /// Runs every semantic check (they live in the resolver, so a scenario that
    /// validates always serves).
    pub fn validate(&self) -> Result<(), ScenarioError> {
        World::resolve(self, validation_clock()).map(|_| ())
    }
}

#[derive(Debug, Clone)]
pub struct World {
    pub now: DateTime<Utc>,
    pub org_enabled: bool,
    pub org_id: String,
    pub feature_set: String,
    pub management: String,
    /// The root's id (`r-…`): the parent of every account and OU not placed elsewhere.
    pub root_id: String,
    /// Regions of the partition, sorted by name.
    pub regions: Vec<String>,
    /// In scenario order (an OU's parent comes before it).
    pub units: Vec<OrgUnit>,
    /// In scenario order.
    pub accounts: Vec<Account>,
    /// `[network]`: whether DNS and TLS are served, and the CAA records.
    pub network: Network,
    account_index: HashMap<String, usize>,
    unit_index: HashMap<String, usize>,
    /// ARN → (account index, certificate index).
    certificate_index: HashMap<String, (usize, usize)>,
}

/// The simulated world's settings (`[network]`); the certificates carry their own part.
#[derive(Debug, Clone, Default)]
pub struct Network {
    pub enabled: bool,
    /// By name, each name's records in the order given.
    pub caa: Vec<CaaProperty>,
}

/// One CAA record, parsed from `flags tag "value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaaProperty {
    pub name: String,
    pub flags: u8,
    pub tag: String,
    pub value: String,
}

/// Whether the zone has a certificate's validation CNAMEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationRecord {
    Present,
    Missing,
    /// A CNAME with another value than ACM's.
    Wrong,
}

/// What the endpoint of a certificate's names serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// ACM's copy, on 127.0.0.1.
    Current,
    /// An older copy, on 127.0.0.1.
    Stale {
        serial: String,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    },
    /// The names resolve to 127.0.0.2, where nothing listens.
    Unreachable,
    /// The names get no address.
    None,
}

/// An organizational unit.
#[derive(Debug, Clone)]
pub struct OrgUnit {
    pub id: String,
    pub name: String,
    pub arn: String,
    /// The root's id or another OU's.
    pub parent: String,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    pub arn: String,
    /// The root's id or an OU's: what `ListParents` answers.
    pub parent: String,
    /// `ListTagsForResource`'s answer, by key.
    pub tags: BTreeMap<String, String>,
    pub state: String,
    pub joined_method: String,
    pub joined_at: DateTime<Utc>,
    /// Enabled regions (default-enabled ones of the partition plus enabled opt-ins).
    pub enabled_regions: BTreeSet<String>,
    pub roles: Vec<String>,
    pub external_id: Option<String>,
    pub trusted_accounts: Vec<String>,
    pub max_session_seconds: i64,
    pub deny_assume_role: bool,
    /// IAM actions refused to every principal of the account, canonical
    /// (`acm:SearchCertificates`).
    pub denied_actions: BTreeSet<String>,
    pub faults: BTreeMap<String, RegionFaults>,
    /// In scenario order, which is also `ListCertificates` order.
    pub certificates: Vec<Certificate>,
}

impl Account {
    /// The legacy `Status` (ACTIVE | SUSPENDED | PENDING_CLOSURE) for the new `State`.
    pub fn legacy_status(&self) -> Option<&'static str> {
        match self.state.as_str() {
            "ACTIVE" | "PENDING_ACTIVATION" => Some("ACTIVE"),
            // The legacy field never had CLOSED: closed accounts showed as SUSPENDED.
            "SUSPENDED" | "CLOSED" => Some("SUSPENDED"),
            "PENDING_CLOSURE" => Some("PENDING_CLOSURE"),
            _ => None,
        }
    }

    pub fn region_enabled(&self, region: &str) -> bool {
        self.enabled_regions.contains(region)
    }

    pub fn region_faults(&self, region: &str) -> Option<&RegionFaults> {
        self.faults.get(region)
    }

    /// Whether IAM refuses `action` (`service:Operation`, canonical case) to the
    /// account's principals.
    pub fn denies(&self, action: &str) -> bool {
        self.denied_actions.contains(action)
    }
}

#[derive(Debug, Clone)]
pub struct Certificate {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub domain: String,
    /// Every SAN, `domain` first, no duplicates.
    pub sans: Vec<String>,
    pub cert_type: String,
    pub status: String,
    pub key_algorithm: String,
    pub signature_algorithm: String,
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    pub created_at: DateTime<Utc>,
    pub issued_at: Option<DateTime<Utc>>,
    pub imported_at: Option<DateTime<Utc>>,
    pub not_before: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revocation_reason: Option<String>,
    pub in_use_by: Vec<String>,
    pub exported: bool,
    pub export_option: String,
    pub managed_by: Option<String>,
    pub renewal_eligibility: String,
    pub failure_reason: Option<String>,
    pub certificate_authority_arn: Option<String>,
    pub key_pair_origin: String,
    pub transparency_logging: String,
    pub key_usages: Vec<&'static str>,
    /// (name, OID)
    pub extended_key_usages: Vec<(&'static str, &'static str)>,
    pub validation: Vec<DomainValidation>,
    pub renewal: Option<Renewal>,
    pub tags: BTreeMap<String, String>,
    /// What the simulated world shows of it (used when `[network]` is enabled).
    pub validation_record: ValidationRecord,
    pub resolves: bool,
    pub endpoint: Endpoint,
}

impl Certificate {
    pub fn in_use(&self) -> bool {
        !self.in_use_by.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct DomainValidation {
    pub domain: String,
    pub validation_domain: String,
    pub method: String,
    pub status: String,
    pub emails: Vec<String>,
    /// (Name, Value) of the CNAME.
    pub record: Option<(String, String)>,
    /// (RedirectFrom, RedirectTo).
    pub redirect: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Renewal {
    pub status: String,
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub validation: Vec<DomainValidation>,
}

impl World {
    /// Resolves `scenario` against `now`, checking it on the way.
    pub fn resolve(scenario: &Scenario, now: DateTime<Utc>) -> Result<World, ScenarioError> {
        let org = &scenario.organization;
        let management = org.management_account_id.clone();
        check_account_id("organization.management_account_id", &management)?;

        let regions = match &org.regions {
            None => regions::all().into_iter().map(str::to_owned).collect(),
            Some(list) => {
                let mut seen = BTreeSet::new();
                for (i, region) in list.iter().enumerate() {
                    if regions::kind(region).is_none() {
                        return Err(ScenarioError::invalid(
                            format!("organization.regions[{i}]"),
                            format!("{region:?} is not a known AWS commercial region"),
                        ));
                    }
                    if !seen.insert(region.clone()) {
                        return Err(ScenarioError::invalid(
                            format!("organization.regions[{i}]"),
                            format!("{region:?} is listed twice"),
                        ));
                    }
                }
                if seen.is_empty() {
                    return Err(ScenarioError::invalid(
                        "organization.regions",
                        "must not be empty",
                    ));
                }
                seen.into_iter().collect::<Vec<_>>()
            }
        };
        let org_id = match &org.id {
            Some(id) => {
                let ok = id.len() >= 12
                    && id.starts_with("o-")
                    && id[2..]
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
                if !ok {
                    return Err(ScenarioError::invalid(
                        "organization.id",
                        format!("{id:?} is not an organization id (o- followed by at least 10 lowercase letters or digits)"),
                    ));
                }
                id.clone()
            }
            None => ids::organization_id(&management),
        };
        let root_id = match &org.root_id {
            Some(id) => {
                let ok = id
                    .strip_prefix("r-")
                    .is_some_and(|rest| lower_alnum(rest, 4..=32));
                if !ok {
                    return Err(ScenarioError::invalid(
                        "organization.root_id",
                        format!("{id:?} is not a root id (r- followed by 4 to 32 lowercase letters or digits)"),
                    ));
                }
                id.clone()
            }
            None => ids::root_id(&org_id),
        };

        let mut world = World {
            now,
            org_enabled: org.enabled.unwrap_or(true),
            feature_set: org.feature_set.clone().unwrap_or_else(|| "ALL".to_owned()),
            management: management.clone(),
            root_id,
            units: Vec::with_capacity(scenario.organizational_units.len()),
            regions,
            accounts: Vec::with_capacity(scenario.accounts.len()),
            network: match &scenario.network {
                Some(spec) => resolve_network(spec)?,
                None => Network::default(),
            },
            account_index: HashMap::new(),
            unit_index: HashMap::new(),
            certificate_index: HashMap::new(),
            org_id,
        };

        for (i, spec) in scenario.organizational_units.iter().enumerate() {
            let unit = world.resolve_unit(&format!("organizational_units[{i}]"), spec)?;
            world.unit_index.insert(unit.id.clone(), i);
            world.units.push(unit);
        }

        for (i, spec) in scenario.accounts.iter().enumerate() {
            let account = world.resolve_account(&format!("accounts[{i}]"), spec)?;
            if world.account_index.insert(account.id.clone(), i).is_some() {
                return Err(ScenarioError::invalid(
                    format!("accounts[{i}].id"),
                    format!("account {} is listed twice", account.id),
                ));
            }
            for (j, certificate) in account.certificates.iter().enumerate() {
                if world
                    .certificate_index
                    .insert(certificate.arn.clone(), (i, j))
                    .is_some()
                {
                    return Err(ScenarioError::invalid(
                        format!("accounts[{i}].certificates[{j}].id"),
                        format!("two certificates have the ARN {}", certificate.arn),
                    ));
                }
            }
            world.accounts.push(account);
        }
        if !world.account_index.contains_key(&management) {
            return Err(ScenarioError::invalid(
                "organization.management_account_id",
                format!("{management} is not one of the [[accounts]]"),
            ));
        }
        for (i, account) in world.accounts.iter().enumerate() {
            for (j, trusted) in account.trusted_accounts.iter().enumerate() {
                if !world.account_index.contains_key(trusted) {
                    return Err(ScenarioError::invalid(
                        format!("accounts[{i}].trusted_accounts[{j}]"),
                        format!("{trusted} is not one of the [[accounts]]"),
                    ));
                }
            }
        }
        Ok(world)
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.account_index.get(id).map(|&i| &self.accounts[i])
    }

    pub fn unit(&self, id: &str) -> Option<&OrgUnit> {
        self.unit_index.get(id).map(|&i| &self.units[i])
    }

    pub fn certificate(&self, arn: &str) -> Option<&Certificate> {
        self.certificate_index
            .get(arn)
            .map(|&(i, j)| &self.accounts[i].certificates[j])
    }

    pub fn account_arn(&self, account: &str) -> String {
        format!(
            "arn:aws:organizations::{}:account/{}/{account}",
            self.management, self.org_id
        )
    }

    /// Whether `id` can be a parent: the root, or an OU resolved already (listed above).
    fn is_parent(&self, id: &str) -> bool {
        id == self.root_id || self.unit_index.contains_key(id)
    }

    fn resolve_unit(
        &self,
        key: &str,
        spec: &OrganizationalUnitSpec,
    ) -> Result<OrgUnit, ScenarioError> {
        let id = &spec.id;
        let ok = id
            .strip_prefix("ou-")
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(root, unit)| lower_alnum(root, 4..=32) && lower_alnum(unit, 8..=32));
        if !ok {
            return Err(ScenarioError::invalid(
                format!("{key}.id"),
                format!("{id:?} is not an OU id (ou-, 4 to 32 lowercase letters or digits, -, 8 to 32 more)"),
            ));
        }
        if self.unit_index.contains_key(id) {
            return Err(ScenarioError::invalid(
                format!("{key}.id"),
                format!("the OU {id} is listed twice"),
            ));
        }
        if !(1..=128).contains(&spec.name.chars().count()) {
            return Err(ScenarioError::invalid(
                format!("{key}.name"),
                "must be 1 to 128 characters",
            ));
        }
        let parent = spec.parent.clone().unwrap_or_else(|| self.root_id.clone());
        if !self.is_parent(&parent) {
            return Err(ScenarioError::invalid(
                format!("{key}.parent"),
                format!(
                    "{parent:?} is neither the root ({}) nor an OU listed above this one",
                    self.root_id
                ),
            ));
        }
        Ok(OrgUnit {
            id: id.clone(),
            name: spec.name.clone(),
            arn: format!(
                "arn:aws:organizations::{}:ou/{}/{id}",
                self.management, self.org_id
            ),
            parent,
        })
    }

    fn resolve_account(&self, key: &str, spec: &AccountSpec) -> Result<Account, ScenarioError> {
        check_account_id(&format!("{key}.id"), &spec.id)?;
        if spec.name.trim().is_empty() {
            return Err(ScenarioError::invalid(
                format!("{key}.name"),
                "must not be empty",
            ));
        }
        let is_management = spec.id == self.management;

        let mut enabled_regions: BTreeSet<String> = self
            .regions
            .iter()
            .filter(|r| regions::kind(r) == Some(RegionKind::DefaultEnabled))
            .cloned()
            .collect();
        for (i, region) in spec.opt_in_regions.iter().enumerate() {
            let key = format!("{key}.opt_in_regions[{i}]");
            match regions::kind(region) {
                Some(RegionKind::OptIn) if self.regions.contains(region) => {
                    enabled_regions.insert(region.clone());
                }
                Some(RegionKind::OptIn) => {
                    return Err(ScenarioError::invalid(
                        key,
                        format!("{region:?} is not in organization.regions"),
                    ))
                }
                Some(RegionKind::DefaultEnabled) => {
                    return Err(ScenarioError::invalid(
                        key,
                        format!(
                        "{region:?} is enabled by default in every account, not an opt-in region"
                    ),
                    ))
                }
                None => {
                    return Err(ScenarioError::invalid(
                        key,
                        format!("{region:?} is not a known AWS commercial region"),
                    ))
                }
            }
        }
        for region in spec.faults.keys() {
            if !self.regions.contains(region) {
                return Err(ScenarioError::invalid(
                    format!("{key}.faults.{region}"),
                    format!("{region:?} is not in organization.regions"),
                ));
            }
        }

        let mut denied_actions = BTreeSet::new();
        for (i, action) in spec.denied_actions.iter().enumerate() {
            // IAM action names are case-insensitive; the simulator keeps AWS's spelling.
            let operation = action.split_once(':').and_then(|(service, name)| {
                if !service.eq_ignore_ascii_case("acm") {
                    return None;
                }
                ACM_OPERATIONS
                    .iter()
                    .find(|op| op.eq_ignore_ascii_case(name))
            });
            match operation {
                Some(operation) => {
                    denied_actions.insert(format!("acm:{operation}"));
                }
                None => {
                    return Err(ScenarioError::invalid(
                        format!("{key}.denied_actions[{i}]"),
                        format!(
                        "{action:?} is not an action the simulator serves and can deny (acm:{})",
                        ACM_OPERATIONS.join(", acm:")
                    ),
                    ))
                }
            }
        }

        let parent = spec.ou.clone().unwrap_or_else(|| self.root_id.clone());
        if !self.is_parent(&parent) {
            return Err(ScenarioError::invalid(
                format!("{key}.ou"),
                format!(
                    "{parent:?} is neither one of the [[organizational_units]] nor the root ({})",
                    self.root_id
                ),
            ));
        }
        // Organizations' tag limits.
        if spec.tags.len() > 50 {
            return Err(ScenarioError::invalid(
                format!("{key}.tags"),
                "an account has at most 50 tags",
            ));
        }
        for (tag, value) in &spec.tags {
            if !(1..=128).contains(&tag.chars().count()) || value.chars().count() > 256 {
                return Err(ScenarioError::invalid(
                    format!("{key}.tags.{tag}"),
                    "tag keys are 1 to 128 characters, values at most 256",
                ));
            }
        }

        let max_session_seconds = spec.max_session_seconds.unwrap_or(3600);
        if !(3600..=43200).contains(&max_session_seconds) {
            return Err(ScenarioError::invalid(
                format!("{key}.max_session_seconds"),
                format!("{max_session_seconds} is outside IAM's range 3600..=43200"),
            ));
        }
        if let Some(external_id) = &spec.external_id {
            if !(2..=1224).contains(&external_id.len()) {
                return Err(ScenarioError::invalid(
                    format!("{key}.external_id"),
                    "must be 2 to 1224 characters (STS rejects anything else)",
                ));
            }
        }
        let default_roles = if is_management {
            DEFAULT_MANAGEMENT_ROLES
        } else {
            DEFAULT_MEMBER_ROLES
        };
        let roles = spec
            .roles
            .clone()
            .unwrap_or_else(|| default_roles.iter().map(|r| (*r).to_owned()).collect());

        let mut account = Account {
            id: spec.id.clone(),
            name: spec.name.clone(),
            email: spec
                .email
                .clone()
                .unwrap_or_else(|| default_email(&spec.name)),
            arn: self.account_arn(&spec.id),
            parent,
            tags: spec.tags.clone(),
            state: spec.state.clone().unwrap_or_else(|| "ACTIVE".to_owned()),
            joined_method: spec
                .joined_method
                .clone()
                .unwrap_or_else(|| "CREATED".to_owned()),
            joined_at: self.now - days(spec.joined_days_ago.unwrap_or(730.0)),
            enabled_regions,
            roles,
            external_id: spec.external_id.clone(),
            trusted_accounts: spec
                .trusted_accounts
                .clone()
                .unwrap_or_else(|| vec![self.management.clone()]),
            max_session_seconds,
            deny_assume_role: spec.deny_assume_role,
            denied_actions,
            faults: spec.faults.clone(),
            certificates: Vec::with_capacity(spec.certificates.len()),
        };

        // ARN ids are derived from the index among the certificates of the same
        // account-region, so adding a certificate elsewhere does not renumber these.
        let mut per_region: HashMap<&str, usize> = HashMap::new();
        for (j, cert) in spec.certificates.iter().enumerate() {
            let slot = per_region.entry(cert.region.as_str()).or_insert(0);
            let index = *slot;
            *slot += 1;
            let certificate = self.resolve_certificate(
                &format!("{key}.certificates[{j}]"),
                &account,
                index,
                cert,
            )?;
            account.certificates.push(certificate);
        }
        Ok(account)
    }

    fn resolve_certificate(
        &self,
        key: &str,
        account: &Account,
        index: usize,
        spec: &CertificateSpec,
    ) -> Result<Certificate, ScenarioError> {
        let now = self.now;
        let field = |name: &str| format!("{key}.{name}");
        if !self.regions.contains(&spec.region) {
            return Err(ScenarioError::invalid(
                field("region"),
                format!("{:?} is not in organization.regions", spec.region),
            ));
        }
        let domain = spec.domain.trim();
        if domain.is_empty() || domain.contains(char::is_whitespace) {
            return Err(ScenarioError::invalid(
                field("domain"),
                format!("{:?} is not a domain name", spec.domain),
            ));
        }
        let mut sans = vec![domain.to_owned()];
        for san in &spec.sans {
            if !sans.contains(san) {
                sans.push(san.clone());
            }
        }
        let id = match &spec.id {
            Some(id) if id.is_empty() || id.contains(['/', ':']) => {
                return Err(ScenarioError::invalid(
                    field("id"),
                    format!("{id:?} cannot be the last part of an ARN"),
                ))
            }
            Some(id) => id.clone(),
            None => ids::certificate_id(&account.id, &spec.region, index),
        };
        let arn = format!(
            "arn:aws:acm:{}:{}:certificate/{id}",
            spec.region, account.id
        );

        let cert_type = spec
            .cert_type
            .clone()
            .unwrap_or_else(|| "AMAZON_ISSUED".to_owned());
        let status = spec.status.clone().unwrap_or_else(|| "ISSUED".to_owned());
        let key_algorithm = spec
            .key_algorithm
            .clone()
            .unwrap_or_else(|| "RSA_2048".to_owned());
        let is_rsa = !key_algorithm.starts_with("EC_");

        // Validity dates. Requests that never completed have none.
        let has_validity = !matches!(
            status.as_str(),
            "PENDING_VALIDATION" | "VALIDATION_TIMED_OUT" | "FAILED"
        );
        let lifetime = days(spec.lifetime_days.unwrap_or(match cert_type.as_str() {
            "AMAZON_ISSUED" => 198.0,
            "PRIVATE" => 395.0,
            _ => 365.0,
        }));
        if spec.lifetime_days.is_some_and(|d| d <= 0.0) {
            return Err(ScenarioError::invalid(
                field("lifetime_days"),
                "must be positive",
            ));
        }
        let created_given = spec.created_days_ago.map(|d| now - days(d));
        let (not_before, not_after) = if has_validity {
            match (spec.expires_in_days, created_given) {
                (Some(expires), _) => {
                    let not_after = now + days(expires);
                    (Some(not_after - lifetime), Some(not_after))
                }
                (None, Some(created)) => (Some(created), Some(created + lifetime)),
                (None, None) => {
                    return Err(ScenarioError::invalid(
                        field("expires_in_days"),
                        format!("required for a certificate with status {status} (or give created_days_ago)"),
                    ))
                }
            }
        } else {
            for (name, given) in [
                ("expires_in_days", spec.expires_in_days.is_some()),
                ("lifetime_days", spec.lifetime_days.is_some()),
            ] {
                if given {
                    return Err(ScenarioError::invalid(
                        field(name),
                        format!("a certificate with status {status} has no validity dates"),
                    ));
                }
            }
            (None, None)
        };
        let created_at = created_given.or(not_before).unwrap_or(now);
        let imported = cert_type == "IMPORTED";
        let issued_at = if imported { None } else { not_before };
        let imported_at = match (imported, spec.imported_days_ago) {
            (true, Some(d)) => Some(now - days(d)),
            (true, None) => Some(created_at),
            (false, Some(_)) => {
                return Err(ScenarioError::invalid(
                    field("imported_days_ago"),
                    "only an IMPORTED certificate has ImportedAt",
                ))
            }
            (false, None) => None,
        };
        let revoked = status == "REVOKED";
        if !revoked && (spec.revoked_days_ago.is_some() || spec.revocation_reason.is_some()) {
            let name = if spec.revoked_days_ago.is_some() {
                "revoked_days_ago"
            } else {
                "revocation_reason"
            };
            return Err(ScenarioError::invalid(
                field(name),
                "only a certificate with status REVOKED has revocation details",
            ));
        }
        let revoked_at = revoked.then(|| now - days(spec.revoked_days_ago.unwrap_or(1.0)));
        let revocation_reason = revoked.then(|| {
            spec.revocation_reason
                .clone()
                .unwrap_or_else(|| "UNSPECIFIED".to_owned())
        });

        // Domain validation: only certificates ACM validated itself have it.
        let method = match (&spec.validation, cert_type.as_str()) {
            (Some(m), "AMAZON_ISSUED") => Some(m.clone()),
            (Some(_), _) => {
                return Err(ScenarioError::invalid(
                    field("validation"),
                    format!("a {cert_type} certificate has no domain validation"),
                ))
            }
            (None, "AMAZON_ISSUED") => Some("DNS".to_owned()),
            (None, _) => None,
        };
        let request_status = match status.as_str() {
            "PENDING_VALIDATION" => "PENDING_VALIDATION",
            "VALIDATION_TIMED_OUT" | "FAILED" => "FAILED",
            _ => "SUCCESS",
        };
        let validation = match &method {
            Some(method) => sans
                .iter()
                .map(|san| {
                    self.domain_validation(account, spec, &spec.region, san, method, request_status)
                })
                .collect(),
            None => Vec::new(),
        };

        let renewal = match &spec.renewal {
            None => None,
            Some(renewal) => Some(self.resolve_renewal(
                &field("renewal"),
                account,
                spec,
                renewal,
                &sans,
                method.as_deref(),
                not_before,
            )?),
        };

        let in_use = !spec.in_use_by.is_empty();
        let renewal_eligibility = spec.renewal_eligibility.clone().unwrap_or_else(|| {
            let managed = matches!(cert_type.as_str(), "AMAZON_ISSUED" | "PRIVATE");
            if managed && status == "ISSUED" && (in_use || spec.exported) {
                "ELIGIBLE".to_owned()
            } else {
                "INELIGIBLE".to_owned()
            }
        });
        let issuer = spec
            .issuer
            .clone()
            .unwrap_or_else(|| match cert_type.as_str() {
                "AMAZON_ISSUED" if is_rsa => "Amazon RSA 2048 M03".to_owned(),
                "AMAZON_ISSUED" => "Amazon ECDSA 256 M02".to_owned(),
                "PRIVATE" => "Example Corp Private CA".to_owned(),
                _ => "Example External CA".to_owned(),
            });
        let issued_like = not_after.is_some();
        let key_usages = match (issued_like, is_rsa) {
            (false, _) => Vec::new(),
            (true, true) => vec!["DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT"],
            (true, false) => vec!["DIGITAL_SIGNATURE"],
        };
        let extended_key_usages = if issued_like {
            vec![
                ("TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.1"),
                ("TLS_WEB_CLIENT_AUTHENTICATION", "1.3.6.1.5.5.7.3.2"),
            ]
        } else {
            Vec::new()
        };

        let has_dns_records = validation
            .iter()
            .chain(renewal.iter().flat_map(|r| &r.validation))
            .any(|dv| dv.record.is_some());
        let validation_record = match spec.validation_record.as_deref() {
            None | Some("present") => ValidationRecord::Present,
            Some(state @ ("missing" | "wrong")) => {
                if !has_dns_records {
                    return Err(ScenarioError::invalid(
                        field("validation_record"),
                        "only a DNS-validated AMAZON_ISSUED certificate has validation records",
                    ));
                }
                if state == "missing" {
                    ValidationRecord::Missing
                } else {
                    ValidationRecord::Wrong
                }
            }
            Some(other) => {
                return Err(ScenarioError::invalid(
                    field("validation_record"),
                    format!("{other:?} is not one of \"present\", \"missing\", \"wrong\""),
                ))
            }
        };
        let resolves = spec.resolves.unwrap_or(true);
        let served_somewhere = in_use || spec.exported || imported;
        let unexpired = not_after.is_some_and(|at| at > now);
        let endpoint_kind = match spec.endpoint.as_deref() {
            None if status == "ISSUED" && unexpired && served_somewhere => "current",
            None => "none",
            Some(kind @ ("current" | "stale" | "unreachable" | "none")) => {
                if kind != "none" && !resolves {
                    return Err(ScenarioError::invalid(
                        field("endpoint"),
                        format!("endpoint = {kind:?} needs names that resolve (resolves = false)"),
                    ));
                }
                if kind == "current" && not_after.is_none() {
                    return Err(ScenarioError::invalid(
                        field("endpoint"),
                        format!("a certificate with status {status} has no validity dates, so no copy to serve"),
                    ));
                }
                kind
            }
            Some(other) => {
                return Err(ScenarioError::invalid(
                    field("endpoint"),
                    format!(
                        "{other:?} is not one of \"current\", \"stale\", \"unreachable\", \"none\""
                    ),
                ))
            }
        };
        if spec.stale_expires_in_days.is_some() && endpoint_kind != "stale" {
            return Err(ScenarioError::invalid(
                field("stale_expires_in_days"),
                "only an endpoint = \"stale\" serves another copy",
            ));
        }
        let endpoint = match endpoint_kind {
            "current" => Endpoint::Current,
            "stale" => {
                // The copy the previous issue or import left on the server: as long-lived as
                // ACM's, ending when the scenario says.
                let served_until = now + days(spec.stale_expires_in_days.unwrap_or(9.0));
                let served_lifetime = match (not_before, not_after) {
                    (Some(from), Some(to)) => to - from,
                    _ => lifetime,
                };
                Endpoint::Stale {
                    serial: ids::serial(&format!("{arn}#served")),
                    not_before: served_until - served_lifetime,
                    not_after: served_until,
                }
            }
            "unreachable" => Endpoint::Unreachable,
            _ => Endpoint::None,
        };

        Ok(Certificate {
            validation_record,
            resolves,
            endpoint,
            serial: if issued_like {
                ids::serial(&arn)
            } else {
                String::new()
            },
            arn,
            account: account.id.clone(),
            region: spec.region.clone(),
            domain: domain.to_owned(),
            subject: format!("CN={domain}"),
            sans,
            signature_algorithm: if is_rsa {
                "SHA256WITHRSA"
            } else {
                "SHA256WITHECDSA"
            }
            .to_owned(),
            key_pair_origin: spec.key_pair_origin.clone().unwrap_or_else(|| {
                if imported {
                    "CUSTOMER_PROVIDED"
                } else {
                    "AWS_MANAGED"
                }
                .to_owned()
            }),
            cert_type,
            status,
            key_algorithm,
            issuer,
            created_at,
            issued_at,
            imported_at,
            not_before,
            not_after,
            revoked_at,
            revocation_reason,
            in_use_by: spec.in_use_by.clone(),
            exported: spec.exported,
            export_option: spec
                .export_option
                .clone()
                .unwrap_or_else(|| if spec.exported { "ENABLED" } else { "DISABLED" }.to_owned()),
            managed_by: spec.managed_by.clone(),
            renewal_eligibility,
            failure_reason: spec.failure_reason.clone(),
            certificate_authority_arn: spec.certificate_authority_arn.clone(),
            transparency_logging: spec
                .transparency_logging
                .clone()
                .unwrap_or_else(|| "ENABLED".to_owned()),
            key_usages,
            extended_key_usages,
            validation,
            renewal,
            tags: spec.tags.clone(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn resolve_renewal(
        &self,
        key: &str,
        account: &Account,
        spec: &CertificateSpec,
        renewal: &RenewalSpec,
        sans: &[String],
        method: Option<&str>,
        not_before: Option<DateTime<Utc>>,
    ) -> Result<Renewal, ScenarioError> {
        if renewal.status.trim().is_empty() {
            return Err(ScenarioError::invalid(
                format!("{key}.status"),
                "must not be empty",
            ));
        }
        if let Some(pending) = &renewal.pending_domains {
            for (i, domain) in pending.iter().enumerate() {
                if !sans.contains(domain) {
                    return Err(ScenarioError::invalid(
                        format!("{key}.pending_domains[{i}]"),
                        format!("{domain:?} is not one of the certificate's domains"),
                    ));
                }
            }
        }
        let updated_at = match renewal.updated_hours_ago {
            Some(hours) => self.now - Duration::seconds((hours * 3600.0).round() as i64),
            None if renewal.status == "SUCCESS" => not_before.unwrap_or(self.now),
            None => self.now - Duration::hours(1),
        };
        // Renewal validation repeats the request's validation, domain by domain.
        let validation = match method {
            None => Vec::new(),
            Some(method) => sans
                .iter()
                .map(|san| {
                    let pending = match &renewal.pending_domains {
                        Some(list) => list.contains(san),
                        None => renewal.status == "PENDING_VALIDATION",
                    };
                    let status = if pending {
                        "PENDING_VALIDATION"
                    } else if renewal.status == "FAILED" {
                        "FAILED"
                    } else {
                        "SUCCESS"
                    };
                    self.domain_validation(account, spec, &spec.region, san, method, status)
                })
                .collect(),
        };
        Ok(Renewal {
            status: renewal.status.clone(),
            reason: renewal.reason.clone(),
            updated_at,
            validation,
        })
    }

    fn domain_validation(
        &self,
        account: &Account,
        spec: &CertificateSpec,
        region: &str,
        san: &str,
        method: &str,
        status: &str,
    ) -> DomainValidation {
        let base = ids::base_domain(san);
        let validation_domain = spec
            .validation_domain
            .clone()
            .unwrap_or_else(|| if method == "EMAIL" { base } else { san }.to_owned());
        let mut dv = DomainValidation {
            domain: san.to_owned(),
            validation_domain: validation_domain.clone(),
            method: method.to_owned(),
            status: status.to_owned(),
            emails: Vec::new(),
            record: None,
            redirect: None,
        };
        match method {
            "DNS" => dv.record = Some(ids::validation_record(&account.id, san)),
            "EMAIL" => {
                let email_domain = ids::base_domain(&validation_domain);
                dv.emails = spec.validation_emails.clone().unwrap_or_else(|| {
                    [
                        "admin",
                        "administrator",
                        "hostmaster",
                        "postmaster",
                        "webmaster",
                    ]
                    .iter()
                    .map(|user| format!("{user}@{email_domain}"))
                    .collect()
                });
            }
            "HTTP" => {
                let token = ids::validation_token(&account.id, san);
                dv.redirect = Some((
                    format!("http://{base}/.well-known/pki-validation/{token}.txt"),
                    format!(
                        "https://validation.{region}.acm-validations.aws/{}/.well-known/pki-validation/{token}.txt",
                        account.id
                    ),
                ));
            }
            _ => {}
        }
        dv
    }
}

/// `[network]`: checks and parses the CAA records.
fn resolve_network(spec: &NetworkSpec) -> Result<Network, ScenarioError> {
    let mut caa = Vec::new();
    for (name, records) in &spec.caa {
        let key = format!("network.caa.{name}");
        if name.trim().is_empty() || name.contains(char::is_whitespace) {
            return Err(ScenarioError::invalid(
                key,
                format!("{name:?} is not a domain name"),
            ));
        }
        for (i, text) in records.iter().enumerate() {
            let property = parse_caa(name, text)
                .map_err(|message| ScenarioError::invalid(format!("{key}[{i}]"), message))?;
            caa.push(property);
        }
    }
    Ok(Network {
        enabled: spec.enabled,
        caa,
    })
}

/// `flags tag value` as in a zone file: `0 issue "amazon.com"`, `128 tbs "x"`, `0 issue ";"`.
/// The value may be quoted (`\"` and `\\` escape) or a bare word.
fn parse_caa(name: &str, text: &str) -> Result<CaaProperty, String> {
    let shape = || format!("{text:?} is not `flags tag \"value\"` (e.g. `0 issue \"amazon.com\"`)");
    let text = text.trim();
    let (flags, rest) = text.split_once(char::is_whitespace).ok_or_else(shape)?;
    let (tag, value) = rest
        .trim_start()
        .split_once(char::is_whitespace)
        .ok_or_else(shape)?;
    let flags: u8 = flags
        .parse()
        .map_err(|_| format!("{flags:?} is not a flags octet (0 to 255; 128 is critical)"))?;
    if tag.len() > 255 || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "{tag:?} is not a CAA tag (ASCII letters and digits)"
        ));
    }
    let value = value.trim();
    let value = match value.strip_prefix('"') {
        Some(quoted) => {
            let mut out = String::new();
            let mut chars = quoted.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push(chars.next().ok_or_else(shape)?),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => out.push(c),
                }
            }
            if !closed || !chars.as_str().trim().is_empty() {
                return Err(shape());
            }
            out
        }
        None if value.contains(char::is_whitespace) => return Err(shape()),
        None => value.to_owned(),
    };
    Ok(CaaProperty {
        name: name.to_owned(),
        flags,
        tag: tag.to_owned(),
        value,
    })
}

fn check_account_id(key: &str, id: &str) -> Result<(), ScenarioError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ScenarioError::invalid(
            key,
            format!("{id:?} is not an account id (12 digits)"),
        ))
    }
}

/// Whether `text` is `len` lowercase ASCII letters or digits.
fn lower_alnum(text: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn default_email(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("aws-{}@example.com", slug.trim_matches('-'))
}

/// Whole seconds, so every timestamp on the wire is an integer.
pub fn days(d: f64) -> Duration {
    Duration::seconds((d * 86_400.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_key(text: &str) -> String {
        match Scenario::from_toml(text) {
            Err(ScenarioError::Invalid { key, .. }) => key,
            other => panic!("expected a semantic error, got {other:?}"),
        }
    }

    const HEAD: &str = "[organization]\nmanagement_account_id = \"111122223333\"\n[[accounts]]\nid = \"111122223333\"\nname = \"m\"\n";

    #[test]
    fn demo_parses() {
        let demo = Scenario::demo();
        assert_eq!(demo.management_account_id(), "210987654321");
        assert_eq!(demo.accounts.len(), 7);
        let certificates: usize = demo.accounts.iter().map(|a| a.certificates.len()).sum();
        assert!((45..=55).contains(&certificates), "{certificates}");
        let network = demo.network.as_ref().expect("the demo has a world");
        assert!(network.enabled);
    }

    #[test]
    fn denied_actions_are_canonical_acm_actions() {
        let scenario = Scenario::from_toml(&format!(
            "{HEAD}denied_actions = [\"ACM:searchcertificates\"]\n"
        ))
        .expect("IAM action names are case-insensitive");
        let world = World::resolve(&scenario, validation_clock()).expect("resolves");
        let account = world.account("111122223333").expect("account");
        assert!(account.denies("acm:SearchCertificates"));
        assert!(!account.denies("acm:ListCertificates"));
    }

    #[test]
    fn syntax_errors_name_the_key_and_line() {
        let text = format!("{HEAD}colour = \"red\"\n");
        let message = Scenario::from_toml(&text)
            .expect_err("unknown key")
            .to_string();
        assert!(message.contains("colour"), "{message}");
        assert!(message.contains("line 6"), "{message}");
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let cert = |body: &str| format!("{HEAD}[[accounts.certificates]]\n{body}\n");
        assert_eq!(
            invalid_key(&cert(
                "region = \"us-east-9\"\ndomain = \"a.example\"\nexpires_in_days = 3"
            )),
            "accounts[0].certificates[0].region"
        );
        assert_eq!(
            invalid_key(&cert("region = \"us-east-1\"\ndomain = \"a.example\"")),
            "accounts[0].certificates[0].expires_in_days"
        );
        assert_eq!(
            invalid_key(&cert(
                "region = \"us-east-1\"\ndomain = \"a.example\"\nstatus = \"PENDING_VALIDATION\"\nexpires_in_days = 3"
            )),
            "accounts[0].certificates[0].expires_in_days"
        );
        assert_eq!(
            invalid_key(&cert(
                "region = \"us-east-1\"\ndomain = \"a.example\"\nexpires_in_days = 3\n[accounts.certificates.renewal]\nstatus = \"PENDING_VALIDATION\"\npending_domains = [\"b.example\"]"
            )),
            "accounts[0].certificates[0].renewal.pending_domains[0]"
        );
        assert_eq!(
            invalid_key(&format!("{HEAD}opt_in_regions = [\"us-east-1\"]\n")),
            "accounts[0].opt_in_regions[0]"
        );
        assert_eq!(
            invalid_key(&format!(
                "{HEAD}denied_actions = [\"acm:ListCertificates\", \"acm:SearchCertificate\"]\n"
            )),
            "accounts[0].denied_actions[1]"
        );
        assert_eq!(
            invalid_key(&format!("{HEAD}denied_actions = [\"sts:AssumeRole\"]\n")),
            "accounts[0].denied_actions[0]"
        );
        assert_eq!(
            invalid_key(&format!(
                "{HEAD}[[accounts]]\nid = \"111122223333\"\nname = \"again\"\n"
            )),
            "accounts[1].id"
        );
        assert_eq!(
            invalid_key("[organization]\nmanagement_account_id = \"111122223333\"\n"),
            "organization.management_account_id"
        );
    }

    #[test]
    fn organizational_units_and_tags_resolve_and_errors_name_the_key() {
        let org =
            "[organization]\nmanagement_account_id = \"111122223333\"\nroot_id = \"r-ab12\"\n";
        let units = "[[organizational_units]]\nid = \"ou-ab12-11111111\"\nname = \"Payments\"\n[[organizational_units]]\nid = \"ou-ab12-22222222\"\nname = \"Cards\"\nparent = \"ou-ab12-11111111\"\n";
        let account = |extra: &str| {
            format!("{org}{units}[[accounts]]\nid = \"111122223333\"\nname = \"m\"\n{extra}")
        };
        let scenario = Scenario::from_toml(&account(
            "ou = \"ou-ab12-22222222\"\ntags = { team = \"cards\" }\n",
        ))
        .expect("valid");
        let world = World::resolve(&scenario, validation_clock()).expect("resolves");
        let m = world.account("111122223333").expect("account");
        assert_eq!(m.parent, "ou-ab12-22222222");
        assert_eq!(m.tags.get("team").map(String::as_str), Some("cards"));
        let cards = world.unit("ou-ab12-22222222").expect("OU");
        assert_eq!(
            (cards.name.as_str(), cards.parent.as_str()),
            ("Cards", "ou-ab12-11111111")
        );
        assert_eq!(world.unit("ou-ab12-11111111").expect("OU").parent, "r-ab12");
        // Without an ou, an account is under the root; without a root_id, one is derived.
        let plain = Scenario::from_toml(HEAD).expect("valid");
        let world = World::resolve(&plain, validation_clock()).expect("resolves");
        assert!(world.root_id.starts_with("r-") && world.root_id.len() == 6);
        assert_eq!(
            world.account("111122223333").expect("account").parent,
            world.root_id
        );

        assert_eq!(
            invalid_key(&account("ou = \"ou-ab12-33333333\"\n")),
            "accounts[0].ou"
        );
        assert_eq!(
            invalid_key(&account("tags = { \"\" = \"x\" }\n")),
            "accounts[0].tags."
        );
        let unit = |body: &str| {
            invalid_key(&format!(
                "{org}[[organizational_units]]\n{body}\n[[accounts]]\nid = \"111122223333\"\nname = \"m\"\n"
            ))
        };
        assert_eq!(
            unit("id = \"ou-ab12\"\nname = \"P\""),
            "organizational_units[0].id"
        );
        assert_eq!(
            unit("id = \"ou-ab12-11111111\"\nname = \"\""),
            "organizational_units[0].name"
        );
        assert_eq!(
            unit("id = \"ou-ab12-11111111\"\nname = \"P\"\nparent = \"r-zz99\""),
            "organizational_units[0].parent"
        );
        // A parent must be listed above its child, so the OUs cannot form a cycle.
        assert_eq!(
            invalid_key(&format!(
                "{org}[[organizational_units]]\nid = \"ou-ab12-11111111\"\nname = \"A\"\nparent = \"ou-ab12-22222222\"\n[[organizational_units]]\nid = \"ou-ab12-22222222\"\nname = \"B\"\n[[accounts]]\nid = \"111122223333\"\nname = \"m\"\n"
            )),
            "organizational_units[0].parent"
        );
        assert_eq!(
            invalid_key(&format!("{org}{units}[[organizational_units]]\nid = \"ou-ab12-11111111\"\nname = \"again\"\n[[accounts]]\nid = \"111122223333\"\nname = \"m\"\n")),
            "organizational_units[2].id"
        );
        assert_eq!(
            invalid_key(
                "[organization]\nmanagement_account_id = \"111122223333\"\nroot_id = \"root\"\n[[accounts]]\nid = \"111122223333\"\nname = \"m\"\n"
            ),
            "organization.root_id"
        );
    }

    #[test]
    fn network_errors_name_the_key() {
        let cert = |body: &str| {
            format!("{HEAD}[[accounts.certificates]]\nregion = \"us-east-1\"\ndomain = \"a.example\"\nexpires_in_days = 30\n{body}\n")
        };
        let key = |body: &str| invalid_key(&cert(body));
        let field = |name: &str| format!("accounts[0].certificates[0].{name}");
        assert_eq!(
            key("validation_record = \"gone\""),
            field("validation_record")
        );
        assert_eq!(
            key("type = \"IMPORTED\"\nvalidation_record = \"missing\""),
            field("validation_record"),
            "no DNS validation, no record to leave out"
        );
        assert_eq!(
            key("validation = \"EMAIL\"\nvalidation_record = \"wrong\""),
            field("validation_record")
        );
        assert_eq!(key("endpoint = \"served\""), field("endpoint"));
        assert_eq!(
            key("resolves = false\nendpoint = \"current\""),
            field("endpoint")
        );
        assert_eq!(
            key("stale_expires_in_days = 3"),
            field("stale_expires_in_days")
        );
        assert_eq!(
            invalid_key(&format!(
                "{HEAD}[[accounts.certificates]]\nregion = \"us-east-1\"\ndomain = \"a.example\"\nstatus = \"PENDING_VALIDATION\"\nendpoint = \"current\"\n"
            )),
            field("endpoint")
        );
        // Accepted: what the world shows only where it can show it.
        for body in [
            "validation_record = \"missing\"\nendpoint = \"unreachable\"",
            "resolves = false",
            "endpoint = \"stale\"\nstale_expires_in_days = 2.5",
            "endpoint = \"none\"\nresolves = false",
        ] {
            Scenario::from_toml(&cert(body)).unwrap_or_else(|e| panic!("{body}: {e}"));
        }

        let caa = |entry: &str| {
            let text = format!(
                "[organization]\nmanagement_account_id = \"111122223333\"\n[network]\nenabled = true\ncaa = {{ \"example.com\" = ['0 issue \"amazon.com\"', '{entry}'] }}\n[[accounts]]\nid = \"111122223333\"\nname = \"m\"\n"
            );
            Scenario::from_toml(&text)
        };
        for bad in [
            "issue \"amazon.com\"",
            "256 issue \"x\"",
            "0 is-sue \"x\"",
            "0 issue \"x",
            "0 issue a b",
        ] {
            match caa(bad) {
                Err(ScenarioError::Invalid { key, .. }) => {
                    assert_eq!(key, "network.caa.example.com[1]", "{bad}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        for good in [
            "128 tbs \"x\"",
            "0 issue \";\"",
            "0 iodef \"mailto:a@example.com\"",
            "0 issue letsencrypt.org",
            "0 issue \"a\\\"b\"",
        ] {
            caa(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        let world = World::resolve(
            &caa("0 issue \"a\\\"b; accounturi=x\"").expect("valid"),
            validation_clock(),
        )
        .expect("resolves");
        assert_eq!(world.network.caa[1].value, "a\"b; accounturi=x");
        assert_eq!(world.network.caa[0].value, "amazon.com");
        assert_eq!(
            invalid_key("[organization]\nmanagement_account_id = \"1234\"\n"),
            "organization.management_account_id"
        );
    }
}
