//! REQUEST_STUCK: a certificate request that never became a certificate: still pending
//! validation after a day, timed out (ACM gives up after 72 hours), or failed for a reason no
//! other rule covers. Nothing can be using it; someone meant to, so it needs a human.

use super::{cname_list, date, Ctx};
use crate::facts::{CertStatus, ValidationMethod};
use crate::finding::{Code, Finding, Urgency};
use chrono::Duration;

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let cert = ctx.cert;
    let since = cert
        .created_at
        .map_or_else(|| "an unknown date".to_owned(), date);
    let (summary, remedy) = match &cert.status {
        CertStatus::PendingValidation => {
            let created = cert.created_at?;
            if ctx.now - created < Duration::hours(ctx.policy.request_stuck_hours) {
                return None;
            }
            let records = cname_list(&cert.domain_validation_options);
            let how = if cert.validation_method() == Some(&ValidationMethod::Email) {
                "approve the validation emails ACM sent".to_owned()
            } else if records.is_empty() {
                "create the validation records shown in the console".to_owned()
            } else {
                format!("create the validation record(s) {}", records.join("; "))
            };
            (
                format!(
                    "Request for {} pending validation since {since}",
                    ctx.name()
                ),
                format!(
                    "To finish it, {how}; ACM gives up 72 hours after the request. If it is not \
                     needed, delete it."
                ),
            )
        }
        CertStatus::ValidationTimedOut => (
            format!(
                "Request for {} timed out waiting for validation ({since})",
                ctx.name()
            ),
            "Delete it and request it again, then complete validation within 72 hours.".to_owned(),
        ),
        CertStatus::Failed => {
            let reason = cert.failure_reason.as_ref();
            // CAA, domain and private-CA failures have rules of their own.
            if reason.is_some_and(|r| {
                r.is_private_ca() || r.is_domain_blocked() || *r == crate::Reason::CaaError
            }) {
                return None;
            }
            let reason = reason.map_or("no reason given".to_owned(), |r| r.to_string());
            (
                format!("Request for {} failed ({reason})", ctx.name()),
                "Delete it and request it again; open a case with AWS Support if it fails again."
                    .to_owned(),
            )
        }
        _ => return None,
    };
    Some(ctx.finding(Code::RequestStuck, Urgency::Upcoming, summary, remedy))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{CertStatus, Code, Reason, Urgency};
    use chrono::Duration;

    fn request(status: CertStatus, hours: i64) -> crate::CertificateFacts {
        let mut c = healthy();
        c.status = status;
        c.not_after = None;
        c.not_before = None;
        c.in_use = false;
        c.in_use_by.clear();
        c.created_at = Some(now() - Duration::hours(hours));
        c
    }

    #[test]
    fn pending_for_a_day_is_stuck() {
        check(&request(CertStatus::PendingValidation, 3), &[]);
        let f = check(
            &request(CertStatus::PendingValidation, 30),
            &[(Code::RequestStuck, Urgency::Upcoming)],
        );
        assert!(f[0]
            .remedy
            .contains("_x1.shop.example.com. CNAME _y1.acm-validations.aws."));
    }

    #[test]
    fn timed_out_and_failed_requests() {
        check(
            &request(CertStatus::ValidationTimedOut, 100),
            &[(Code::RequestStuck, Urgency::Upcoming)],
        );
        let mut c = request(CertStatus::Failed, 100);
        c.failure_reason = Some(Reason::Unspecified);
        let f = check(&c, &[(Code::RequestStuck, Urgency::Upcoming)]);
        assert!(f[0].summary.contains("(OTHER)"));
        c.failure_reason = Some(Reason::CaaError);
        check(&c, &[(Code::CaaBlocked, Urgency::Action)]);
    }
}
