//! NOT_IN_USE: an Amazon-issued or private certificate that no AWS service uses and that was never
//! exported. ACM renews only certificates in use (or exported), so this one will lapse. Either
//! attach it before the renewal window opens, or delete it.

use super::{date, Ctx};
use crate::facts::{CertStatus, CertType};
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let cert = ctx.cert;
    if !matches!(cert.cert_type, CertType::AmazonIssued | CertType::Private)
        || cert.status != CertStatus::Issued
        || cert.renewal_eligible_by_use()
    {
        return None;
    }
    let attach_by = match ctx.window_opens() {
        Some(at) if at > ctx.now => format!("before {} (when ACM decides on renewal)", date(at)),
        _ => "now (ACM's renewal window is already open)".to_owned(),
    };
    Some(ctx.finding(
        Code::NotInUse,
        Urgency::Upcoming,
        format!(
            "{} is not in use and was never exported: ACM will not renew it; it {}",
            ctx.name(),
            ctx.expiry_phrase()
        ),
        format!(
            "If it is needed, attach it to a load balancer, CloudFront distribution or API \
             Gateway {attach_by}; if not, delete it (aws acm delete-certificate \
             --certificate-arn {} --region {}).",
            cert.arn, cert.region
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{CertStatus, Code, Urgency};

    fn unused(days: i64) -> crate::CertificateFacts {
        let mut c = expires_in(healthy(), days);
        c.in_use = false;
        c.in_use_by.clear();
        c.renewal_eligibility = Some(crate::RenewalEligibility::Ineligible);
        c
    }

    #[test]
    fn unused_certificates_lapse() {
        let f = check(&unused(150), &[(Code::NotInUse, Urgency::Upcoming)]);
        assert!(f[0].remedy.contains("delete-certificate"));
        assert!(f[0].remedy.contains("before 2026-"), "{}", f[0].remedy);
        let f = check(&unused(20), &[(Code::NotInUse, Urgency::Action)]);
        assert!(f[0].remedy.contains("already open"));
    }

    #[test]
    fn exported_counts_as_used_and_pending_requests_are_not_judged_here() {
        let mut c = unused(150);
        c.exported = true;
        check(&c, &[]);
        let mut c = unused(150);
        c.status = CertStatus::Inactive;
        check(&c, &[]);
    }
}
