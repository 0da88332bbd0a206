//! The relevant CAA set of a certificate name (RFC 8659 §3).
//!
//! For name X (for `*.X`, from X): ask CAA at X; an empty answer (NXDOMAIN or NODATA) moves to
//! X's parent, and so on up to, not including, the root, so the top-level domain is asked too.
//! The first non-empty set is the relevant one. A CNAME at a level is followed and its target's
//! records count (the target's parents are never climbed: an empty target moves on to the
//! level's own parent). A level that cannot be asked ends the climb as `Failed`. Parents are
//! shared by many names; the lookup cache asks each once per scan.

use crate::lookup::{Data, Lookups, Resolved};
use certwatch_core::{Answer, CaaCheck, CaaRecord};
use hickory_resolver::proto::rr::rdata::CAA;
use hickory_resolver::proto::rr::RecordType;

/// The relevant set for `domain` as on the certificate, and the failure text if a level of the
/// climb could not be asked.
pub(crate) async fn relevant_set(lookups: &Lookups, domain: &str) -> (CaaCheck, Option<String>) {
    let mut check = CaaCheck {
        domain: domain.to_owned(),
        answer: Answer::NoData,
        found_at: None,
        records: Vec::new(),
    };
    for level in levels(domain) {
        match &*lookups.resolve(level, RecordType::CAA).await {
            Resolved::Records {
                data: Data::Caa { owner, records },
                ..
            } => {
                check.answer = Answer::Records;
                check.found_at = Some(owner.to_string());
                check.records = records.to_vec();
                return (check, None);
            }
            Resolved::Failed(error) => {
                check.answer = Answer::Failed;
                return (check, Some(error.to_string()));
            }
            // Empty here: the parent's set is the next candidate.
            Resolved::Records { .. } | Resolved::NxDomain { .. } | Resolved::NoData { .. } => {}
        }
    }
    (check, None)
}

/// The names asked, from the name itself (X for `*.X`) up to the top-level domain.
fn levels(domain: &str) -> Vec<&str> {
    let name = domain.trim().trim_end_matches('.');
    let name = name.strip_prefix("*.").unwrap_or(name);
    let mut levels = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        levels.push(rest);
        rest = rest.split_once('.').map_or("", |(_, parent)| parent);
    }
    levels
}

/// One property as found: flags, the tag lowercase, the value as written (an `issue` value's
/// parameters and an unknown tag's value are kept verbatim).
pub(crate) fn record(caa: &CAA) -> CaaRecord {
    CaaRecord {
        flags: caa.flags(),
        tag: caa.tag.to_ascii_lowercase(),
        value: String::from_utf8_lossy(&caa.value).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::rdata::caa::KeyValue;
    use hickory_resolver::proto::rr::Name;

    #[test]
    fn the_climb_goes_up_to_the_top_level_domain() {
        assert_eq!(
            levels("www.shop.example.com"),
            [
                "www.shop.example.com",
                "shop.example.com",
                "example.com",
                "com"
            ]
        );
        assert_eq!(levels("*.example.com."), ["example.com", "com"]);
        assert_eq!(levels("localhost"), ["localhost"]);
        assert!(levels("").is_empty());
    }

    #[test]
    fn values_are_kept_as_written() {
        let issue = CAA::new_issue(
            false,
            Some(Name::from_ascii("amazon.com").unwrap()),
            vec![KeyValue::new("accounturi", "https://acme.test/1")],
        );
        let r = record(&issue);
        assert_eq!((r.flags, r.tag.as_str()), (0, "issue"));
        assert_eq!(r.value, "amazon.com; accounturi=https://acme.test/1");
        assert_eq!(record(&CAA::new_issue(false, None, vec![])).value, ";");
        let mut unknown = CAA::new_issue(true, None, vec![]);
        unknown.tag = "TBS".into();
        unknown.value = b"anything at all".to_vec();
        let r = record(&unknown);
        assert_eq!((r.flags, r.tag.as_str()), (128, "tbs"));
        assert_eq!(r.value, "anything at all");
    }
}
