//! IMPORTED: ACM never renews an imported certificate. Someone must import a renewed certificate
//! into the same ARN (so every service using it picks it up) before NotAfter.

use super::Ctx;
use crate::facts::CertType;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let cert = ctx.cert;
    if cert.cert_type != CertType::Imported {
        return None;
    }
    let used = match cert.in_use_by.as_slice() {
        [] if cert.in_use => " (in use)".to_owned(),
        [] => String::new(),
        _ => format!(" (used by {})", ctx.users()),
    };
    Some(ctx.finding(
        Code::Imported,
        Urgency::Upcoming,
        format!(
            "Imported {} {}; ACM never renews imported certificates",
            ctx.name(),
            ctx.expiry_phrase()
        ),
        format!(
            "Re-import a renewed certificate into {}{used} {} (aws acm import-certificate \
             --certificate-arn {} --certificate fileb://cert.pem --private-key fileb://key.pem \
             --certificate-chain fileb://chain.pem --region {}), or replace it with an ACM-issued \
             certificate that renews by itself.",
            cert.arn,
            ctx.deadline(),
            cert.arn,
            cert.region
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{CertType, Code, Urgency};

    fn imported(days: i64) -> crate::CertificateFacts {
        let mut c = expires_in(healthy(), days);
        c.cert_type = CertType::Imported;
        c.domain_validation_options.clear();
        c.renewal_eligibility = Some(crate::RenewalEligibility::Ineligible);
        c
    }

    #[test]
    fn urgency_follows_days_left() {
        for (days, urgency) in [
            (0, Urgency::Urgent),
            (5, Urgency::Urgent),
            (7, Urgency::Urgent),
            (8, Urgency::Action),
            (30, Urgency::Action),
            (45, Urgency::Action),
            (46, Urgency::Upcoming),
            (200, Urgency::Upcoming),
        ] {
            check(&imported(days), &[(Code::Imported, urgency)]);
        }
    }

    #[test]
    fn remedy_names_the_arn_and_the_date() {
        let f = check(&imported(5), &[(Code::Imported, Urgency::Urgent)]);
        assert!(f[0]
            .remedy
            .starts_with("Re-import a renewed certificate into arn:aws:acm:"));
        assert!(f[0].remedy.contains("before 2026-06-06"), "{}", f[0].remedy);
        assert!(
            f[0].summary.contains("expires in 5 days (2026-06-06)"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn imported_and_unused_is_not_also_not_in_use() {
        let mut c = imported(100);
        c.in_use = false;
        c.in_use_by.clear();
        check(&c, &[(Code::Imported, Urgency::Upcoming)]);
    }
}
