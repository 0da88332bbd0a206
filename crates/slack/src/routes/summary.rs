//! The org-wide summary the default channel's digest carries when accounts are routed: per
//! routed channel, what needs action there (each channel also gets its own digest).

use super::{Routes, Rule};
use crate::blocks::{self, MAX_SECTION};
use crate::inventory::entries;
use crate::mrkdwn::{self, plural};
use certwatch_core::{Inventory, Urgency};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many channels are listed; the rest are counted ("… and 12 more").
pub const MAX_LISTED: usize = 40;

/// One routed channel of the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelCount {
    pub channel: String,
    /// The rules that send accounts there (route names, `tag certwatch-channel`).
    pub rules: Vec<String>,
    pub accounts: usize,
    pub expired: usize,
    pub urgent: usize,
    pub action: usize,
    /// Needing action but snoozed or acknowledged.
    pub hidden: usize,
}

impl ChannelCount {
    /// Whether something there needs a human.
    pub fn needs_action(&self) -> bool {
        self.expired + self.urgent + self.action > 0
    }

    fn line(&self) -> String {
        let mut counts: Vec<String> = [
            (self.expired, "expired"),
            (self.urgent, "urgent"),
            (self.action, "action"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}"))
        .collect();
        if counts.is_empty() {
            counts.push("nothing needs action".to_owned());
        }
        let hidden = match self.hidden {
            0 => String::new(),
            n => format!(", {n} snoozed or acknowledged"),
        };
        format!(
            "• <#{}> ({}): {}{hidden} · {}",
            self.channel,
            mrkdwn::escape(&self.rules.join(", ")),
            counts.join(", "),
            plural(self.accounts, "account", "accounts"),
        )
    }
}

/// Per channel other than the default one, what needs action among its accounts at `now`:
/// the channels with the most serious first (most expired, then urgent, then action), then by
/// channel id.
pub fn summary(routes: &Routes, inv: &Inventory, now: DateTime<Utc>) -> Vec<ChannelCount> {
    let mut by_channel: BTreeMap<String, (ChannelCount, BTreeSet<Rule>)> = BTreeMap::new();
    let mut channel_of: BTreeMap<&str, String> = BTreeMap::new();
    for account in &inv.report.accounts {
        let destination = routes.route(account);
        if destination.rule == Rule::Default {
            continue;
        }
        let (count, rules) = by_channel
            .entry(destination.channel.clone())
            .or_insert_with(|| {
                (
                    ChannelCount {
                        channel: destination.channel.clone(),
                        ..ChannelCount::default()
                    },
                    BTreeSet::new(),
                )
            });
        count.accounts += 1;
        rules.insert(destination.rule);
        channel_of.insert(account.id.as_str(), destination.channel);
    }
    for entry in entries(inv, now) {
        let Some(channel) = channel_of.get(entry.record.facts.account_id.as_str()) else {
            continue;
        };
        let Some((count, _)) = by_channel.get_mut(channel) else {
            continue;
        };
        if !entry.needs_action() {
            continue;
        }
        if entry.hidden() {
            count.hidden += 1;
            continue;
        }
        match entry.urgency {
            Some(Urgency::Expired) => count.expired += 1,
            Some(Urgency::Urgent) => count.urgent += 1,
            _ => count.action += 1,
        }
    }
    let mut counts: Vec<ChannelCount> = by_channel
        .into_values()
        .map(|(mut count, rules)| {
            count.rules = rules.into_iter().map(|r| routes.rule_name(r)).collect();
            count
        })
        .collect();
    counts.sort_by(|a, b| {
        (b.expired, b.urgent, b.action)
            .cmp(&(a.expired, a.urgent, a.action))
            .then_with(|| a.channel.cmp(&b.channel))
    });
    counts
}

/// The summary's blocks: a heading and the channels, as few sections as they fit in, at most
/// [`MAX_LISTED`] channels. Empty when nothing is routed.
pub(crate) fn blocks(counts: &[ChannelCount]) -> Vec<Value> {
    if counts.is_empty() {
        return Vec::new();
    }
    let needing = counts.iter().filter(|c| c.needs_action()).count();
    let mut lines = vec![format!(
        "*Routed to their owners' channels* ({}, {needing} with something to act on; each gets \
         its own digest):",
        plural(counts.len(), "channel", "channels")
    )];
    lines.extend(counts.iter().take(MAX_LISTED).map(ChannelCount::line));
    if counts.len() > MAX_LISTED {
        let more = counts.len() - MAX_LISTED;
        lines.push(format!(
            "… and {more} more {}: `certwatch routes` lists every account and where it goes",
            if more == 1 { "channel" } else { "channels" }
        ));
    }
    blocks::pack(&lines, "\n", MAX_SECTION)
        .iter()
        .map(|text| blocks::section(text))
        .collect()
}
