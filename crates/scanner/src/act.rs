//! The one write: ACM sends a certificate's validation email again (`acm:ResendValidationEmail`)
//! because a person asked for it. Nothing else in certwatch changes AWS, and no scan comes here
//! (`tests/e2e/architecture.rs` checks that the scanner's other modules never make this call).
//!
//! A [`Resender`] is built from what a scan is built from (the base credentials and the
//! [`ScanConfig`]'s role, external id, session name, timeout and rates) and reaches a certificate
//! as the scan does: the account certwatch runs in with the base credentials, any other through
//! its member role. It reads the certificate first (DescribeCertificate, through the same
//! `aws` helpers and limiter as the scan) and resends only for the domains ACM is waiting to
//! validate by email: those of a renewal pending email validation (PENDING_VALIDATION_EMAIL) or of
//! a request still pending validation (`CertificateFacts::pending_email_validation`). Each resend
//! waits for its own limiter (ACM allows 1 a second per account-region) and is not sent again
//! beyond the SDK's standard retries: a second email is worse than an error.
//!
//! How often a person may ask is not decided here: `certwatch_core::decisions::resend_allowed`.

use crate::aws::{Aws, AwsError, Counters};
use crate::throttle::{patient, Key, Limits};
use crate::ScanConfig;
use aws_config::SdkConfig;
use certwatch_core::CertificateFacts;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

/// Sends validation emails again. Cheap to share behind an `Arc`; each call assumes the member
/// role afresh (a resend is a person's request, rare, and a session kept between them would
/// only expire).
pub struct Resender {
    aws: Aws,
    limits: Arc<Limits>,
    counters: Arc<Counters>,
    /// The account the base credentials belong to: reached without a role, as the scan does.
    own_account: String,
    partition: String,
    member_role_name: String,
    external_id: Option<String>,
    session_name: String,
    /// Region name → small index, for rate-limiter keys.
    regions: Mutex<HashMap<String, u16>>,
}

/// What a resend did: the domains ACM sent the validation email for again, in the certificate's
/// order, and where it stopped if ACM refused one after others were sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resent {
    pub sent: Vec<SentTo>,
    /// Set when ACM refused a domain after at least one was sent: the resends stop there, so
    /// the domains after it were not tried either.
    pub not_sent: Option<NotSent>,
}

/// One domain whose validation email ACM sent again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentTo {
    /// The certificate's domain (`*.example.org` for a wildcard).
    pub domain: String,
    /// The domain the email went to the approvers of (`example.org`).
    pub validation_domain: String,
    /// The addresses ACM says it mails (`ValidationEmails`); empty when ACM did not list them.
    pub emails: Vec<String>,
}

/// The domains a resend did not reach, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSent {
    /// The refused domain first, then those not tried after it.
    pub domains: Vec<String>,
    pub error: ResendError,
}

/// Why nothing was resent. The texts are written for the person who asked (a Slack user): they
/// name the account and what to do, never credentials or certwatch's internals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResendError {
    /// ACM has no such certificate (any more) in that account and region.
    #[error(
        "ACM has no such certificate in account {account}, {region} (deleted since the last scan?)"
    )]
    NotFound { account: String, region: String },
    /// No domain of the certificate is waiting for email validation: there is no email to send.
    #[error("no domain of this certificate is waiting for email validation, so there is no validation email to send again")]
    NotPending,
    /// IAM refused the resend: the role lacks `acm:ResendValidationEmail`. `message` is IAM's.
    #[error("certwatch may not resend validation emails in account {account}: its role there lacks acm:ResendValidationEmail (the role templates grant it with AllowResendValidationEmail=true)")]
    NotPermitted { account: String, message: String },
    /// certwatch could not assume its member role in the account.
    #[error("certwatch cannot use its role in account {account}, so it cannot resend there")]
    AssumeRole { account: String, message: String },
    /// Anything else AWS answered (InvalidStateException, …): ACM's words as they are.
    #[error("ACM did not resend: {message}")]
    Aws {
        code: Option<String>,
        message: String,
    },
}

impl ResendError {
    fn aws(error: AwsError) -> Self {
        ResendError::Aws {
            code: error.code,
            message: error.message,
        }
    }
}

/// One domain to resend for, from the certificate's validation options.
struct Pending {
    domain: String,
    validation_domain: String,
    emails: Vec<String>,
}

impl Resender {
    /// Learns which account the base credentials belong to (sts:GetCallerIdentity) and keeps
    /// what the resends need. Fails only if the credentials do not work.
    pub async fn new(base: &SdkConfig, config: &ScanConfig) -> Result<Resender, AwsError> {
        let limits = Arc::new(Limits::new(&config.rates, config.max_concurrency.max(1)));
        let counters = Arc::new(Counters::default());
        let aws = Aws::new(base, config.call_timeout, limits.clone(), counters.clone());
        let (own_account, partition) = aws.caller().await?;
        Ok(Resender {
            aws,
            limits,
            counters,
            own_account,
            partition,
            member_role_name: config.member_role_name.clone(),
            external_id: config.external_id.clone(),
            session_name: config.session_name.clone(),
            regions: Mutex::new(HashMap::new()),
        })
    }

    /// Asks ACM to send the validation email of certificate `arn` (in `account_id`, `region`)
    /// again, once for each domain waiting for email validation. An AccessDenied on the first
    /// resend is [`ResendError::NotPermitted`]; any refusal stops the resends.
    pub async fn resend(
        &self,
        account_id: &str,
        region: &str,
        arn: &str,
    ) -> Result<Resent, ResendError> {
        let config = self.config_for(account_id).await?;
        let acm = self.aws.acm(&config, account_id, region);
        let key = self.key(account_id, region);

        let facts = CertificateFacts::new(account_id, region, arn);
        let described = patient(|| {
            self.limits
                .describe_certificate(key, acm.describe(facts.clone()))
        })
        .await;
        let facts = match described {
            Ok(facts) => facts,
            Err(error) if error.is_not_found() => {
                return Err(ResendError::NotFound {
                    account: account_id.to_owned(),
                    region: region.to_owned(),
                })
            }
            Err(error) => return Err(ResendError::aws(error)),
        };
        let pending: Vec<Pending> = facts
            .pending_email_validation()
            .into_iter()
            .map(|dv| Pending {
                domain: dv.domain_name.clone(),
                // ACM's default: the domain itself (a wildcard's approvers are its base domain's).
                validation_domain: dv
                    .validation_domain
                    .clone()
                    .unwrap_or_else(|| dv.domain_name.trim_start_matches("*.").to_owned()),
                emails: dv.validation_emails.clone(),
            })
            .collect();
        if pending.is_empty() {
            return Err(ResendError::NotPending);
        }

        let mut sent = Vec::with_capacity(pending.len());
        for (i, target) in pending.iter().enumerate() {
            let call = acm
                .client()
                .resend_validation_email()
                .certificate_arn(arn)
                .domain(&target.domain)
                .validation_domain(&target.validation_domain)
                .send();
            match self.limits.resend_email(key, call).await {
                Ok(_) => {
                    tracing::info!(account = account_id, region, arn, domain = %target.domain,
                        validation_domain = %target.validation_domain, "validation email resent");
                    sent.push(SentTo {
                        domain: target.domain.clone(),
                        validation_domain: target.validation_domain.clone(),
                        emails: target.emails.clone(),
                    });
                }
                Err(error) => {
                    let error = AwsError::from_sdk(error);
                    tracing::warn!(account = account_id, region, arn, domain = %target.domain,
                        %error, "validation email not resent");
                    let error = if error.is_access_denied() {
                        ResendError::NotPermitted {
                            account: account_id.to_owned(),
                            message: error.message,
                        }
                    } else {
                        ResendError::aws(error)
                    };
                    if sent.is_empty() {
                        return Err(error);
                    }
                    let domains = pending[i..].iter().map(|p| p.domain.clone()).collect();
                    return Ok(Resent {
                        sent,
                        not_sent: Some(NotSent { domains, error }),
                    });
                }
            }
        }
        Ok(Resent {
            sent,
            not_sent: None,
        })
    }

    /// Calls sent so far per IAM action (`acm:ResendValidationEmail`), every attempt counted at
    /// the wire, as a scan's `stats.calls_by_action`.
    pub fn calls_by_action(&self) -> BTreeMap<String, u64> {
        self.counters
            .by_action
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// The credentials for calls into `account_id`: the base ones for certwatch's own account,
    /// else the member role's, assumed now.
    async fn config_for(&self, account_id: &str) -> Result<SdkConfig, ResendError> {
        if account_id == self.own_account {
            return Ok(self.aws.own_config());
        }
        let role_arn = format!(
            "arn:{}:iam::{account_id}:role/{}",
            self.partition, self.member_role_name
        );
        self.aws
            .member_config(role_arn, &self.session_name, self.external_id.as_deref())
            .await
            .map_err(|error| {
                tracing::warn!(account = account_id, %error, "cannot assume the member role to resend");
                ResendError::AssumeRole {
                    account: account_id.to_owned(),
                    message: error.message,
                }
            })
    }

    fn key(&self, account_id: &str, region: &str) -> Key {
        let mut regions = self.regions.lock().unwrap_or_else(PoisonError::into_inner);
        let next = regions.len() as u16;
        let index = *regions.entry(region.to_owned()).or_insert(next);
        (crate::account_key(account_id), index)
    }
}
