//! Policy: the thresholds the rules use. Values, not constants: ACM's lifetimes and renewal
//! windows change (198-day public certificates today, 100 days in 2027, 47 in 2029).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest number of days a policy value may hold: beyond a century nothing is meant, and
/// date arithmetic with it would overflow.
pub const MAX_DAYS: i64 = 36_500;

/// ACM starts renewing `days_before_expiry` days before NotAfter for public certificates whose
/// lifetime is at most `max_lifetime_days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalWindow {
    pub max_lifetime_days: i64,
    pub days_before_expiry: i64,
}

/// Serialized as the `[policy]` table of the configuration file (unknown keys are errors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// At most this many days to NotAfter: `urgent`.
    pub urgent_days: i64,
    /// At most this many days to NotAfter: `action`.
    pub action_days: i64,
    /// Public renewal windows by lifetime, checked in ascending `max_lifetime_days`; a certificate
    /// longer-lived than every entry uses the last one.
    pub renewal_windows: Vec<RenewalWindow>,
    /// Private certificates are renewed this many days before NotAfter.
    pub private_renewal_days: i64,
    /// Days after the window opened before a missing renewal counts as not started.
    pub renewal_grace_days: i64,
    /// A renewal pending for longer than this many hours has stalled (ACM gives up after 72 h).
    pub stalled_after_hours: i64,
    /// A request still pending validation after this many hours is stuck.
    pub request_stuck_hours: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            urgent_days: 7,
            action_days: 45,
            renewal_windows: vec![
                RenewalWindow {
                    max_lifetime_days: 200,
                    days_before_expiry: 45,
                },
                RenewalWindow {
                    max_lifetime_days: 400,
                    days_before_expiry: 60,
                },
            ],
            private_renewal_days: 60,
            renewal_grace_days: 3,
            stalled_after_hours: 72,
            request_stuck_hours: 24,
        }
    }
}

/// A policy value that makes no sense; `key` is the config key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub key: &'static str,
    pub reason: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy.{}: {}", self.key, self.reason)
    }
}

impl std::error::Error for PolicyError {}

impl Policy {
    pub fn validate(&self) -> Result<(), PolicyError> {
        let err = |key, reason: &str| {
            Err(PolicyError {
                key,
                reason: reason.to_owned(),
            })
        };
        if self.urgent_days < 0 {
            return err("urgent_days", "must be 0 or more");
        }
        if self.action_days < self.urgent_days {
            return err("action_days", "must be at least urgent_days");
        }
        if self.renewal_windows.is_empty() {
            return err("renewal_windows", "needs at least one window");
        }
        if self
            .renewal_windows
            .windows(2)
            .any(|w| w[0].max_lifetime_days >= w[1].max_lifetime_days)
        {
            return err(
                "renewal_windows",
                "max_lifetime_days must increase from one window to the next",
            );
        }
        if self
            .renewal_windows
            .iter()
            .any(|w| w.days_before_expiry <= 0 || w.max_lifetime_days <= 0)
        {
            return err("renewal_windows", "days must be positive");
        }
        for (key, value) in [
            ("private_renewal_days", self.private_renewal_days),
            ("stalled_after_hours", self.stalled_after_hours),
            ("request_stuck_hours", self.request_stuck_hours),
        ] {
            if value <= 0 {
                return err(key, "must be positive");
            }
        }
        if self.renewal_grace_days < 0 {
            return err("renewal_grace_days", "must be 0 or more");
        }
        // Larger values mean nothing for a certificate and would overflow date arithmetic.
        let days = [
            ("urgent_days", self.urgent_days),
            ("action_days", self.action_days),
            ("private_renewal_days", self.private_renewal_days),
            ("renewal_grace_days", self.renewal_grace_days),
        ]
        .into_iter()
        .chain(self.renewal_windows.iter().flat_map(|w| {
            [
                ("renewal_windows", w.days_before_expiry),
                ("renewal_windows", w.max_lifetime_days),
            ]
        }));
        for (key, value) in days {
            if value > MAX_DAYS {
                return err(key, "must be at most 36500 days (100 years)");
            }
        }
        for (key, value) in [
            ("stalled_after_hours", self.stalled_after_hours),
            ("request_stuck_hours", self.request_stuck_hours),
        ] {
            if value > MAX_DAYS * 24 {
                return err(key, "must be at most 876000 hours (100 years)");
            }
        }
        Ok(())
    }

    /// Days before NotAfter at which ACM starts renewing a public certificate of this lifetime.
    pub fn public_window_days(&self, lifetime_days: Option<i64>) -> i64 {
        let last = self
            .renewal_windows
            .last()
            .map_or(60, |w| w.days_before_expiry);
        match lifetime_days {
            Some(days) => self
                .renewal_windows
                .iter()
                .find(|w| days <= w.max_lifetime_days)
                .map_or(last, |w| w.days_before_expiry),
            None => last,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_past_a_century_are_refused_by_name() {
        type Change = fn(&mut Policy);
        let cases: [(&str, Change); 6] = [
            ("private_renewal_days", |p| {
                p.private_renewal_days = 100_000_000
            }),
            ("renewal_grace_days", |p| {
                p.renewal_grace_days = MAX_DAYS + 1
            }),
            ("action_days", |p| p.action_days = i64::MAX),
            ("renewal_windows", |p| {
                p.renewal_windows.last_mut().unwrap().days_before_expiry = MAX_DAYS + 1
            }),
            ("stalled_after_hours", |p| p.stalled_after_hours = i64::MAX),
            ("request_stuck_hours", |p| {
                p.request_stuck_hours = MAX_DAYS * 24 + 1
            }),
        ];
        for (key, change) in cases {
            let mut policy = Policy::default();
            change(&mut policy);
            let error = policy.validate().expect_err(key);
            assert_eq!(error.key, key);
        }
        // The largest accepted values are usable: classifying with them does not overflow.
        let policy = Policy {
            urgent_days: MAX_DAYS,
            action_days: MAX_DAYS,
            private_renewal_days: MAX_DAYS,
            renewal_grace_days: MAX_DAYS,
            stalled_after_hours: MAX_DAYS * 24,
            request_stuck_hours: MAX_DAYS * 24,
            ..Policy::default()
        };
        policy.validate().expect("the largest values are valid");
        for days in [-400, -1, 0, 30, 400] {
            let cert =
                crate::rules::test_support::expires_in(crate::rules::test_support::healthy(), days);
            let _ = crate::classify(&cert, crate::rules::test_support::now(), &policy);
        }
    }
}
