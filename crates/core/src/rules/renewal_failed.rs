//! RENEWAL_FAILED: ACM's managed renewal failed for a reason without a more specific rule (OTHER,
//! none, or a value this version does not know). The certificate will expire unless replaced.

use super::Ctx;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    if !ctx.renewal_failed() {
        return None;
    }
    let reason = ctx.failure_reason();
    if reason.is_some_and(|r| {
        r.is_private_ca() || r.is_domain_blocked() || *r == crate::Reason::CaaError
    }) {
        return None;
    }
    let reason = reason.map_or("no reason given".to_owned(), |r| r.to_string());
    Some(ctx.finding(
        Code::RenewalFailed,
        Urgency::Action,
        format!(
            "{}: ACM's renewal failed ({reason}); it {}",
            ctx.name(),
            ctx.expiry_phrase()
        ),
        format!(
            "Request a new certificate for {}, validate it, and move {} to it {}; \
             open a case with AWS Support if the new request fails too.",
            ctx.domains(),
            ctx.users(),
            ctx.deadline()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{Code, Reason, RenewalStatus, RenewalSummary, Urgency};

    fn failed(reason: Option<&str>, days: i64) -> crate::CertificateFacts {
        let mut c = expires_in(healthy(), days);
        c.renewal_summary = Some(RenewalSummary {
            renewal_status: RenewalStatus::Failed,
            renewal_status_reason: reason.map(Reason::parse),
            updated_at: None,
            domain_validation_options: vec![],
        });
        c
    }

    #[test]
    fn generic_failures() {
        let f = check(
            &failed(Some("OTHER"), 90),
            &[(Code::RenewalFailed, Urgency::Action)],
        );
        assert!(f[0].summary.contains("(OTHER)"));
        check(&failed(None, 90), &[(Code::RenewalFailed, Urgency::Action)]);
        let f = check(
            &failed(Some("BRAND_NEW"), 2),
            &[(Code::RenewalFailed, Urgency::Urgent)],
        );
        assert!(
            f[0].summary.contains("BRAND_NEW"),
            "unknown reasons are shown raw"
        );
    }

    #[test]
    fn specific_reasons_are_left_to_their_rules() {
        check(
            &failed(Some("CAA_ERROR"), 90),
            &[(Code::CaaBlocked, Urgency::Action)],
        );
        check(
            &failed(Some("DOMAIN_NOT_ALLOWED"), 90),
            &[(Code::DomainBlocked, Urgency::Action)],
        );
    }
}
