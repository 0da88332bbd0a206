//! VALIDATION_RECORD_MISSING: ACM will try to renew this DNS-validated certificate (it is in use,
//! exported or eligible), but a validation CNAME it looks up is gone from public DNS, so the
//! renewal will stall in PENDING_VALIDATION when the window opens. The DNS owner must create the
//! record again, exactly as ACM gives it.

use super::Ctx;
use crate::checks::Answer;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    if !ctx.cert.acm_will_renew(ctx.now) {
        return None;
    }
    let missing: Vec<_> = ctx
        .checks()?
        .validation_records
        .iter()
        .filter(|r| matches!(r.answer, Answer::NxDomain | Answer::NoData))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let domains: Vec<&str> = missing.iter().map(|r| r.domain.as_str()).collect();
    let records: Vec<String> = missing
        .iter()
        .map(|r| {
            format!(
                "{} CNAME {} (DNS answered {})",
                r.name,
                r.expected,
                r.answer.as_str()
            )
        })
        .collect();
    Some(ctx.finding(
        Code::ValidationRecordMissing,
        Urgency::Upcoming,
        format!(
            "{}: the DNS validation record of {} is missing, so ACM's renewal will stall; it {}",
            ctx.name(),
            domains.join(", "),
            ctx.expiry_phrase()
        ),
        format!(
            "Create in public DNS {}: {}.",
            if records.len() == 1 {
                "this record"
            } else {
                "these records"
            },
            records.join("; ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{Answer, Code, Urgency};

    #[test]
    fn fires_for_a_missing_record_of_a_renewing_certificate() {
        let mut c = checked(healthy());
        set_validation(&mut c, 1, Answer::NxDomain, &[]);
        let f = check(&c, &[(Code::ValidationRecordMissing, Urgency::Upcoming)]);
        assert!(f[0]
            .remedy
            .contains("_x1.www.shop.example.com. CNAME _y1.acm-validations.aws."));
        assert!(f[0].remedy.contains("NXDOMAIN"));
        assert!(f[0].summary.contains("www.shop.example.com"));
        set_validation(&mut c, 1, Answer::NoData, &[]);
        check(
            &expires_in(c, 50),
            &[(Code::ValidationRecordMissing, Urgency::Upcoming)],
        );
        // Inside the action window the date raises it.
        let mut late = checked(healthy());
        late.renewal_summary = Some(crate::RenewalSummary {
            renewal_status: crate::RenewalStatus::PendingAutoRenewal,
            renewal_status_reason: None,
            updated_at: Some(now()),
            domain_validation_options: vec![],
        });
        set_validation(&mut late, 0, Answer::NxDomain, &[]);
        check(
            &expires_in(late, 40),
            &[(Code::ValidationRecordMissing, Urgency::Action)],
        );
    }

    #[test]
    fn quiet_when_present_failed_or_not_renewed() {
        let c = checked(healthy());
        check(&c, &[]);
        let mut failed = c.clone();
        set_validation(&mut failed, 0, Answer::Failed, &[]);
        check(&failed, &[]);
        let mut unused = c.clone();
        set_validation(&mut unused, 0, Answer::NxDomain, &[]);
        unused.in_use = false;
        unused.in_use_by.clear();
        unused.renewal_eligibility = Some(crate::RenewalEligibility::Ineligible);
        check(&unused, &[(Code::NotInUse, Urgency::Upcoming)]);
    }
}
