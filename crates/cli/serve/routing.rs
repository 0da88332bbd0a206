//! Which channel each account's certificates go to, held for the inventory in force: the
//! digests (one per channel), the alerts after a scan and `/certs` in a routed channel read
//! their part of the inventory from here. The rules are `certwatch_slack::routes`.

use certwatch_core::{Changes, Inventory};
use certwatch_slack::routes::{self, Routes};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError, RwLock};

/// The routes and, for the inventory in force, each account's channel.
pub struct Routing {
    routes: Routes,
    assigned: RwLock<Arc<Assigned>>,
}

/// Where the accounts of one inventory go: computed once per scan, read by every command.
#[derive(Default)]
struct Assigned {
    /// Account id → channel.
    channels: BTreeMap<String, String>,
    /// Every channel that gets a digest: the default one (when there is one), and each channel
    /// some account is routed to.
    destinations: BTreeSet<String>,
}

impl Routing {
    pub fn new(routes: Routes, inventory: &Inventory) -> Routing {
        let routing = Routing {
            routes,
            assigned: RwLock::default(),
        };
        routing.update(inventory);
        routing
    }

    /// Whether anything is routed (beyond the default channel).
    pub fn is_routing(&self) -> bool {
        self.routes.is_routing()
    }

    /// Recomputes each account's channel for a new inventory (after a scan).
    pub fn update(&self, inventory: &Inventory) {
        let channels = if self.is_routing() {
            self.routes.channels_of(inventory)
        } else {
            BTreeMap::new()
        };
        let mut destinations: BTreeSet<String> = channels.values().cloned().collect();
        destinations.insert(self.routes.default_channel.clone());
        destinations.retain(|c| !c.is_empty());
        *self
            .assigned
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(Assigned {
            channels,
            destinations,
        });
    }

    fn assigned(&self) -> Arc<Assigned> {
        self.assigned
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The channel `account_id` goes to.
    fn channel_of<'a>(&'a self, channels: &'a BTreeMap<String, String>, id: &str) -> &'a str {
        channels
            .get(id)
            .map_or(self.routes.default_channel.as_str(), String::as_str)
    }

    /// Whether routes send some accounts to `channel` (other than the default channel): there
    /// `/certs` answers about those accounts.
    pub fn is_routed_channel(&self, channel: &str) -> bool {
        self.is_routing()
            && channel != self.routes.default_channel
            && self.assigned().destinations.contains(channel)
    }

    /// Every channel that gets a digest: the default one (when there is one), and each channel
    /// some account is routed to.
    pub fn destinations(&self) -> BTreeSet<String> {
        self.assigned().destinations.clone()
    }

    /// The part of `inventory` that `channel` is about: the accounts routed there (for the
    /// default channel: those no rule claims). Without routing, all of it.
    pub fn scope(&self, inventory: &Arc<Inventory>, channel: &str) -> Arc<Inventory> {
        if !self.is_routing() {
            return inventory.clone();
        }
        let assigned = self.assigned();
        let channels = &assigned.channels;
        Arc::new(routes::scope(inventory, |id| {
            self.channel_of(channels, id) == channel
        }))
    }

    /// The org-wide summary for the default channel's digest; empty elsewhere.
    pub fn summary(
        &self,
        inventory: &Inventory,
        channel: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<routes::ChannelCount> {
        if !self.is_routing() || channel != self.routes.default_channel {
            return Vec::new();
        }
        routes::summary(&self.routes, inventory, now)
    }

    /// `changes` split by the channel their account goes to; `unrouted` (the alerts channel)
    /// takes what goes to the default channel.
    pub fn split(&self, changes: &Changes, unrouted: &str) -> BTreeMap<String, Changes> {
        let mut split: BTreeMap<String, Changes> = BTreeMap::new();
        let assigned = self.assigned();
        let channels = &assigned.channels;
        for change in &changes.changes {
            let channel = match channels.get(&change.account_id) {
                Some(c) if self.is_routing() && *c != self.routes.default_channel => c.as_str(),
                _ => unrouted,
            };
            split
                .entry(channel.to_owned())
                .or_insert_with(|| Changes {
                    changes: Vec::new(),
                })
                .changes
                .push(change.clone());
        }
        split
    }
}
