//! RENEWAL_STALLED: ACM's renewal has sat in PENDING_AUTO_RENEWAL for longer than an attempt
//! lasts (72 hours): something outside ACM (DNS, CAA) keeps it from finishing, and AWS will only
//! say so once it fails.

use super::{cname_list, date, Ctx};
use crate::facts::RenewalStatus;
use crate::finding::{Code, Finding, Urgency};
use chrono::Duration;

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let renewal = ctx.cert.renewal_summary.as_ref()?;
    if renewal.renewal_status != RenewalStatus::PendingAutoRenewal {
        return None;
    }
    let since = renewal.updated_at?;
    if ctx.now - since < Duration::hours(ctx.policy.stalled_after_hours) {
        return None;
    }
    let records = cname_list(&ctx.cert.domain_validation_options);
    let dns = if records.is_empty() {
        String::new()
    } else {
        format!(" ({})", records.join("; "))
    };
    Some(ctx.finding(
        Code::RenewalStalled,
        Urgency::Action,
        format!(
            "{}: renewal pending since {} without progress; it {}",
            ctx.name(),
            date(since),
            ctx.expiry_phrase()
        ),
        format!(
            "Check that every validation CNAME still resolves{dns} and that no CAA record \
             forbids amazon.com; if both are fine, open a case with AWS Support {}.",
            ctx.deadline()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{Code, RenewalStatus, RenewalSummary, Urgency};
    use chrono::Duration;

    fn pending_since(hours: i64) -> crate::CertificateFacts {
        let mut c = expires_in(healthy(), 40);
        c.renewal_summary = Some(RenewalSummary {
            renewal_status: RenewalStatus::PendingAutoRenewal,
            renewal_status_reason: None,
            updated_at: Some(now() - Duration::hours(hours)),
            domain_validation_options: vec![],
        });
        c
    }

    #[test]
    fn stalls_after_72_hours() {
        check(&pending_since(71), &[]);
        let f = check(
            &pending_since(72),
            &[(Code::RenewalStalled, Urgency::Action)],
        );
        assert!(f[0].remedy.contains("_x1.shop.example.com. CNAME"));
        assert!(
            f[0].summary.contains("pending since 2026-05-29"),
            "{}",
            f[0].summary
        );
    }
}
