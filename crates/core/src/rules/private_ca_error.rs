//! PRIVATE_CA_ERROR: a private certificate's renewal failed because of its AWS Private CA (PCA_*
//! reasons: CA not ACTIVE, deleted, limit reached, ACM lacks permission) or ACM's service-linked
//! role is missing. Someone must fix the CA or its permissions.

use super::Ctx;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let reason = ctx.failure_reason().filter(|r| r.is_private_ca())?;
    let ca = ctx
        .cert
        .certificate_authority_arn
        .as_deref()
        .unwrap_or("its private CA");
    Some(ctx.finding(
        Code::PrivateCaError,
        Urgency::Action,
        format!(
            "{}: {} failed at the private CA ({reason}); it {}",
            ctx.name(),
            ctx.what_failed(),
            ctx.expiry_phrase()
        ),
        format!(
            "Make sure {ca} is ACTIVE and not expired, and that ACM may use it (aws acm-pca \
             create-permission --certificate-authority-arn {ca} --principal acm.amazonaws.com \
             --actions IssueCertificate GetCertificate ListPermissions); ACM then retries the \
             renewal. Fix it {}.",
            ctx.deadline()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{CertType, Code, Reason, RenewalStatus, RenewalSummary, Urgency};

    #[test]
    fn pca_and_slr_reasons() {
        for reason in [
            "PCA_INVALID_STATE",
            "PCA_ACCESS_DENIED",
            "SLR_NOT_FOUND",
            "PCA_SOMETHING_NEW",
        ] {
            let mut c = expires_in(healthy(), 50);
            c.cert_type = CertType::Private;
            c.certificate_authority_arn =
                Some("arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/ca-1".into());
            c.renewal_summary = Some(RenewalSummary {
                renewal_status: RenewalStatus::Failed,
                renewal_status_reason: Some(Reason::parse(reason)),
                updated_at: None,
                domain_validation_options: vec![],
            });
            let f = check(&c, &[(Code::PrivateCaError, Urgency::Action)]);
            assert!(f[0].summary.contains(reason));
            assert!(f[0].remedy.contains("certificate-authority/ca-1"));
        }
    }
}
