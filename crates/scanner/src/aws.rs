//! The AWS edge: the only module that names `aws_sdk_*` types. It builds every client (one HTTP
//! pool, retry and timeout policy set here once), makes the calls, and converts what comes back
//! into plain data (`certwatch_core::CertificateFacts`, [`OrgAccount`], [`AwsError`]).
//! `organizations` has the calls about one account or OU (its parent, name and tags).

mod organizations;

use crate::plan::OrgAccount;
use crate::throttle::Limits;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::{self, error::CredentialsError, ProvideCredentials};
use aws_credential_types::Credentials;
use aws_sdk_acm::types::{CertificateStatus, Filters, KeyAlgorithm};
use aws_smithy_runtime::client::retries::RetryPartition;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, Error as ErasedError, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use certwatch_core::{
    CertStatus, CertType, CertificateFacts, DomainValidation, HttpRedirect, Reason,
    RenewalEligibility, RenewalStatus, RenewalSummary, ResourceRecord, SearchMetadata,
    ValidationMethod, ValidationStatus,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The one HTTP client (and connection pool) every AWS client of the process shares.
pub fn http_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls;
    ValidatedOnce::shared(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_https(),
    )
}

/// An HTTP client whose check at client construction runs once per process, not once per SDK
/// client. The SDK runs `validate_base_client_config` each time a client is built, and the
/// hyper client answers it by building a whole rustls configuration (every trust anchor
/// parsed) only to drop it. A scan builds an ACM client per account-region: at 10,000
/// accounts × 17 regions that was a quarter of the scanner's CPU. Connectors are still built
/// once per timeout settings, on first use, and cached by the hyper client.
#[derive(Debug)]
struct ValidatedOnce {
    inner: SharedHttpClient,
    validated: std::sync::OnceLock<()>,
}

impl ValidatedOnce {
    fn shared(inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(ValidatedOnce {
            inner,
            validated: std::sync::OnceLock::new(),
        })
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for ValidatedOnce {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        self.inner.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
        config: &aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if self.validated.get().is_none() {
            self.inner.validate_base_client_config(components, config)?;
            let _ = self.validated.set(());
        }
        Ok(())
    }

    fn validate_final_config(
        &self,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        config: &aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_final_config(components, config)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

/// An error from one AWS call, reduced to what a report shows and what the scan decides on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AwsError {
    /// The AWS error code (`AccessDenied`, `ThrottlingException`, …) when AWS answered.
    pub code: Option<String>,
    /// The HTTP status of the answer, when there was one.
    pub status: Option<u16>,
    pub message: String,
}

impl AwsError {
    pub(crate) fn from_sdk<E>(err: aws_sdk_acm::error::SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = err.code().map(str::to_owned);
        let status = err.raw_response().map(|r| r.status().as_u16());
        let message = match (&code, err.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.clone(),
            _ => error_chain(&err),
        };
        AwsError {
            code,
            status,
            message,
        }
    }

    /// A plain error with no AWS answer behind it.
    pub(crate) fn local(message: impl Into<String>) -> Self {
        AwsError {
            code: None,
            status: None,
            message: message.into(),
        }
    }

    /// AWS answers calls into a disabled opt-in region as if the credentials were unknown.
    pub fn is_region_disabled(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("UnrecognizedClientException" | "InvalidClientTokenId")
        )
    }

    /// AWS refused the call for its rate (after the SDK's own retries).
    pub fn is_throttling(&self) -> bool {
        self.code.as_deref().is_some_and(is_throttling_code)
    }

    pub fn is_not_found(&self) -> bool {
        self.code.as_deref() == Some("ResourceNotFoundException")
    }

    /// IAM refused the call (the role lacks the action).
    pub fn is_access_denied(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| c.starts_with("AccessDenied"))
    }

    /// The endpoint does not serve the operation at all: AWS's unknown-operation answers, or a
    /// 404/501, or a 500 that is not an AWS error (an emulator without the operation).
    pub fn is_unsupported_operation(&self) -> bool {
        matches!(
            (self.code.as_deref(), self.status),
            (
                Some("UnknownOperationException" | "InvalidAction" | "NotImplemented"),
                _
            ) | (_, Some(404 | 501))
                | (None, Some(500))
        )
    }
}

/// "dispatch failure: io error: … Connection refused": each cause's message once, without the
/// Debug dump the SDK's own display helper appends.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut cause = err.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = e.source();
    }
    parts.join(": ")
}

fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingException"
            | "Throttling"
            | "ThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "SlowDown"
    )
}

/// API calls and throttling answers, counted at the wire (every attempt, retries included).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub api_calls: AtomicU64,
    pub throttled: AtomicU64,
    /// Calls per IAM action ("acm:ListCertificates"): what the scan needs permission for.
    pub by_action: Mutex<BTreeMap<String, u64>>,
}

#[derive(Debug)]
struct CallCounter(Arc<Counters>);

/// The AWS error code of a failed attempt, whichever operation it came from.
fn erased_error_code(err: &ErasedError) -> Option<&str> {
    macro_rules! try_types {
        ($($t:ty),* $(,)?) => {
            $(if let Some(e) = err.downcast_ref::<$t>() {
                return e.code();
            })*
        };
    }
    try_types!(
        aws_sdk_acm::operation::list_certificates::ListCertificatesError,
        aws_sdk_acm::operation::describe_certificate::DescribeCertificateError,
        aws_sdk_acm::operation::search_certificates::SearchCertificatesError,
        aws_sdk_sts::operation::assume_role::AssumeRoleError,
        aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError,
        aws_sdk_organizations::operation::list_accounts::ListAccountsError,
        aws_sdk_organizations::operation::list_parents::ListParentsError,
        aws_sdk_organizations::operation::describe_organizational_unit::DescribeOrganizationalUnitError,
        aws_sdk_organizations::operation::list_tags_for_resource::ListTagsForResourceError,
        aws_sdk_account::operation::list_regions::ListRegionsError,
    );
    None
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "certwatch-call-counter"
    }

    fn read_before_transmit(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.api_calls.fetch_add(1, Ordering::Relaxed);
        if let Some(meta) = cfg.load::<Metadata>() {
            // IAM action names are the service prefix ("acm", "sts", "organizations",
            // "account") and the operation name.
            let action = format!("{}:{}", meta.service().to_ascii_lowercase(), meta.name());
            if let Ok(mut by_action) = self.0.by_action.lock() {
                *by_action.entry(action).or_default() += 1;
            }
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let throttled_status = ctx.response().is_some_and(|r| r.status().as_u16() == 429);
        let throttled_code = match ctx.output_or_error() {
            Some(Err(err)) => err
                .as_operation_error()
                .and_then(erased_error_code)
                .is_some_and(is_throttling_code),
            _ => false,
        };
        if throttled_status || throttled_code {
            self.0.throttled.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

/// Attempts the SDK makes of one call (standard retry mode) before the error reaches the scan. 3:
/// governor paces the calls, so retries only absorb the odd throttle or 5xx; an ACM call still
/// throttled after them is sent again by `throttle::patient`, with no permit held while it waits.
pub(crate) const SDK_MAX_ATTEMPTS: u32 = 3;

/// The SDK's backoff before its first retry (before jitter, which only shortens it); it doubles
/// for the next. 200 ms: enough for a 5xx blip to pass, and short because the call holds its
/// in-flight permit while the SDK sleeps (a throttling storm is `throttle::THROTTLE_PAUSES`' job).
pub(crate) const SDK_INITIAL_BACKOFF: Duration = Duration::from_millis(200);

/// The longest the SDK sleeps between two attempts of one call, even when AWS asks for longer
/// (`x-amz-retry-after`): 400 ms, the second doubled backoff, so with [`SDK_MAX_ATTEMPTS`] the
/// SDK's own pauses inside a call, where its permit is held, are at most 200 + 400 ms. Longer
/// waits are `throttle::THROTTLE_PAUSES`, taken without a permit. (The SDK's default cap is 20 s.)
pub(crate) const SDK_MAX_BACKOFF: Duration = Duration::from_millis(400);

/// Time to open a connection to an AWS endpoint. 3 s: connecting to a regional endpoint takes well
/// under a second; an endpoint that does not answer by then is not going to.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The whole of one call may take [`SDK_MAX_ATTEMPTS`] × `ScanConfig::call_timeout` and this:
/// room for the SDK's backoff between attempts (≤ 600 ms) and credential resolution.
const OPERATION_TIMEOUT_SLACK: Duration = Duration::from_secs(2);

/// DurationSeconds of a member role's session. 3600: the most AWS grants a role-chained session
/// (certwatch usually runs under a role itself) and the default maximum of any role; the identity
/// cache assumes the role again before it ends.
const ROLE_SESSION_SECONDS: i32 = 3600;

/// organizations:ListAccounts' largest page.
const LIST_ACCOUNTS_PAGE: i32 = 20;

/// account:ListRegions' largest page.
const LIST_REGIONS_PAGE: i32 = 50;

/// acm:ListCertificates' largest page.
const LIST_CERTIFICATES_PAGE: i32 = 1000;

/// Builds clients and makes calls. Cheap to share: everything inside is reference counted.
pub(crate) struct Aws {
    /// The base config with certwatch's retry and timeout policy applied.
    base: SdkConfig,
    counters: Arc<Counters>,
    limits: Arc<Limits>,
    sts: aws_sdk_sts::Client,
    organizations: aws_sdk_organizations::Client,
}

impl Aws {
    pub(crate) fn new(
        base: &SdkConfig,
        call_timeout: Duration,
        limits: Arc<Limits>,
        counters: Arc<Counters>,
    ) -> Self {
        // Standard retries with few attempts: governor paces the calls, retries only absorb the
        // odd throttle or 5xx. Adaptive mode would sleep ~10 s per throttle on a fresh partition.
        let base = base
            .to_builder()
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(SDK_MAX_ATTEMPTS)
                    .with_initial_backoff(SDK_INITIAL_BACKOFF)
                    .with_max_backoff(SDK_MAX_BACKOFF),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(call_timeout)
                    .operation_timeout(call_timeout * SDK_MAX_ATTEMPTS + OPERATION_TIMEOUT_SLACK)
                    .build(),
            )
            .build();
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&base)
                .interceptor(CallCounter(counters.clone()))
                .build(),
        );
        // Organizations is a global service served from us-east-1.
        let organizations = aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&base)
                .region(Region::from_static("us-east-1"))
                .interceptor(CallCounter(counters.clone()))
                .build(),
        );
        Aws {
            base,
            counters,
            limits,
            sts,
            organizations,
        }
    }

    /// (account id, partition) of the credentials certwatch runs with: sts:GetCallerIdentity,
    /// paced by the STS limiter.
    pub(crate) async fn caller(&self) -> Result<(String, String), AwsError> {
        let call = self.sts.get_caller_identity().send();
        let out = self.limits.sts(call).await.map_err(AwsError::from_sdk)?;
        let account = out.account().unwrap_or_default().to_owned();
        let partition = out
            .arn()
            .and_then(|arn| arn.split(':').nth(1))
            .unwrap_or("aws")
            .to_owned();
        Ok((account, partition))
    }

    /// One page of organizations:ListAccounts ([`LIST_ACCOUNTS_PAGE`], the API's maximum).
    pub(crate) async fn list_accounts_page(
        &self,
        token: Option<String>,
    ) -> Result<(Vec<OrgAccount>, Option<String>), AwsError> {
        let out = self
            .organizations
            .list_accounts()
            .max_results(LIST_ACCOUNTS_PAGE)
            .set_next_token(token)
            .send()
            .await
            .map_err(AwsError::from_sdk)?;
        let accounts = out
            .accounts()
            .iter()
            .filter_map(|a| {
                // `State` replaced `Status` in 2025; older responses only carry `Status`.
                let state = a
                    .state()
                    .map(|s| s.as_str().to_owned())
                    .or_else(|| a.status().map(|s| s.as_str().to_owned()))
                    .unwrap_or_default();
                Some(OrgAccount {
                    id: a.id()?.to_owned(),
                    name: a.name().unwrap_or_default().to_owned(),
                    state,
                })
            })
            .collect();
        Ok((accounts, out.next_token().map(str::to_owned)))
    }

    /// The config for calls into the account certwatch runs in: the ambient credentials.
    pub(crate) fn own_config(&self) -> SdkConfig {
        self.base.clone()
    }

    /// Assumes `role_arn` once (so a denied role is reported as such), then returns a config whose
    /// credentials re-assume the role before they expire. Each member gets its own identity cache:
    /// a shared one would evict accounts from each other and assume roles again and again.
    pub(crate) async fn member_config(
        &self,
        role_arn: String,
        session_name: &str,
        external_id: Option<&str>,
    ) -> Result<SdkConfig, AwsError> {
        let role = MemberRole {
            sts: self.sts.clone(),
            limits: self.limits.clone(),
            role_arn,
            session_name: session_name.to_owned(),
            external_id: external_id.map(str::to_owned),
            first: Mutex::new(None),
        };
        let first = role.assume(false).await?;
        if let Ok(mut slot) = role.first.lock() {
            *slot = Some(first);
        }
        Ok(self
            .base
            .to_builder()
            .credentials_provider(provider::SharedCredentialsProvider::new(role))
            .identity_cache(aws_sdk_acm::config::IdentityCache::lazy().build())
            .build())
    }

    /// One page of account:ListRegions: the regions enabled in the account of `config`.
    pub(crate) async fn enabled_regions_page(
        &self,
        config: &SdkConfig,
        token: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), AwsError> {
        use aws_sdk_account::types::RegionOptStatus;
        let client = aws_sdk_account::Client::from_conf(
            aws_sdk_account::config::Builder::from(config)
                .region(Region::from_static("us-east-1"))
                .interceptor(CallCounter(self.counters.clone()))
                .build(),
        );
        let out = client
            .list_regions()
            .region_opt_status_contains(RegionOptStatus::Enabled)
            .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
            .max_results(LIST_REGIONS_PAGE)
            .set_next_token(token)
            .send()
            .await
            .map_err(AwsError::from_sdk)?;
        let regions = out
            .regions()
            .iter()
            .filter_map(|r| r.region_name().map(str::to_owned))
            .collect();
        Ok((regions, out.next_token().map(str::to_owned)))
    }

    /// An ACM client for one account-region, with a retry partition of its own so one noisy
    /// target cannot drain the retry budget of the others.
    pub(crate) fn acm(&self, config: &SdkConfig, account: &str, region: &str) -> Acm {
        let client = aws_sdk_acm::Client::from_conf(
            aws_sdk_acm::config::Builder::from(config)
                .region(Region::new(region.to_owned()))
                .retry_partition(RetryPartition::custom(format!("acm-{account}-{region}")).build())
                .interceptor(CallCounter(self.counters.clone()))
                .build(),
        );
        Acm {
            client,
            account: account.to_owned(),
            region: region.to_owned(),
        }
    }
}

/// Credentials of a member account's role, re-assumed whenever the identity cache finds them
/// about to expire (role-chained sessions last at most an hour).
#[derive(Debug)]
struct MemberRole {
    sts: aws_sdk_sts::Client,
    limits: Arc<Limits>,
    role_arn: String,
    session_name: String,
    external_id: Option<String>,
    /// The credentials of the first assumption, handed out once.
    first: Mutex<Option<Credentials>>,
}

impl MemberRole {
    /// Assumes the role. `within_call`: asked by the identity cache from inside a call that holds
    /// an in-flight permit already, so this one is paced but takes no permit of its own
    /// (`Limits::sts_within_call`).
    async fn assume(&self, within_call: bool) -> Result<Credentials, AwsError> {
        let call = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .set_external_id(self.external_id.clone())
            .duration_seconds(ROLE_SESSION_SECONDS)
            .send();
        let out = if within_call {
            self.limits.sts_within_call(call).await
        } else {
            self.limits.sts(call).await
        };
        let out = out.map_err(AwsError::from_sdk)?;
        let creds = out
            .credentials()
            .ok_or_else(|| AwsError::local("AssumeRole returned no credentials"))?;
        let expiry = SystemTime::try_from(*creds.expiration()).ok();
        Ok(Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_owned()),
            expiry,
            "certwatch-member-role",
        ))
    }
}

impl ProvideCredentials for MemberRole {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            let first = self.first.lock().ok().and_then(|mut slot| slot.take());
            match first {
                Some(creds) => Ok(creds),
                // The identity cache asks from inside a call, which holds a permit.
                None => self
                    .assume(true)
                    .await
                    .map_err(CredentialsError::provider_error),
            }
        })
    }
}

/// ACM in one account-region.
pub(crate) struct Acm {
    client: aws_sdk_acm::Client,
    account: String,
    region: String,
}

/// ListCertificates hides EC, RSA-3072/4096 and key-less certificates unless asked: always ask for
/// every key type the SDK knows, and every status.
pub(crate) fn every_key_type() -> Filters {
    let mut filters = Filters::builder();
    for name in KeyAlgorithm::values() {
        filters = filters.key_types(KeyAlgorithm::from(*name));
    }
    filters.build()
}

impl Acm {
    pub(crate) fn region(&self) -> &str {
        &self.region
    }

    /// The client, for `act`'s one write (built, counted and retried as every ACM call is).
    pub(crate) fn client(&self) -> &aws_sdk_acm::Client {
        &self.client
    }

    /// One page of ListCertificates, as facts from the summaries.
    pub(crate) async fn list_page(
        &self,
        token: Option<String>,
    ) -> Result<(Vec<CertificateFacts>, Option<String>), AwsError> {
        let mut request = self
            .client
            .list_certificates()
            .includes(every_key_type())
            .max_items(LIST_CERTIFICATES_PAGE)
            .set_next_token(token);
        for status in CertificateStatus::values() {
            request = request.certificate_statuses(CertificateStatus::from(*status));
        }
        let out = request.send().await.map_err(AwsError::from_sdk)?;
        let facts = out
            .certificate_summary_list()
            .iter()
            .filter_map(|s| facts_from_summary(&self.account, &self.region, s))
            .collect();
        Ok((facts, out.next_token().map(str::to_owned)))
    }

    /// One page of SearchCertificates (no filter: unlike ListCertificates it hides nothing), as
    /// facts with the validation method and renewal status that spare most describes.
    ///
    /// `retried: false` sends it once, without the SDK's retries: the probe of whether a
    /// region's endpoint has the operation at all (an emulator without it answers HTTP 500,
    /// which the SDK would retry as a fault); a throttle is still waited out by the caller.
    pub(crate) async fn search_page(
        &self,
        token: Option<String>,
        retried: bool,
    ) -> Result<(Vec<CertificateFacts>, Option<String>), AwsError> {
        let request = self
            .client
            .search_certificates()
            .max_results(SEARCH_PAGE)
            .set_next_token(token);
        let sent = if retried {
            request.send().await
        } else {
            request
                .customize()
                .config_override(
                    aws_sdk_acm::config::Builder::default().retry_config(RetryConfig::disabled()),
                )
                .send()
                .await
        };
        let out = sent.map_err(AwsError::from_sdk)?;
        let facts = out
            .results()
            .iter()
            .filter_map(|r| facts_from_search(&self.account, &self.region, r))
            .collect();
        Ok((facts, out.next_token().map(str::to_owned)))
    }

    /// DescribeCertificate, merged into the facts from the summary (taken and given back, so a
    /// throttled describe can be sent again).
    pub(crate) async fn describe(
        &self,
        mut facts: CertificateFacts,
    ) -> Result<CertificateFacts, AwsError> {
        let out = self
            .client
            .describe_certificate()
            .certificate_arn(&facts.arn)
            .send()
            .await
            .map_err(AwsError::from_sdk)?;
        if let Some(detail) = out.certificate() {
            apply_detail(&mut facts, detail);
        }
        Ok(facts)
    }
}

pub(crate) fn facts_from_summary(
    account: &str,
    region: &str,
    s: &aws_sdk_acm::types::CertificateSummary,
) -> Option<CertificateFacts> {
    let mut f = CertificateFacts::new(account, region, s.certificate_arn()?);
    f.domain_name = s.domain_name().map(str::to_owned);
    f.subject_alternative_names = s.subject_alternative_name_summaries().to_vec();
    // ACM's SAN lists always include the primary domain; some summaries (and emulators) leave
    // the list out.
    if f.subject_alternative_names.is_empty() {
        f.subject_alternative_names.extend(f.domain_name.clone());
    }
    f.cert_type = CertType::parse(s.r#type().map_or("UNKNOWN", |t| t.as_str()));
    f.status = CertStatus::parse(s.status().map_or("UNKNOWN", |t| t.as_str()));
    f.key_algorithm = s.key_algorithm().map(|k| k.as_str().to_owned());
    f.not_before = time(s.not_before());
    f.not_after = time(s.not_after());
    f.created_at = time(s.created_at());
    f.issued_at = time(s.issued_at());
    f.imported_at = time(s.imported_at());
    f.in_use = s.in_use().unwrap_or(false);
    f.exported = s.exported().unwrap_or(false);
    f.renewal_eligibility = s
        .renewal_eligibility()
        .map(|e| RenewalEligibility::parse(e.as_str()));
    f.managed_by = s.managed_by().map(|m| m.as_str().to_owned());
    Some(f)
}

/// SearchCertificates' largest page.
const SEARCH_PAGE: i32 = 500;

pub(crate) fn facts_from_search(
    account: &str,
    region: &str,
    r: &aws_sdk_acm::types::CertificateSearchResult,
) -> Option<CertificateFacts> {
    use aws_sdk_acm::types::{CertificateMetadata, GeneralName};
    let mut f = CertificateFacts::new(account, region, r.certificate_arn()?);
    // A result without ACM metadata (a future certificate kind) is kept but carries no search
    // metadata, so it is described like a listed one.
    let Some(CertificateMetadata::AcmCertificateMetadata(m)) = r.certificate_metadata() else {
        f.cert_type = CertType::parse("UNKNOWN");
        return Some(f);
    };
    if let Some(x) = r.x509_attributes() {
        f.domain_name = x.subject().and_then(|s| s.common_name()).map(str::to_owned);
        f.subject_alternative_names = x
            .subject_alternative_names()
            .iter()
            .filter_map(|n| match n {
                GeneralName::DnsName(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        f.key_algorithm = x.key_algorithm().map(|k| k.as_str().to_owned());
        f.serial = x.serial_number().map(str::to_owned);
        f.not_before = time(x.not_before());
        f.not_after = time(x.not_after());
    }
    if f.domain_name.is_none() {
        f.domain_name = f.subject_alternative_names.first().cloned();
    }
    f.cert_type = CertType::parse(m.r#type().map_or("UNKNOWN", |t| t.as_str()));
    f.status = CertStatus::parse(m.status().map_or("UNKNOWN", |t| t.as_str()));
    f.created_at = time(m.created_at());
    f.issued_at = time(m.issued_at());
    f.imported_at = time(m.imported_at());
    f.in_use = m.in_use().unwrap_or(false);
    f.exported = m.exported().unwrap_or(false);
    f.renewal_eligibility = m
        .renewal_eligibility()
        .map(|e| RenewalEligibility::parse(e.as_str()));
    f.managed_by = m.managed_by().map(|x| x.as_str().to_owned());
    f.search = Some(SearchMetadata {
        validation_method: m
            .validation_method()
            .map(|v| ValidationMethod::parse(v.as_str())),
        renewal_status: m.renewal_status().map(|v| RenewalStatus::parse(v.as_str())),
    });
    Some(f)
}

fn domain_validation(dv: &aws_sdk_acm::types::DomainValidation) -> DomainValidation {
    DomainValidation {
        domain_name: dv.domain_name().to_owned(),
        validation_domain: dv.validation_domain().map(str::to_owned),
        validation_method: dv
            .validation_method()
            .map(|m| ValidationMethod::parse(m.as_str())),
        validation_status: dv
            .validation_status()
            .map(|s| ValidationStatus::parse(s.as_str())),
        validation_emails: dv.validation_emails().to_vec(),
        resource_record: dv.resource_record().map(|rr| ResourceRecord {
            name: rr.name().to_owned(),
            record_type: rr.r#type().as_str().to_owned(),
            value: rr.value().to_owned(),
        }),
        http_redirect: dv.http_redirect().and_then(|r| {
            Some(HttpRedirect {
                redirect_from: r.redirect_from()?.to_owned(),
                redirect_to: r.redirect_to()?.to_owned(),
            })
        }),
    }
}

pub(crate) fn apply_detail(f: &mut CertificateFacts, d: &aws_sdk_acm::types::CertificateDetail) {
    if let Some(domain) = d.domain_name() {
        f.domain_name = Some(domain.to_owned());
    }
    if !d.subject_alternative_names().is_empty() {
        f.subject_alternative_names = d.subject_alternative_names().to_vec();
    }
    if let Some(t) = d.r#type() {
        f.cert_type = CertType::parse(t.as_str());
    }
    if let Some(s) = d.status() {
        f.status = CertStatus::parse(s.as_str());
    }
    if let Some(k) = d.key_algorithm() {
        f.key_algorithm = Some(k.as_str().to_owned());
    }
    if let Some(serial) = d.serial() {
        f.serial = Some(serial.to_owned());
    }
    f.not_before = time(d.not_before()).or(f.not_before);
    f.not_after = time(d.not_after()).or(f.not_after);
    f.created_at = time(d.created_at()).or(f.created_at);
    f.issued_at = time(d.issued_at()).or(f.issued_at);
    f.imported_at = time(d.imported_at()).or(f.imported_at);
    f.in_use_by = d.in_use_by().to_vec();
    f.in_use = f.in_use || !f.in_use_by.is_empty();
    if let Some(e) = d.renewal_eligibility() {
        f.renewal_eligibility = Some(RenewalEligibility::parse(e.as_str()));
    }
    if let Some(m) = d.managed_by() {
        f.managed_by = Some(m.as_str().to_owned());
    }
    f.failure_reason = d.failure_reason().map(|r| Reason::parse(r.as_str()));
    f.certificate_authority_arn = d.certificate_authority_arn().map(str::to_owned);
    f.domain_validation_options = d
        .domain_validation_options()
        .iter()
        .map(domain_validation)
        .collect();
    f.renewal_summary = d.renewal_summary().map(|r| RenewalSummary {
        renewal_status: RenewalStatus::parse(r.renewal_status().as_str()),
        renewal_status_reason: r.renewal_status_reason().map(|x| Reason::parse(x.as_str())),
        updated_at: time(Some(r.updated_at())),
        domain_validation_options: r
            .domain_validation_options()
            .iter()
            .map(domain_validation)
            .collect(),
    });
    f.described = true;
}

#[cfg(test)]
mod tests {
    //! The SDK mapping, tested with real SDK clients whose HTTP layer is replaced by mock rules.

    use super::*;
    use aws_sdk_acm::operation::describe_certificate::DescribeCertificateOutput;
    use aws_sdk_acm::operation::list_certificates::ListCertificatesOutput;
    use aws_sdk_acm::types::{
        CertificateDetail, CertificateSummary, CertificateType, DomainStatus, FailureReason,
        RecordType, RenewalStatus as SdkRenewalStatus, RenewalSummary as SdkRenewalSummary,
        ResourceRecord as SdkResourceRecord, ValidationMethod as SdkValidationMethod,
    };
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    const ARN: &str = "arn:aws:acm:eu-west-1:111122223333:certificate/abc";

    fn acm(client: aws_sdk_acm::Client) -> Acm {
        Acm {
            client,
            account: "111122223333".into(),
            region: "eu-west-1".into(),
        }
    }

    fn summary(arn: &str, key: &str) -> CertificateSummary {
        CertificateSummary::builder()
            .certificate_arn(arn)
            .domain_name("api.example.com")
            .subject_alternative_name_summaries("api.example.com")
            .r#type(CertificateType::Imported)
            .status(CertificateStatus::Issued)
            .key_algorithm(KeyAlgorithm::from(key))
            .in_use(true)
            .exported(false)
            .not_after(aws_smithy_types::DateTime::from_secs(1_800_000_000))
            .build()
    }

    #[tokio::test]
    async fn list_asks_for_every_key_type_and_status_and_follows_tokens() {
        let first = mock!(aws_sdk_acm::Client::list_certificates)
            .match_requests(|req| req.next_token().is_none())
            .then_output(|| {
                ListCertificatesOutput::builder()
                    .certificate_summary_list(summary(ARN, "EC_prime256v1"))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(aws_sdk_acm::Client::list_certificates)
            .match_requests(|req| req.next_token() == Some("page-2"))
            .then_output(|| {
                ListCertificatesOutput::builder()
                    .certificate_summary_list(summary(&format!("{ARN}2"), "RSA_4096"))
                    .build()
            });
        let client = mock_client!(aws_sdk_acm, RuleMode::MatchAny, [&first, &second], |c| c);
        let acm = acm(client);

        let (page, next) = acm.list_page(None).await.unwrap();
        assert_eq!(next.as_deref(), Some("page-2"));
        assert_eq!(page.len(), 1);
        let c = &page[0];
        assert_eq!(
            (c.account_id.as_str(), c.region.as_str()),
            ("111122223333", "eu-west-1")
        );
        assert_eq!(c.key_algorithm.as_deref(), Some("EC_prime256v1"));
        assert_eq!(c.cert_type, CertType::Imported);
        assert!(c.in_use && !c.described);
        assert_eq!(c.not_after.unwrap().timestamp(), 1_800_000_000);

        let (page, next) = acm.list_page(next).await.unwrap();
        assert_eq!(next, None);
        assert_eq!(page[0].key_algorithm.as_deref(), Some("RSA_4096"));
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn request_filter_names_every_key_type_and_status() {
        let rule = mock!(aws_sdk_acm::Client::list_certificates)
            .match_requests(|req| {
                let keys: Vec<&str> = req
                    .includes()
                    .map(|f| f.key_types().iter().map(|k| k.as_str()).collect())
                    .unwrap_or_default();
                let statuses: Vec<&str> = req
                    .certificate_statuses()
                    .iter()
                    .map(|s| s.as_str())
                    .collect();
                [
                    "RSA_1024",
                    "RSA_2048",
                    "RSA_3072",
                    "RSA_4096",
                    "EC_prime256v1",
                    "EC_secp384r1",
                    "EC_secp521r1",
                ]
                .iter()
                .all(|k| keys.contains(k))
                    && [
                        "ISSUED",
                        "EXPIRED",
                        "PENDING_VALIDATION",
                        "REVOKED",
                        "FAILED",
                    ]
                    .iter()
                    .all(|s| statuses.contains(s))
                    && req.max_items() == Some(1000)
            })
            .then_output(|| ListCertificatesOutput::builder().build());
        let client = mock_client!(aws_sdk_acm, [&rule]);
        acm(client)
            .list_page(None)
            .await
            .expect("request carries the full filter");
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn describe_maps_renewal_validation_and_use() {
        let rule = mock!(aws_sdk_acm::Client::describe_certificate)
            .match_requests(|req| req.certificate_arn() == Some(ARN))
            .then_output(|| {
                let dv = aws_sdk_acm::types::DomainValidation::builder()
                    .domain_name("api.example.com")
                    .validation_method(SdkValidationMethod::Dns)
                    .validation_status(DomainStatus::PendingValidation)
                    .resource_record(
                        SdkResourceRecord::builder()
                            .name("_a.api.example.com.")
                            .r#type(RecordType::Cname)
                            .value("_b.acm-validations.aws.")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap();
                DescribeCertificateOutput::builder()
                    .certificate(
                        CertificateDetail::builder()
                            .certificate_arn(ARN)
                            .r#type(CertificateType::AmazonIssued)
                            .status(CertificateStatus::Issued)
                            .in_use_by("arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/x/1")
                            .domain_validation_options(dv.clone())
                            .failure_reason(FailureReason::from("SOMETHING_NEW"))
                            .renewal_summary(
                                SdkRenewalSummary::builder()
                                    .renewal_status(SdkRenewalStatus::PendingValidation)
                                    .domain_validation_options(dv)
                                    .updated_at(aws_smithy_types::DateTime::from_secs(1_700_000_000))
                                    .build()
                                    .unwrap(),
                            )
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(aws_sdk_acm, [&rule]);
        let facts = CertificateFacts::new("111122223333", "eu-west-1", ARN);
        let facts = acm(client).describe(facts).await.unwrap();
        assert!(facts.described && facts.in_use);
        assert_eq!(facts.cert_type, CertType::AmazonIssued);
        assert_eq!(facts.in_use_by.len(), 1);
        assert_eq!(facts.failure_reason, Some(Reason::parse("SOMETHING_NEW")));
        let renewal = facts.renewal_summary.as_ref().unwrap();
        assert_eq!(renewal.renewal_status, RenewalStatus::PendingValidation);
        let rr = renewal.domain_validation_options[0]
            .resource_record
            .as_ref()
            .unwrap();
        assert_eq!(
            (rr.name.as_str(), rr.record_type.as_str()),
            ("_a.api.example.com.", "CNAME")
        );
        assert_eq!(facts.validation_method(), Some(&ValidationMethod::Dns));
    }

    #[tokio::test]
    async fn errors_keep_the_aws_code() {
        use aws_sdk_acm::operation::describe_certificate::DescribeCertificateError;
        use aws_sdk_acm::types::error::ResourceNotFoundException;
        let rule = mock!(aws_sdk_acm::Client::describe_certificate).then_error(|| {
            DescribeCertificateError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("gone")
                    .meta(
                        aws_smithy_types::error::ErrorMetadata::builder()
                            .code("ResourceNotFoundException")
                            .message("gone")
                            .build(),
                    )
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_acm, [&rule]);
        let facts = CertificateFacts::new("111122223333", "eu-west-1", ARN);
        let err = acm(client).describe(facts).await.unwrap_err();
        assert!(err.is_not_found());
        assert_eq!(err.message, "ResourceNotFoundException: gone");
    }

    #[tokio::test]
    async fn search_asks_for_full_pages_and_maps_metadata() {
        use aws_sdk_acm::operation::search_certificates::SearchCertificatesOutput;
        use aws_sdk_acm::types::{
            AcmCertificateMetadata, CertificateMetadata, CertificateSearchResult,
            DistinguishedName, GeneralName, X509Attributes,
        };
        let first = mock!(aws_sdk_acm::Client::search_certificates)
            .match_requests(|req| {
                req.max_results() == Some(500)
                    && req.next_token().is_none()
                    && req.filter_statement().is_none()
            })
            .then_output(|| {
                SearchCertificatesOutput::builder()
                    .results(
                        CertificateSearchResult::builder()
                            .certificate_arn(ARN)
                            .x509_attributes(
                                X509Attributes::builder()
                                    .subject(
                                        DistinguishedName::builder()
                                            .common_name("*.example.com")
                                            .build(),
                                    )
                                    .subject_alternative_names(GeneralName::DnsName(
                                        "*.example.com".into(),
                                    ))
                                    .subject_alternative_names(GeneralName::IpAddress(
                                        "10.0.0.1".into(),
                                    ))
                                    .subject_alternative_names(GeneralName::DnsName(
                                        "example.com".into(),
                                    ))
                                    .key_algorithm(KeyAlgorithm::EcPrime256v1)
                                    .not_after(aws_smithy_types::DateTime::from_secs(1_800_000_000))
                                    .build(),
                            )
                            .certificate_metadata(CertificateMetadata::AcmCertificateMetadata(
                                AcmCertificateMetadata::builder()
                                    .r#type(CertificateType::AmazonIssued)
                                    .status(CertificateStatus::Issued)
                                    .in_use(true)
                                    .validation_method(SdkValidationMethod::Email)
                                    .renewal_status(SdkRenewalStatus::from("NEW_STATUS"))
                                    .build(),
                            ))
                            .build(),
                    )
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(aws_sdk_acm::Client::search_certificates)
            .match_requests(|req| req.next_token() == Some("page-2"))
            .then_output(|| {
                SearchCertificatesOutput::builder()
                    .results(
                        CertificateSearchResult::builder()
                            .certificate_arn(format!("{ARN}-2"))
                            .build(),
                    )
                    .build()
            });
        let client = mock_client!(aws_sdk_acm, RuleMode::Sequential, [&first, &second]);
        let acm = acm(client);
        let (page, next) = acm.search_page(None, true).await.unwrap();
        assert_eq!(next.as_deref(), Some("page-2"));
        let f = &page[0];
        assert_eq!(f.domain_name.as_deref(), Some("*.example.com"));
        assert_eq!(
            f.subject_alternative_names,
            ["*.example.com", "example.com"]
        );
        assert_eq!(f.key_algorithm.as_deref(), Some("EC_prime256v1"));
        assert!(f.in_use && !f.described);
        assert_eq!(f.not_after.map(|t| t.timestamp()), Some(1_800_000_000));
        let search = f.search.as_ref().expect("search metadata kept");
        assert_eq!(search.validation_method, Some(ValidationMethod::Email));
        assert_eq!(
            search.renewal_status,
            Some(RenewalStatus::parse("NEW_STATUS"))
        );
        // A result without ACM metadata is kept, as an unknown kind the scan will describe.
        let (page, next) = acm.search_page(Some("page-2".into()), true).await.unwrap();
        assert!(next.is_none());
        assert!(page[0].search.is_none());
        assert_eq!(page[0].cert_type, CertType::parse("UNKNOWN"));
    }

    /// An HTTP client that answers every request with sts:GetCallerIdentity's answer.
    #[derive(Debug, Clone)]
    struct CallerIdentity;

    impl aws_smithy_runtime_api::client::http::HttpConnector for CallerIdentity {
        fn call(
            &self,
            _request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
        ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
            let body = "<GetCallerIdentityResponse \
                xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
                <Arn>arn:aws:iam::111122223333:user/ci</Arn><UserId>AIDAEXAMPLE</UserId>\
                <Account>111122223333</Account></GetCallerIdentityResult>\
                <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>\
                </GetCallerIdentityResponse>";
            let status = 200.try_into().expect("valid status");
            let response = HttpResponse::new(status, aws_smithy_types::body::SdkBody::from(body));
            aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(response))
        }
    }

    impl aws_smithy_runtime_api::client::http::HttpClient for CallerIdentity {
        fn http_connector(
            &self,
            _settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
            _components: &RuntimeComponents,
        ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
        }
    }

    /// An HTTP client that counts the SDK's checks of it.
    #[derive(Debug, Default)]
    struct CountsChecks(Arc<AtomicU64>);

    impl aws_smithy_runtime_api::client::http::HttpClient for CountsChecks {
        fn http_connector(
            &self,
            _settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
            _components: &RuntimeComponents,
        ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(CallerIdentity)
        }

        fn validate_base_client_config(
            &self,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
            _: &aws_smithy_types::config_bag::ConfigBag,
        ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }

    #[test]
    fn the_shared_http_client_is_checked_once_for_every_client_built() {
        let checks = Arc::new(AtomicU64::new(0));
        let base = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(Region::from_static("us-east-1"))
            .http_client(ValidatedOnce::shared(SharedHttpClient::new(CountsChecks(
                checks.clone(),
            ))))
            .build();
        for region in ["us-east-1", "eu-west-1", "ap-south-1"] {
            let _ = aws_sdk_acm::Client::from_conf(
                aws_sdk_acm::config::Builder::from(&base)
                    .region(Region::new(region))
                    .build(),
            );
        }
        assert_eq!(checks.load(Ordering::Relaxed), 1);
        // Without the wrapper the SDK checks the client once per client built.
        let unwrapped = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(Region::from_static("us-east-1"))
            .http_client(SharedHttpClient::new(CountsChecks(checks.clone())))
            .build();
        for _ in 0..3 {
            let _ = aws_sdk_acm::Client::new(&unwrapped);
        }
        assert_eq!(checks.load(Ordering::Relaxed), 4);
    }

    fn aws_with(limits: Arc<Limits>) -> Aws {
        let base = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(Region::from_static("us-east-1"))
            .credentials_provider(provider::SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            )))
            .http_client(SharedHttpClient::new(CallerIdentity))
            .build();
        Aws::new(&base, Duration::from_secs(5), limits, Arc::default())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn get_caller_identity_goes_through_the_sts_limiter() {
        let rates = crate::Rates {
            assume_role: 10.0,
            ..crate::Rates::default()
        };
        let limits = Arc::new(Limits::new(&rates, 4));
        let aws = aws_with(limits.clone());
        let start = std::time::Instant::now();
        for _ in 0..2 {
            let caller = aws.caller().await.expect("answered");
            assert_eq!(caller, ("111122223333".to_owned(), "aws".to_owned()));
        }
        // At 10/s the second call waits ~100 ms for the STS limiter.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(95), "{elapsed:?}");
        assert!(
            limits.timing.call_ns.load(Ordering::Relaxed) > 0,
            "timed as a call"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sdk_pauses_inside_a_call_are_bounded() {
        let aws = aws_with(Arc::new(Limits::new(&crate::Rates::default(), 4)));
        let retry = aws.base.retry_config().expect("set in Aws::new");
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Standard);
        assert_eq!(retry.max_attempts(), SDK_MAX_ATTEMPTS);
        assert_eq!(retry.initial_backoff(), SDK_INITIAL_BACKOFF);
        assert_eq!(retry.max_backoff(), SDK_MAX_BACKOFF);
        // The cap never cuts a doubled backoff short: it only bounds what AWS may ask for.
        assert!(SDK_INITIAL_BACKOFF * 2u32.pow(SDK_MAX_ATTEMPTS - 2) <= SDK_MAX_BACKOFF);
    }

    #[test]
    fn search_fallback_classes() {
        let e = |code: Option<&str>, status: Option<u16>| AwsError {
            code: code.map(str::to_owned),
            status,
            message: String::new(),
        };
        assert!(e(Some("AccessDeniedException"), Some(400)).is_access_denied());
        assert!(e(Some("UnknownOperationException"), Some(400)).is_unsupported_operation());
        assert!(e(None, Some(404)).is_unsupported_operation());
        assert!(
            e(None, Some(500)).is_unsupported_operation(),
            "a 500 that is not an AWS error"
        );
        assert!(
            !e(Some("InternalFailure"), Some(500)).is_unsupported_operation(),
            "AWS's own 5xx is a fault, not a missing operation"
        );
        assert!(
            !e(None, None).is_unsupported_operation(),
            "connection errors"
        );
    }

    #[test]
    fn disabled_region_codes() {
        for code in ["UnrecognizedClientException", "InvalidClientTokenId"] {
            let e = AwsError {
                code: Some(code.into()),
                status: Some(400),
                message: String::new(),
            };
            assert!(e.is_region_disabled());
        }
        assert!(is_throttling_code("ThrottlingException") && is_throttling_code("Throttling"));
        assert!(!is_throttling_code("AccessDenied"));
    }
}
