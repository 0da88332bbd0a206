//! CAA_FORBIDS_AMAZON: the relevant CAA set of a certificate name (RFC 8659: the first non-empty
//! set climbing from the name towards the root, a CNAME's target counting) names no Amazon
//! issuer, so ACM's next renewal (or request) will fail with CAA_ERROR. The DNS owner must add
//! an Amazon record to the name that carries the set. An Amazon record with parameters
//! (`accounturi`, `validationmethods`) may or may not let ACM issue: reported as "check by hand".

use super::Ctx;
use crate::checks::{Answer, CaaRecord};
use crate::finding::{Code, Finding, Urgency};

/// The issuer domain names ACM's CAs use (AWS's CAA documentation).
pub const AMAZON_ISSUERS: [&str; 4] = [
    "amazon.com",
    "amazontrust.com",
    "awstrust.com",
    "amazonaws.com",
];

/// Property tags this version understands; an unknown tag with the critical flag forbids
/// issuance (RFC 8659 §4.1).
const KNOWN_TAGS: [&str; 7] = [
    "issue",
    "issuewild",
    "iodef",
    "issuemail",
    "issuevmc",
    "contactemail",
    "contactphone",
];

/// What a relevant CAA set says of Amazon issuing for one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaaVerdict {
    Allowed,
    /// Why not, e.g. `only letsencrypt.org may issue`.
    Forbidden(String),
    /// An Amazon record with parameters: ACM's handling of them is not documented.
    CheckByHand(String),
}

/// The verdict of the relevant set `records` for `domain` (`*.X` for a wildcard).
pub fn caa_allows_amazon(domain: &str, records: &[CaaRecord]) -> CaaVerdict {
    if let Some(critical) = records
        .iter()
        .find(|r| r.flags & 0x80 != 0 && !KNOWN_TAGS.contains(&r.tag.to_ascii_lowercase().as_str()))
    {
        return CaaVerdict::Forbidden(format!(
            "the critical property {:?} is unknown to CAs, so none may issue",
            critical.tag
        ));
    }
    let tag_is = |r: &&CaaRecord, tag: &str| r.tag.eq_ignore_ascii_case(tag);
    let wildcard = domain.starts_with("*.");
    let has_issuewild = records.iter().any(|r| tag_is(&r, "issuewild"));
    let tag = if wildcard && has_issuewild {
        "issuewild"
    } else {
        "issue"
    };
    let applicable: Vec<&CaaRecord> = records.iter().filter(|r| tag_is(r, tag)).collect();
    if applicable.is_empty() {
        return CaaVerdict::Allowed;
    }
    let mut issuers = Vec::new();
    for record in &applicable {
        let (issuer, parameters) = match record.value.split_once(';') {
            Some((issuer, parameters)) => (issuer.trim(), parameters.trim()),
            None => (record.value.trim(), ""),
        };
        if issuer.is_empty() {
            continue;
        }
        if AMAZON_ISSUERS
            .iter()
            .any(|a| a.eq_ignore_ascii_case(issuer))
        {
            if parameters.is_empty() {
                return CaaVerdict::Allowed;
            }
            return CaaVerdict::CheckByHand(format!(
                "{tag} \"{}\" carries parameters ACM may not accept",
                record.value
            ));
        }
        issuers.push(issuer.to_owned());
    }
    CaaVerdict::Forbidden(if issuers.is_empty() {
        format!("its {tag} records ({}) allow no CA", quoted(&applicable))
    } else {
        format!("only {} may issue ({tag})", issuers.join(", "))
    })
}

fn quoted(records: &[&CaaRecord]) -> String {
    records
        .iter()
        .map(|r| format!("{} {} \"{}\"", r.flags, r.tag, r.value))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    if ctx.cert.cert_type != crate::CertType::AmazonIssued {
        return None;
    }
    let mut forbidden = Vec::new();
    let mut by_hand = Vec::new();
    let mut add = Vec::new();
    for caa in &ctx.checks()?.caa {
        if caa.answer != Answer::Records {
            continue;
        }
        let at = caa.found_at.as_deref().unwrap_or(&caa.domain);
        let tag = if caa.domain.starts_with("*.") {
            "issuewild"
        } else {
            "issue"
        };
        match caa_allows_amazon(&caa.domain, &caa.records) {
            CaaVerdict::Allowed => {}
            CaaVerdict::Forbidden(why) => {
                forbidden.push(format!("{} (set at {at}: {why})", caa.domain));
                let line = format!("{at} CAA 0 {tag} \"amazon.com\"");
                if !add.contains(&line) {
                    add.push(line);
                }
            }
            CaaVerdict::CheckByHand(why) => {
                by_hand.push(format!("{} (set at {at}: {why})", caa.domain))
            }
        }
    }
    if forbidden.is_empty() && by_hand.is_empty() {
        return None;
    }
    let (summary, remedy) = if forbidden.is_empty() {
        (
            format!(
                "{}: the CAA record for Amazon on {} has parameters; check by hand that ACM can renew it",
                ctx.name(),
                by_hand.join(", ")
            ),
            format!(
                "Check that ACM accepts the parameters, or add a plain record without them; the \
                 certificate {}.",
                ctx.expiry_phrase()
            ),
        )
    } else {
        let mut remedy = format!("Add {} to public DNS {}.", add.join("; "), ctx.deadline());
        if !by_hand.is_empty() {
            remedy.push_str(&format!(" Also check by hand: {}.", by_hand.join(", ")));
        }
        (
            format!(
                "{}: CAA forbids Amazon to issue for {}, so ACM's renewal will fail; it {}",
                ctx.name(),
                forbidden.join(", "),
                ctx.expiry_phrase()
            ),
            remedy,
        )
    };
    Some(ctx.finding(Code::CaaForbidsAmazon, Urgency::Upcoming, summary, remedy))
}

#[cfg(test)]
mod tests {
    use super::{caa_allows_amazon, CaaRecord, CaaVerdict};
    use crate::rules::test_support::*;
    use crate::{Answer, CaaCheck, Code, Urgency};

    fn rec(flags: u8, tag: &str, value: &str) -> CaaRecord {
        CaaRecord {
            flags,
            tag: tag.into(),
            value: value.into(),
        }
    }

    #[test]
    fn issue_and_issuewild() {
        let le = rec(0, "issue", "letsencrypt.org");
        let amazon = rec(0, "issue", "amazon.com");
        assert_eq!(
            caa_allows_amazon("a.example.com", std::slice::from_ref(&amazon)),
            CaaVerdict::Allowed
        );
        assert!(
            matches!(caa_allows_amazon("a.example.com", std::slice::from_ref(&le)), CaaVerdict::Forbidden(w) if w.contains("letsencrypt.org"))
        );
        // A wildcard follows issue when the set has no issuewild …
        assert_eq!(
            caa_allows_amazon("*.example.com", std::slice::from_ref(&amazon)),
            CaaVerdict::Allowed
        );
        // … and only issuewild once it has one.
        let wild_le = rec(0, "issuewild", "letsencrypt.org");
        assert!(matches!(
            caa_allows_amazon("*.example.com", &[amazon.clone(), wild_le.clone()]),
            CaaVerdict::Forbidden(_)
        ));
        assert_eq!(
            caa_allows_amazon("www.example.com", &[amazon.clone(), wild_le]),
            CaaVerdict::Allowed
        );
        let wild_amazon = rec(0, "issuewild", "amazontrust.com");
        assert_eq!(
            caa_allows_amazon("*.example.com", &[le.clone(), wild_amazon.clone()]),
            CaaVerdict::Allowed
        );
        assert!(matches!(
            caa_allows_amazon("www.example.com", &[le, wild_amazon]),
            CaaVerdict::Forbidden(_)
        ));
    }

    #[test]
    fn semicolon_critical_tags_iodef_and_parameters() {
        assert!(
            matches!(caa_allows_amazon("a.example.com", &[rec(0, "issue", ";")]), CaaVerdict::Forbidden(w) if w.contains("allow no CA"))
        );
        assert!(matches!(
            caa_allows_amazon("a.example.com", &[rec(0, "issue", "amazon.com"), rec(128, "tbs", "x")]),
            CaaVerdict::Forbidden(w) if w.contains("\"tbs\"")
        ));
        // An unknown tag without the critical flag is ignored.
        assert_eq!(
            caa_allows_amazon(
                "a.example.com",
                &[rec(0, "issue", "amazon.com"), rec(0, "tbs", "x")]
            ),
            CaaVerdict::Allowed
        );
        // iodef alone restricts nothing.
        assert_eq!(
            caa_allows_amazon(
                "a.example.com",
                &[rec(0, "iodef", "mailto:sec@example.com")]
            ),
            CaaVerdict::Allowed
        );
        assert!(matches!(
            caa_allows_amazon(
                "a.example.com",
                &[rec(0, "issue", "amazon.com; accounturi=https://acme/1")]
            ),
            CaaVerdict::CheckByHand(_)
        ));
        assert_eq!(
            caa_allows_amazon("a.example.com", &[rec(0, "ISSUE", "AmazonAWS.com")]),
            CaaVerdict::Allowed
        );
    }

    fn with_caa(domain: &str, at: &str, records: Vec<CaaRecord>) -> crate::CertificateFacts {
        let mut c = checked(healthy());
        c.checks.as_mut().unwrap().caa = vec![CaaCheck {
            domain: domain.into(),
            answer: Answer::Records,
            found_at: Some(at.into()),
            records,
        }];
        c
    }

    #[test]
    fn finding_names_the_set_and_the_record_to_add() {
        let c = with_caa(
            "www.shop.example.com",
            "example.com",
            vec![rec(0, "issue", "letsencrypt.org")],
        );
        let f = check(&c, &[(Code::CaaForbidsAmazon, Urgency::Upcoming)]);
        assert!(f[0].summary.contains("set at example.com"));
        assert!(f[0]
            .remedy
            .contains("example.com CAA 0 issue \"amazon.com\""));
        let c = with_caa(
            "*.shop.example.com",
            "shop.example.com",
            vec![rec(0, "issue", "amazon.com"), rec(0, "issuewild", ";")],
        );
        let f = check(&c, &[(Code::CaaForbidsAmazon, Urgency::Upcoming)]);
        assert!(f[0]
            .remedy
            .contains("shop.example.com CAA 0 issuewild \"amazon.com\""));
        let c = with_caa(
            "www.shop.example.com",
            "example.com",
            vec![rec(0, "issue", "amazon.com; validationmethods=dns-01")],
        );
        let f = check(&c, &[(Code::CaaForbidsAmazon, Urgency::Upcoming)]);
        assert!(f[0].summary.contains("check by hand"));
        let mut imported = with_caa(
            "www.shop.example.com",
            "example.com",
            vec![rec(0, "issue", ";")],
        );
        imported.cert_type = crate::CertType::Imported;
        check(&imported, &[(Code::Imported, Urgency::Upcoming)]);
    }
}
