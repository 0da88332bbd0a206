//! PENDING_VALIDATION_DNS, PENDING_VALIDATION_EMAIL, PENDING_VALIDATION_HTTP: ACM started the
//! renewal and is waiting for domain validation it cannot complete alone: a deleted validation
//! CNAME, an unapproved email, or a CloudFront redirect that no longer serves ACM's token. One
//! finding per validation method, listing exactly what to restore for each pending domain.

use super::{cname_list, Ctx};
use crate::facts::{DomainValidation, ValidationMethod};
use crate::finding::{Code, Finding, Urgency};

/// The renewal's domains still waiting for validation with `method`.
fn pending<'a>(ctx: &Ctx<'a>, method: &ValidationMethod) -> Vec<&'a DomainValidation> {
    ctx.cert.renewal_pending_validation(method)
}

fn domain_list(dvos: &[&DomainValidation]) -> String {
    dvos.iter()
        .map(|dv| dv.domain_name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn check_dns(ctx: &Ctx) -> Option<Finding> {
    let dvos = pending(ctx, &ValidationMethod::Dns);
    if dvos.is_empty() {
        return None;
    }
    let records = cname_list(dvos.iter().copied());
    let what = if records.is_empty() {
        "the validation CNAME records shown in the console for each pending domain".to_owned()
    } else {
        records.join("; ")
    };
    Some(ctx.finding(
        Code::PendingValidationDns,
        Urgency::Action,
        format!(
            "{}: renewal waits for DNS validation of {} (validation CNAME missing); it {}",
            ctx.name(),
            domain_list(&dvos),
            ctx.expiry_phrase()
        ),
        format!(
            "Restore in public DNS {} (ACM retries by itself once they resolve): {what}",
            ctx.deadline()
        ),
    ))
}

pub(super) fn check_email(ctx: &Ctx) -> Option<Finding> {
    let dvos = pending(ctx, &ValidationMethod::Email);
    if dvos.is_empty() {
        return None;
    }
    let cert = ctx.cert;
    let asks: Vec<String> = dvos
        .iter()
        .map(|dv| {
            let to = if dv.validation_emails.is_empty() {
                let domain = dv.validation_domain.as_deref().unwrap_or(&dv.domain_name);
                let domain = domain.trim_start_matches("*.");
                format!("admin@, administrator@, hostmaster@, postmaster@ or webmaster@{domain}")
            } else {
                dv.validation_emails.join(", ")
            };
            format!("{} (sent to {to})", dv.domain_name)
        })
        .collect();
    let first = dvos[0];
    let validation_domain = first
        .validation_domain
        .as_deref()
        .unwrap_or(&first.domain_name);
    Some(ctx.finding(
        Code::PendingValidationEmail,
        Urgency::Action,
        format!(
            "{}: renewal waits for a human to approve the validation email for {}; it {}",
            ctx.name(),
            domain_list(&dvos),
            ctx.expiry_phrase()
        ),
        format!(
            "Approve ACM's validation email for {} {}. Lost it? Resend: aws acm \
             resend-validation-email --certificate-arn {} --domain {} --validation-domain {} \
             --region {}.",
            asks.join("; "),
            ctx.deadline(),
            cert.arn,
            first.domain_name,
            validation_domain.trim_start_matches("*."),
            cert.region
        ),
    ))
}

pub(super) fn check_http(ctx: &Ctx) -> Option<Finding> {
    let dvos = pending(ctx, &ValidationMethod::Http);
    if dvos.is_empty() {
        return None;
    }
    let fixes: Vec<String> = dvos
        .iter()
        .map(|dv| match &dv.http_redirect {
            Some(r) => format!(
                "{} must serve the content of {}",
                r.redirect_from, r.redirect_to
            ),
            None => format!(
                "{}: restore the redirect shown in the console",
                dv.domain_name
            ),
        })
        .collect();
    Some(ctx.finding(
        Code::PendingValidationHttp,
        Urgency::Action,
        format!(
            "{}: renewal waits for HTTP validation of {}; it {}",
            ctx.name(),
            domain_list(&dvos),
            ctx.expiry_phrase()
        ),
        format!(
            "Make the validation URL answer again through CloudFront: {}. Do it {}.",
            fixes.join("; "),
            ctx.deadline()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{
        Code, DomainValidation, HttpRedirect, RenewalStatus, RenewalSummary, Urgency,
        ValidationMethod, ValidationStatus,
    };

    fn pending_renewal(
        mut c: crate::CertificateFacts,
        pending: &[&str],
    ) -> crate::CertificateFacts {
        let dvos = c
            .domain_validation_options
            .iter()
            .map(|dv| DomainValidation {
                validation_status: Some(if pending.contains(&dv.domain_name.as_str()) {
                    ValidationStatus::PendingValidation
                } else {
                    ValidationStatus::Success
                }),
                ..dv.clone()
            })
            .collect();
        c.renewal_summary = Some(RenewalSummary {
            renewal_status: RenewalStatus::PendingValidation,
            renewal_status_reason: None,
            updated_at: Some(now()),
            domain_validation_options: dvos,
        });
        c
    }

    #[test]
    fn dns_names_exactly_the_missing_cname() {
        let c = pending_renewal(expires_in(healthy(), 20), &["www.shop.example.com"]);
        let f = check(&c, &[(Code::PendingValidationDns, Urgency::Action)]);
        assert!(
            f[0].remedy
                .contains("_x1.www.shop.example.com. CNAME _y1.acm-validations.aws."),
            "{}",
            f[0].remedy
        );
        assert!(
            !f[0].remedy.contains("_x1.shop.example.com."),
            "only the pending domain"
        );
        assert!(f[0].summary.contains("www.shop.example.com"));
    }

    #[test]
    fn email_lists_addresses_and_resend_command() {
        let mut c = expires_in(healthy(), 6);
        for dv in &mut c.domain_validation_options {
            dv.validation_method = Some(ValidationMethod::Email);
            dv.resource_record = None;
            dv.validation_emails = vec![format!("admin@{}", dv.domain_name)];
        }
        let c = pending_renewal(c, &["shop.example.com", "www.shop.example.com"]);
        // The standing EMAIL_VALIDATION finding is there too: the pending one is the urgent one.
        let f = check(
            &c,
            &[
                (Code::PendingValidationEmail, Urgency::Urgent),
                (Code::EmailValidation, Urgency::Urgent),
            ],
        );
        assert!(f[0].remedy.contains("admin@shop.example.com"));
        assert!(f[0].remedy.contains("resend-validation-email"));
    }

    #[test]
    fn email_without_addresses_names_the_standard_mailboxes() {
        let mut c = expires_in(healthy(), 30);
        c.domain_validation_options.truncate(1);
        c.domain_validation_options[0].validation_method = Some(ValidationMethod::Email);
        c.domain_validation_options[0].validation_domain = Some("example.com".into());
        let c = pending_renewal(c, &["shop.example.com"]);
        let f = classify_codes(&c);
        assert_eq!(f[0].code, Code::PendingValidationEmail);
        assert!(
            f[0].remedy.contains("webmaster@example.com"),
            "{}",
            f[0].remedy
        );
    }

    fn classify_codes(c: &crate::CertificateFacts) -> Vec<crate::Finding> {
        crate::classify(c, now(), &crate::Policy::default())
    }

    #[test]
    fn http_names_redirect() {
        let mut c = expires_in(healthy(), 60);
        c.domain_validation_options.truncate(1);
        let dv = &mut c.domain_validation_options[0];
        dv.validation_method = Some(ValidationMethod::Http);
        dv.resource_record = None;
        dv.http_redirect = Some(HttpRedirect {
            redirect_from: "http://shop.example.com/.well-known/pki-validation/abc.txt".into(),
            redirect_to: "https://validation.us-east-1.acm-validations.aws/abc.txt".into(),
        });
        let c = pending_renewal(c, &["shop.example.com"]);
        let f = check(&c, &[(Code::PendingValidationHttp, Urgency::Action)]);
        assert!(f[0].remedy.contains("pki-validation/abc.txt must serve"));
    }

    #[test]
    fn renewal_without_statuses_takes_every_domain_as_pending() {
        let mut c = expires_in(healthy(), 20);
        c.renewal_summary = Some(RenewalSummary {
            renewal_status: RenewalStatus::PendingValidation,
            renewal_status_reason: None,
            updated_at: None,
            domain_validation_options: vec![],
        });
        let f = check(&c, &[(Code::PendingValidationDns, Urgency::Action)]);
        assert!(f[0].remedy.contains("_x1.shop.example.com."));
        assert!(f[0].remedy.contains("_x1.www.shop.example.com."));
    }
}
