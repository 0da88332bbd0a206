//! RENEWAL_NOT_STARTED: the certificate is eligible (in use or exported) and ACM's renewal window
//! opened days ago, yet there is no RenewalSummary: ACM has not even started. Usually validation
//! records are gone or the certificate stopped being in use between checks.

use super::{cname_list, date, Ctx};
use crate::facts::{CertStatus, CertType};
use crate::finding::{Code, Finding, Urgency};
use chrono::Duration;

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let cert = ctx.cert;
    if !matches!(cert.cert_type, CertType::AmazonIssued | CertType::Private)
        || cert.status != CertStatus::Issued
        // Without DescribeCertificate we cannot know whether a renewal exists.
        || !cert.described
        || cert.renewal_summary.is_some()
        || !cert.renewal_eligible_by_use()
    {
        return None;
    }
    let opened = ctx.window_opens()?;
    if ctx.now < opened + Duration::days(ctx.policy.renewal_grace_days) {
        return None;
    }
    let records = cname_list(&cert.domain_validation_options);
    let dns = if records.is_empty() {
        String::new()
    } else {
        format!(" Validation records: {}", records.join("; "))
    };
    Some(ctx.finding(
        Code::RenewalNotStarted,
        Urgency::Action,
        format!(
            "{}: ACM should have started renewing on {} but has not; it {}",
            ctx.name(),
            date(opened),
            ctx.expiry_phrase()
        ),
        format!(
            "Check that every validation CNAME is still in public DNS and that {} still uses \
             the certificate; if both hold, open a case with AWS Support, or request a \
             replacement {}.{dns}",
            ctx.users(),
            ctx.deadline()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{CertType, Code, Urgency};
    use chrono::Duration;

    fn lifetime(days_left: i64, lifetime: i64) -> crate::CertificateFacts {
        let mut c = expires_in(healthy(), days_left);
        c.not_before = Some(c.not_after.unwrap() - Duration::days(lifetime));
        c
    }

    #[test]
    fn window_depends_on_lifetime() {
        // 198-day certificate: window opens at 45 days, grace 3 days → flagged from 42 days.
        check(&lifetime(43, 198), &[]);
        let f = check(
            &lifetime(41, 198),
            &[(Code::RenewalNotStarted, Urgency::Action)],
        );
        assert!(f[0].remedy.contains("_x1.shop.example.com. CNAME"));
        // 395-day certificate: window opens at 60 days.
        check(&lifetime(58, 395), &[]);
        check(
            &lifetime(56, 395),
            &[(Code::RenewalNotStarted, Urgency::Action)],
        );
        check(
            &lifetime(5, 395),
            &[(Code::RenewalNotStarted, Urgency::Urgent)],
        );
    }

    #[test]
    fn private_uses_its_own_window_and_summary_only_is_not_judged() {
        let mut c = lifetime(50, 198);
        c.cert_type = CertType::Private;
        check(&c, &[(Code::RenewalNotStarted, Urgency::Action)]);
        c.described = false;
        check(&c, &[]);
    }
}
