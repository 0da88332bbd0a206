//! An account the scan covered, and what the organization says about it: where it sits (its
//! organizational units, root first) and its tags. What routes an account's certificates to
//! the people who own it.

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
        }
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
}
