//! Which Slack channel each account's certificates go to: `[[slack.routes]]`, the account's own
//! tag (`slack.route_by_tag`), else the default channel (`slack.digest.channel`).
//!
//! The order, most specific claim first:
//! 1. the account's own tag named by `slack.route_by_tag`, when its value is a channel id (the
//!    account's owners say where they listen; a value that is not a channel id is ignored and
//!    [`Routes::explain`] says so);
//! 2. the `[[slack.routes]]` in file order, the first that matches wins. A route matches when
//!    every kind of matcher it has matches (kinds are ANDed, as Alertmanager's matchers are);
//!    within one kind any listed value does (`accounts = ["1", "2"]` is either account). An OU
//!    matcher (id or path) matches the OU and everything below it;
//! 3. the default channel.
//!
//! An account whose OU path or tags were not learned (the lookup failed, or was not asked for)
//! matches no OU or tag matcher: it goes where the rest of the rules send it, and
//! [`Routes::explain`] says what was unknown.

mod summary;

pub(crate) use summary::blocks as summary_blocks;
pub use summary::{summary, ChannelCount, MAX_LISTED};

use certwatch_core::{Account, Inventory};
use std::collections::{BTreeMap, BTreeSet};

/// The checked routing settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    /// `[[slack.routes]]`, in file order.
    pub routes: Vec<Route>,
    /// `slack.route_by_tag`: the account tag whose value is the account's channel id.
    pub by_tag: Option<String>,
    /// Where an account no rule claims goes: `slack.digest.channel` (may be empty: nowhere).
    pub default_channel: String,
}

/// One `[[slack.routes]]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// `name`, shown in the org-wide summary and by `certwatch routes`; default `routes[N]`.
    pub name: String,
    pub channel: String,
    /// `accounts`: 12-digit account ids.
    pub accounts: Vec<String>,
    /// `ous`: OU ids or paths from the root.
    pub ous: Vec<OuMatcher>,
    /// `account_tag`: the account carries this tag with this value.
    pub account_tag: Option<TagMatcher>,
}

/// An `ous` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OuMatcher {
    /// `ou-ab12-cdef3456`: the OU with this id, and everything below it.
    Id(String),
    /// `Root/Payments`: the OU at this path of names (root first), and everything below it.
    Path(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TagMatcher {
    pub key: String,
    pub value: String,
}

/// Which rule sent an account where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// The account's own `slack.route_by_tag` tag.
    Tag,
    /// `[[slack.routes]]` number N (0-based).
    Route(usize),
    /// No rule: the default channel.
    Default,
}

/// Where an account goes and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub channel: String,
    pub rule: Rule,
}

/// Slack channel ids: `C…` (public), `G…` (private, older), upper-case letters and digits.
pub fn is_channel_id(id: &str) -> bool {
    (9..=32).contains(&id.len())
        && (id.starts_with('C') || id.starts_with('G'))
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// AWS's pattern for an OU id: `ou-` + 4–32 of `[0-9a-z]` (the root's id) + `-` + 8–32 of
/// `[a-z0-9]`.
pub fn is_ou_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("ou-") else {
        return false;
    };
    let Some((root, own)) = rest.split_once('-') else {
        return false;
    };
    let lower_alnum = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    (4..=32).contains(&root.len())
        && (8..=32).contains(&own.len())
        && lower_alnum(root)
        && lower_alnum(own)
}

impl OuMatcher {
    /// An `ous` entry as written: an OU id, or a path that starts at `Root`.
    pub fn parse(text: &str) -> Result<OuMatcher, String> {
        if text.starts_with("ou-") {
            return if is_ou_id(text) {
                Ok(OuMatcher::Id(text.to_owned()))
            } else {
                Err(format!(
                    "{text:?} is not an OU id like \"ou-ab12-cdef3456\" (\"ou-\", 4-32 lower-case \
                     letters or digits, \"-\", 8-32 more)"
                ))
            };
        }
        let parts: Vec<String> = text.split('/').map(str::to_owned).collect();
        if parts.first().map(String::as_str) != Some("Root") {
            return Err(format!(
                "{text:?} is neither an OU id (\"ou-ab12-cdef3456\") nor an OU path from the root \
                 (\"Root/Payments\")"
            ));
        }
        if parts.iter().any(|p| p.trim().is_empty()) {
            return Err(format!("{text:?} has an empty OU name in its path"));
        }
        Ok(OuMatcher::Path(parts))
    }

    /// Whether an account at `path` (root first) is this OU or below it.
    fn matches(&self, path: &[certwatch_core::OrgUnit]) -> bool {
        match self {
            OuMatcher::Id(id) => path.iter().any(|ou| &ou.id == id),
            OuMatcher::Path(names) => {
                names.len() <= path.len() && names.iter().zip(path).all(|(n, ou)| *n == ou.name)
            }
        }
    }
}

impl std::fmt::Display for OuMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OuMatcher::Id(id) => f.write_str(id),
            OuMatcher::Path(names) => f.write_str(&names.join("/")),
        }
    }
}

impl Route {
    /// Whether the route has any matcher (a route without one is a config error).
    pub fn has_matcher(&self) -> bool {
        !self.accounts.is_empty() || !self.ous.is_empty() || self.account_tag.is_some()
    }

    /// Whether `account` matches every kind of matcher this route has.
    pub fn matches(&self, account: &Account) -> bool {
        if !self.has_matcher() {
            return false;
        }
        let accounts = self.accounts.is_empty() || self.accounts.contains(&account.id);
        let ous = self.ous.is_empty()
            || account
                .ou_path
                .as_deref()
                .is_some_and(|path| self.ous.iter().any(|m| m.matches(path)));
        let tag = self.account_tag.as_ref().is_none_or(|t| {
            account
                .tags
                .as_ref()
                .and_then(|tags| tags.get(&t.key))
                .is_some_and(|v| *v == t.value)
        });
        accounts && ous && tag
    }

    /// The matchers, normalised (sorted, deduplicated): two routes to one channel with the
    /// same key send the same accounts there, so the second is a mistake.
    pub fn key(
        &self,
    ) -> (
        String,
        BTreeSet<&str>,
        BTreeSet<&OuMatcher>,
        Option<&TagMatcher>,
    ) {
        (
            self.channel.clone(),
            self.accounts.iter().map(String::as_str).collect(),
            self.ous.iter().collect(),
            self.account_tag.as_ref(),
        )
    }
}

impl Routes {
    /// Whether any routing is configured (beyond the default channel).
    pub fn is_routing(&self) -> bool {
        !self.routes.is_empty() || self.by_tag.is_some()
    }

    /// Whether the scan must learn the accounts' OU paths (some route matches on OUs).
    pub fn needs_ou_paths(&self) -> bool {
        self.routes.iter().any(|r| !r.ous.is_empty())
    }

    /// Whether the scan must learn the accounts' tags.
    pub fn needs_tags(&self) -> bool {
        self.by_tag.is_some() || self.routes.iter().any(|r| r.account_tag.is_some())
    }

    /// The account's own channel tag, when it holds a channel id.
    fn tagged_channel<'a>(&self, account: &'a Account) -> Option<&'a str> {
        let key = self.by_tag.as_ref()?;
        let value = account.tags.as_ref()?.get(key)?;
        is_channel_id(value).then_some(value.as_str())
    }

    /// Where `account`'s certificates go.
    pub fn route(&self, account: &Account) -> Destination {
        if let Some(channel) = self.tagged_channel(account) {
            return Destination {
                channel: channel.to_owned(),
                rule: Rule::Tag,
            };
        }
        if let Some((n, route)) = self
            .routes
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(account))
        {
            return Destination {
                channel: route.channel.clone(),
                rule: Rule::Route(n),
            };
        }
        Destination {
            channel: self.default_channel.clone(),
            rule: Rule::Default,
        }
    }

    /// What a rule is called: `tag certwatch-channel`, the route's name, `default`.
    pub fn rule_name(&self, rule: Rule) -> String {
        match rule {
            Rule::Tag => format!(
                "tag {}",
                self.by_tag.as_deref().unwrap_or("(route_by_tag unset)")
            ),
            Rule::Route(n) => self
                .routes
                .get(n)
                .map_or_else(|| format!("routes[{n}]"), |r| r.name.clone()),
            Rule::Default => "default".to_owned(),
        }
    }

    /// Why `account` goes where it goes, for people reading `certwatch routes`: what was not
    /// known about it and a tag value that is not a channel id.
    pub fn explain(&self, account: &Account) -> Vec<String> {
        let mut notes = Vec::new();
        if self.needs_ou_paths() && account.ou_path.is_none() {
            notes.push("OU path unknown".to_owned());
        }
        if self.needs_tags() && account.tags.is_none() {
            notes.push("tags unknown".to_owned());
        }
        if let (Some(key), Some(tags)) = (&self.by_tag, &account.tags) {
            if let Some(value) = tags.get(key).filter(|v| !is_channel_id(v)) {
                notes.push(format!(
                    "tag {key}={value:?} ignored: not a channel id like \"C0123ABCD\""
                ));
            }
        }
        notes
    }

    /// Each account of `accounts` with where it goes.
    pub fn assign<'a>(&self, accounts: &'a [Account]) -> Vec<(&'a Account, Destination)> {
        accounts.iter().map(|a| (a, self.route(a))).collect()
    }

    /// The channel of each account of the inventory (account id → channel), from the
    /// accounts the latest scans described; an account the inventory has certificates of but
    /// no description (an older store) goes by its id alone.
    pub fn channels_of(&self, inv: &Inventory) -> BTreeMap<String, String> {
        let mut channels = BTreeMap::new();
        for account in &inv.report.accounts {
            channels.insert(account.id.clone(), self.route(account).channel);
        }
        for (id, name) in inv.accounts() {
            if !channels.contains_key(id) {
                let bare = Account::new(id, name);
                channels.insert(id.to_owned(), self.route(&bare).channel);
            }
        }
        channels
    }
}

/// The part of `inv` whose accounts `keep` says yes to: their certificates, failures and
/// accounts, with the decisions on those certificates. The stats count the part's accounts and
/// certificates; its account-regions are not known apart from the whole scan's (`targets` 0);
/// the other stats and the times are the whole scan's.
pub fn scope(inv: &Inventory, keep: impl Fn(&str) -> bool) -> Inventory {
    let mut report = certwatch_core::Report {
        generated_at: inv.report.generated_at,
        certificates: Vec::new(),
        failures: Vec::new(),
        stats: inv.report.stats.clone(),
        accounts: Vec::new(),
    };
    report.certificates = inv
        .report
        .certificates
        .iter()
        .filter(|c| keep(&c.facts.account_id))
        .cloned()
        .collect();
    report.failures = inv
        .report
        .failures
        .iter()
        .filter(|f| keep(&f.account_id))
        .cloned()
        .collect();
    report.accounts = inv
        .report
        .accounts
        .iter()
        .filter(|a| keep(&a.id))
        .cloned()
        .collect();
    let ids: BTreeSet<&str> = report
        .certificates
        .iter()
        .map(|c| c.facts.account_id.as_str())
        .chain(report.failures.iter().map(|f| f.account_id.as_str()))
        .chain(report.accounts.iter().map(|a| a.id.as_str()))
        .collect();
    report.stats.accounts = ids.len() as u64;
    report.stats.targets = 0;
    report.stats.certificates = report
        .certificates
        .iter()
        .filter(|c| !inv.stale.contains_key(&c.facts.arn))
        .count() as u64;
    let arns: BTreeSet<&str> = report
        .certificates
        .iter()
        .map(|c| c.facts.arn.as_str())
        .collect();
    Inventory {
        stale: inv
            .stale
            .iter()
            .filter(|(arn, _)| arns.contains(arn.as_str()))
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        decisions: inv
            .decisions
            .iter()
            .filter(|(arn, _)| arns.contains(arn.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        last_scan: inv.last_scan,
        report: report.into(),
    }
}

#[cfg(test)]
mod tests;
