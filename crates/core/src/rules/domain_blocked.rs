//! DOMAIN_BLOCKED: Amazon will not validate the domain: it is not allowed or not a valid public
//! domain, its owner denied validation, Amazon wants additional verification, or no email contact
//! exists. Retrying does not help; a human must act on the domain or with AWS Support.

use super::Ctx;
use crate::facts::Reason;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let reason = ctx.failure_reason().filter(|r| r.is_domain_blocked())?;
    let domains = ctx.domains();
    let action = match reason {
        Reason::AdditionalVerificationRequired => format!(
            "Amazon needs additional verification for {domains}: open a case with AWS Support \
             (Service limit increase is not needed; choose Certificate Manager)."
        ),
        Reason::DomainValidationDenied => format!(
            "The domain owner of {domains} denied validation: ask them to approve Amazon, or \
             request a certificate for names you control."
        ),
        Reason::NoAvailableContacts => format!(
            "No email address can receive validation mail for {domains}: create admin@, \
             hostmaster@ or postmaster@ for the validation domain, or switch to a DNS-validated \
             certificate."
        ),
        _ => format!(
            "Amazon cannot issue for {domains} ({reason}): check each name is a valid public \
             domain Amazon may issue for, and request a certificate without the rejected names."
        ),
    };
    Some(ctx.finding(
        Code::DomainBlocked,
        Urgency::Action,
        format!(
            "{}: {} failed, Amazon will not validate the domain ({reason}); it {}",
            ctx.name(),
            ctx.what_failed(),
            ctx.expiry_phrase()
        ),
        format!("{action} Replace it {}.", ctx.deadline()),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{Code, Reason, RenewalStatus, RenewalSummary, Urgency};

    #[test]
    fn each_domain_reason() {
        for (reason, words) in [
            ("ADDITIONAL_VERIFICATION_REQUIRED", "AWS Support"),
            ("DOMAIN_VALIDATION_DENIED", "denied"),
            ("NO_AVAILABLE_CONTACTS", "postmaster@"),
            ("DOMAIN_NOT_ALLOWED", "valid public domain"),
            ("INVALID_PUBLIC_DOMAIN", "valid public domain"),
        ] {
            let mut c = expires_in(healthy(), 20);
            c.renewal_summary = Some(RenewalSummary {
                renewal_status: RenewalStatus::Failed,
                renewal_status_reason: Some(Reason::parse(reason)),
                updated_at: None,
                domain_validation_options: vec![],
            });
            let f = check(&c, &[(Code::DomainBlocked, Urgency::Action)]);
            assert!(f[0].remedy.contains(words), "{reason}: {}", f[0].remedy);
        }
    }
}
