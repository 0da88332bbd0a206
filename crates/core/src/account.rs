//! An account the scan covered, and what the organization says about it: where it sits (its
//! organizational units, root first) and its tags. What routes an account's certificates to
//! the people who own it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One account of the organization that the scan covered (ACTIVE, after include/exclude),
/// whether or not its certificates could be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    /// The account's name as Organizations has it (empty for the account certwatch runs in
    /// when the organization could not be listed).
    pub name: String,
    /// Root first, the account's direct parent last, e.g. `[Root r-ab12, Payments
    /// ou-ab12-cdef3456, Cards ou-ab12-…]`. `None` when not learned: not asked for, or the
    /// lookup failed (an `account_metadata` failure row says which call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou_path: Option<Vec<OrgUnit>>,
    /// The account's tags (Organizations' `ListTagsForResource`). `None` when not learned, as
    /// for `ou_path`; `Some` and empty when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// When the scan that learned `ou_path` and `tags` (what it was asked for) ran: a later scan
    /// may reuse them until they are older than its limit ([`Account::learned_since`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned_at: Option<DateTime<Utc>>,
}

/// A root (`r-…`) or an organizational unit (`ou-…`) on an account's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    pub id: String,
    pub name: String,
}

impl Account {
    /// An account with nothing learned about it beyond its id and name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Account {
            id: id.into(),
            name: name.into(),
            ou_path: None,
            tags: None,
            learned_at: None,
        }
    }

    /// Whether what a scan asks for (`ou_path`, `tags`) was learned within `max_age` before
    /// `now`: a rescan may then reuse it instead of asking Organizations again.
    pub fn learned_since(
        &self,
        ou_path: bool,
        tags: bool,
        now: DateTime<Utc>,
        max_age: Duration,
    ) -> bool {
        let learned = self
            .learned_at
            .is_some_and(|at| at <= now && now - at < max_age);
        learned && (!ou_path || self.ou_path.is_some()) && (!tags || self.tags.is_some())
    }

    /// The names on the account's path joined by `/`, root first: `Root/Payments/Cards`.
    /// `None` when the path was not learned. (A name may itself contain `/`; match on
    /// [`Account::ou_path`]'s ids where that matters.)
    pub fn ou_path_string(&self) -> Option<String> {
        let path = self.ou_path.as_ref()?;
        let names: Vec<&str> = path.iter().map(|unit| unit.name.as_str()).collect();
        Some(names.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str, name: &str) -> OrgUnit {
        OrgUnit {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn path_string_is_root_first() {
        let mut account = Account::new("111122223333", "cards-prod");
        assert_eq!(account.ou_path_string(), None);
        account.ou_path = Some(vec![
            unit("r-ab12", "Root"),
            unit("ou-ab12-11111111", "Payments"),
            unit("ou-ab12-22222222", "Cards"),
        ]);
        assert_eq!(
            account.ou_path_string().as_deref(),
            Some("Root/Payments/Cards")
        );
        account.ou_path = Some(vec![unit("r-ab12", "Root")]);
        assert_eq!(account.ou_path_string().as_deref(), Some("Root"));
    }

    #[test]
    fn unlearned_fields_are_left_out_of_json_and_default_when_absent() {
        let account = Account::new("111122223333", "a");
        let json = serde_json::to_value(&account).expect("serialises");
        assert_eq!(json, serde_json::json!({"id": "111122223333", "name": "a"}));
        let back: Account = serde_json::from_value(json).expect("parses");
        assert_eq!(back, account);

        let learned = Account {
            ou_path: Some(vec![unit("r-ab12", "Root")]),
            tags: Some(BTreeMap::from([("team".into(), "payments".into())])),
            ..account
        };
        let json = serde_json::to_string(&learned).expect("serialises");
        assert_eq!(
            json,
            r#"{"id":"111122223333","name":"a","ou_path":[{"id":"r-ab12","name":"Root"}],"tags":{"team":"payments"}}"#
        );
        assert_eq!(
            serde_json::from_str::<Account>(&json).expect("parses"),
            learned
        );
    }

    #[test]
    fn learned_metadata_stands_for_its_max_age_and_only_for_what_was_learned() {
        let now: DateTime<Utc> = "2026-12-06T12:00:00Z".parse().unwrap();
        let day = Duration::hours(24);
        let mut account = Account::new("111111111111", "a");
        assert!(
            !account.learned_since(true, false, now, day),
            "never learned"
        );
        account.ou_path = Some(vec![unit("r-ab12", "Root")]);
        account.learned_at = Some(now - Duration::hours(23));
        assert!(account.learned_since(true, false, now, day));
        assert!(
            !account.learned_since(true, true, now, day),
            "tags were not learned"
        );
        account.learned_at = Some(now - day);
        assert!(
            !account.learned_since(true, false, now, day),
            "a day old: ask again"
        );
        account.learned_at = Some(now + Duration::hours(1));
        assert!(
            !account.learned_since(true, false, now, day),
            "from the future: ask"
        );
    }
}
