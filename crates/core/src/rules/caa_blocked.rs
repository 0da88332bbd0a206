//! CAA_BLOCKED: a CAA record on one of the domains does not allow Amazon to issue, so the renewal
//! (or the request) failed with CAA_ERROR. The DNS owner must allow amazon.com in CAA.

use super::Ctx;
use crate::facts::Reason;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    if ctx.failure_reason() != Some(&Reason::CaaError) {
        return None;
    }
    let wildcard = if ctx.cert.has_wildcard() {
        " and 0 issuewild \"amazon.com\""
    } else {
        ""
    };
    Some(ctx.finding(
        Code::CaaBlocked,
        Urgency::Action,
        format!(
            "{}: {} failed because a CAA record forbids Amazon; it {}",
            ctx.name(),
            ctx.what_failed(),
            ctx.expiry_phrase()
        ),
        format!(
            "Add 0 issue \"amazon.com\"{wildcard} to the CAA records of {} (or of the parent \
             domain that carries the CAA set), then request the certificate again {}.",
            ctx.domains(),
            ctx.deadline()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{CertStatus, Code, Reason, RenewalStatus, RenewalSummary, Urgency};

    #[test]
    fn failed_renewal_with_caa_error() {
        let mut c = expires_in(healthy(), 100);
        c.renewal_summary = Some(RenewalSummary {
            renewal_status: RenewalStatus::Failed,
            renewal_status_reason: Some(Reason::CaaError),
            updated_at: None,
            domain_validation_options: vec![],
        });
        let f = check(&c, &[(Code::CaaBlocked, Urgency::Action)]);
        assert!(f[0].remedy.contains("0 issue \"amazon.com\""));
        assert!(!f[0].remedy.contains("issuewild"));
        // Close to expiry the date wins.
        check(&expires_in(c, 3), &[(Code::CaaBlocked, Urgency::Urgent)]);
    }

    #[test]
    fn failed_wildcard_request_mentions_issuewild() {
        let mut c = healthy();
        c.status = CertStatus::Failed;
        c.not_after = None;
        c.in_use = false;
        c.in_use_by.clear();
        c.domain_name = Some("*.example.com".into());
        c.subject_alternative_names = vec!["*.example.com".into()];
        c.failure_reason = Some(Reason::CaaError);
        let f = check(&c, &[(Code::CaaBlocked, Urgency::Action)]);
        assert!(f[0].remedy.contains("issuewild"));
        assert!(f[0].summary.contains("request failed"));
    }
}
