//! EMAIL_VALIDATION: an email-validated Amazon-issued certificate. Every renewal waits for a
//! domain owner to approve an email (from 45 days before expiry); wildcards were never validated
//! automatically. Replacing it with a DNS-validated certificate removes the human from the loop.

use super::{date, Ctx};
use crate::facts::{CertStatus, CertType, ValidationMethod};
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let cert = ctx.cert;
    if cert.cert_type != CertType::AmazonIssued
        || cert.status != CertStatus::Issued
        || !cert
            .domain_validation_options
            .iter()
            .any(|dv| dv.validation_method == Some(ValidationMethod::Email))
    {
        return None;
    }
    let mut emails: Vec<&str> = Vec::new();
    for dv in &cert.domain_validation_options {
        for email in &dv.validation_emails {
            if !emails.contains(&email.as_str()) {
                emails.push(email);
            }
        }
    }
    let to = if emails.is_empty() {
        "the domain's admin@, administrator@, hostmaster@, postmaster@ and webmaster@ addresses"
            .to_owned()
    } else {
        emails.join(", ")
    };
    let wildcard = if cert.has_wildcard() {
        " (a wildcard: it never renews without a human)"
    } else {
        ""
    };
    let when = match ctx.window_opens() {
        Some(at) if at > ctx.now => format!("from {}", date(at)),
        _ => "now".to_owned(),
    };
    Some(ctx.finding(
        Code::EmailValidation,
        Urgency::Upcoming,
        format!(
            "{} is email-validated{wildcard}: each renewal needs someone to approve an email; it {}",
            ctx.name(),
            ctx.expiry_phrase()
        ),
        format!(
            "Someone must approve the email ACM sends to {to} {when}; better, request a \
             DNS-validated replacement for {} and switch {} to it so renewals need nobody.",
            ctx.domains(),
            ctx.users()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{Code, Urgency, ValidationMethod};

    fn email(mut c: crate::CertificateFacts, wildcard: bool) -> crate::CertificateFacts {
        if wildcard {
            c.domain_name = Some("*.example.org".into());
            c.subject_alternative_names = vec!["*.example.org".into()];
            c.domain_validation_options.truncate(1);
            c.domain_validation_options[0].domain_name = "*.example.org".into();
        }
        for dv in &mut c.domain_validation_options {
            dv.validation_method = Some(ValidationMethod::Email);
            dv.resource_record = None;
            dv.validation_emails =
                vec!["admin@example.org".into(), "hostmaster@example.org".into()];
        }
        c
    }

    #[test]
    fn wildcard_is_called_out() {
        let f = check(
            &email(healthy(), true),
            &[(Code::EmailValidation, Urgency::Upcoming)],
        );
        assert!(
            f[0].summary
                .contains("*.example.org is email-validated (a wildcard"),
            "{}",
            f[0].summary
        );
        assert!(f[0]
            .remedy
            .contains("admin@example.org, hostmaster@example.org from 2026-"));
        let f = check(
            &email(healthy(), false),
            &[(Code::EmailValidation, Urgency::Upcoming)],
        );
        assert!(!f[0].summary.contains("wildcard"));
    }

    #[test]
    fn urgency_follows_expiry() {
        check(
            &email(expires_in(healthy(), 5), false),
            &[
                (Code::RenewalNotStarted, Urgency::Urgent),
                (Code::EmailValidation, Urgency::Urgent),
            ],
        );
    }
}
