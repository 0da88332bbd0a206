//! EXPIRED: NotAfter has passed (or, for a certificate without NotAfter, ACM says EXPIRED). ACM
//! never renews an expired certificate: whatever uses it is serving an invalid certificate now.
//! Expiry is read from NotAfter, because Status can still say ISSUED for a while after expiry
//! (`CertificateFacts::is_expired`).

use super::Ctx;
use crate::facts::CertType;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let cert = ctx.cert;
    if !cert.is_expired(ctx.now) {
        return None;
    }
    // Without a NotAfter: "has expired" (ACM says EXPIRED).
    let summary = format!("{} {}", ctx.name(), ctx.expiry_phrase());
    let remedy = if cert.cert_type == CertType::Imported {
        format!(
            "Import a renewed certificate into {} (aws acm import-certificate --certificate-arn \
             {} --region {}) so {} serves a valid certificate again.",
            cert.arn,
            cert.arn,
            cert.region,
            ctx.users()
        )
    } else {
        format!(
            "ACM never renews an expired certificate: request a new one for {}, validate it, \
             switch {} to it, then delete this one.",
            ctx.domains(),
            ctx.users()
        )
    };
    Some(ctx.finding(Code::Expired, Urgency::Expired, summary, remedy))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{CertStatus, CertType, Code, Urgency};

    #[test]
    fn expiry_comes_from_not_after_not_status() {
        // Status still ISSUED, NotAfter 47 hours ago: one whole day.
        let f = check(
            &expires_in(healthy(), -2),
            &[(Code::Expired, Urgency::Expired)],
        );
        assert_eq!(
            f[0].summary,
            "shop.example.com expired 1 day ago (2026-05-30)"
        );
        assert!(f[0].remedy.contains("request a new one"));
        // Without NotAfter, Status EXPIRED is all there is to go by.
        let mut c = healthy();
        c.status = CertStatus::Expired;
        c.not_after = None;
        let f = check(&c, &[(Code::Expired, Urgency::Expired)]);
        assert_eq!(f[0].summary, "shop.example.com has expired");
        // With a NotAfter still ahead, Status EXPIRED does not make it expired.
        let mut c = healthy();
        c.status = CertStatus::Expired;
        assert!(!c.is_expired(now()));
        let f = crate::classify(&c, now(), &crate::Policy::default());
        assert!(f.iter().all(|f| f.code != Code::Expired), "{f:?}");
    }

    #[test]
    fn expired_import_says_reimport_and_nothing_else() {
        let mut c = expires_in(healthy(), -30);
        c.cert_type = CertType::Imported;
        let f = check(&c, &[(Code::Expired, Urgency::Expired)]);
        assert!(f[0].remedy.contains("import-certificate --certificate-arn"));
    }

    #[test]
    fn one_hour_left_is_not_expired() {
        let mut c = healthy();
        c.not_after = Some(now() + chrono::Duration::hours(1));
        check(&c, &[(Code::RenewalNotStarted, Urgency::Urgent)]);
    }
}
