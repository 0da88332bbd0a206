//! REVOKED: the certificate was revoked. It will never renew and clients reject it now; whatever
//! uses it needs a new certificate immediately.

use super::Ctx;
use crate::facts::CertStatus;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    if ctx.cert.status != CertStatus::Revoked {
        return None;
    }
    Some(ctx.finding(
        Code::Revoked,
        Urgency::Urgent,
        format!("{} was revoked; clients reject it", ctx.name()),
        format!(
            "Request (or import) a new certificate for {}, switch {} to it, then delete this one.",
            ctx.domains(),
            ctx.users()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{CertStatus, Code, Urgency};

    #[test]
    fn revoked_is_urgent_even_far_from_expiry() {
        let mut c = healthy();
        c.status = CertStatus::Revoked;
        check(&c, &[(Code::Revoked, Urgency::Urgent)]);
        check(&expires_in(c, -1), &[(Code::Expired, Urgency::Expired)]);
    }
}
