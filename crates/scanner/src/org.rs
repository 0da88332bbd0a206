//! Where each account sits in the organization and how it is tagged, learned from Organizations
//! when [`AccountMetadata`] asks: `organizations:ListParents` from the account up to the root,
//! `organizations:DescribeOrganizationalUnit` for each OU's name (a root is named "Root", as AWS
//! names it, with no call), `organizations:ListTagsForResource` for the account's tags.
//!
//! Every call is made with the credentials certwatch runs in and waits for the organizations
//! limiter: the quota is the calling account's, shared with ListAccounts, and low. Each OU's
//! parent and name are looked up once per scan ([`Directory`]) however many accounts share it;
//! a lookup of an OU already in flight is waited for, not repeated. A failed lookup is kept for
//! the scan too, so a broken OU costs one call, not one per account below it.

use crate::aws::{Aws, AwsError};
use crate::throttle::{patient, Limits};
use certwatch_core::OrgUnit;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::OnceCell;

/// What the scan learns about each account beyond its id and name (`Report.accounts`). The
/// default learns nothing: no Organizations call beyond ListAccounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountMetadata {
    /// Each account's OU path, root first (`Account::ou_path`): ListParents up to the root and
    /// DescribeOrganizationalUnit, each OU once per scan.
    pub ou_path: bool,
    /// Each account's tags (`Account::tags`): ListTagsForResource, one call per account (and
    /// page).
    pub tags: bool,
}

impl AccountMetadata {
    /// Whether anything is to be learned at all.
    pub fn any(&self) -> bool {
        self.ou_path || self.tags
    }
}

/// The parent of an account or OU: an OU (`ou-…`) or the root (`r-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parent {
    pub id: String,
    pub is_root: bool,
}

/// The name AWS gives an organization's root (the only one it has).
pub(crate) const ROOT_NAME: &str = "Root";

/// OUs on one path before the walk gives up. AWS nests OUs at most five levels below the root;
/// the bound only stops a walk whose answers loop.
const MAX_DEPTH: usize = 16;

type Lookup<T> = Arc<OnceCell<Result<T, AwsError>>>;

/// One scan's lookups of the organization's OUs: their parents and names, by OU id.
#[derive(Default)]
pub(crate) struct Directory {
    parents: Mutex<HashMap<String, Lookup<Parent>>>,
    names: Mutex<HashMap<String, Lookup<String>>>,
}

/// The result of `lookup` for `key`, made once per cache: later and concurrent askers get the
/// first one's answer (an error too).
async fn once<T, F, Fut>(
    cache: &Mutex<HashMap<String, Lookup<T>>>,
    key: &str,
    lookup: F,
) -> Result<T, AwsError>
where
    T: Clone,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let cell = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key.to_owned())
        .or_default()
        .clone();
    cell.get_or_init(lookup).await.clone()
}

/// The error of one call, saying which call it was and what about:
/// `organizations:ListParents ou-ab12-11111111: InternalFailure: …`.
fn named(call: &str, subject: &str, error: AwsError) -> AwsError {
    AwsError {
        message: format!("{call} {subject}: {}", error.message),
        ..error
    }
}

impl Directory {
    /// The account's OU path, root first: its own parent (one call, never shared), then each
    /// OU's parent and name from this scan's cache.
    pub(crate) async fn ou_path(
        &self,
        aws: &Aws,
        limits: &Limits,
        account: &str,
    ) -> Result<Vec<OrgUnit>, AwsError> {
        let mut parent = parent_of(aws, limits, account).await?;
        // From the account's direct parent up.
        let mut units = Vec::new();
        while !parent.is_root {
            if units.len() == MAX_DEPTH {
                return Err(AwsError::local(format!(
                    "organizations:ListParents {account}: more than {MAX_DEPTH} OUs above the \
                     account (the answers loop)"
                )));
            }
            let unit = parent.id;
            parent = once(&self.parents, &unit, || parent_of(aws, limits, &unit)).await?;
            units.push(unit);
        }
        let names = futures::future::join_all(
            units
                .iter()
                .map(|unit| once(&self.names, unit, || unit_name(aws, limits, unit))),
        )
        .await;
        let mut path = Vec::with_capacity(units.len() + 1);
        path.push(OrgUnit {
            id: parent.id,
            name: ROOT_NAME.to_owned(),
        });
        for (id, name) in units.into_iter().zip(names).rev() {
            path.push(OrgUnit { id, name: name? });
        }
        Ok(path)
    }
}

/// ListParents of an account or OU, page after page (a page may be empty and still carry a
/// NextToken) until its parent turns up.
async fn parent_of(aws: &Aws, limits: &Limits, child: &str) -> Result<Parent, AwsError> {
    const CALL: &str = "organizations:ListParents";
    let mut token = None;
    loop {
        let page = patient(|| limits.organizations(aws.parents_page(child, token.clone())))
            .await
            .map_err(|error| named(CALL, child, error))?;
        match page {
            (Some(parent), _) => return Ok(parent),
            (None, Some(next)) => token = Some(next),
            (None, None) => {
                return Err(named(
                    CALL,
                    child,
                    AwsError::local("the answer names no parent"),
                ))
            }
        }
    }
}

async fn unit_name(aws: &Aws, limits: &Limits, unit: &str) -> Result<String, AwsError> {
    patient(|| limits.organizations(aws.organizational_unit_name(unit)))
        .await
        .map_err(|error| named("organizations:DescribeOrganizationalUnit", unit, error))
}

/// The account's tags: ListTagsForResource, every page.
pub(crate) async fn tags(
    aws: &Aws,
    limits: &Limits,
    account: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let mut tags = BTreeMap::new();
    let mut token = None;
    loop {
        let (page, next) = patient(|| limits.organizations(aws.tags_page(account, token.clone())))
            .await
            .map_err(|error| named("organizations:ListTagsForResource", account, error))?;
        tags.extend(page);
        match next {
            Some(next) => token = Some(next),
            None => return Ok(tags),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The walk against an Organizations endpoint that answers like AWS at its most awkward:
    //! empty pages that still carry a NextToken.

    use super::*;
    use crate::aws::Counters;
    use aws_config::{Region, SdkConfig};
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
        SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use std::time::Duration;

    const ACCOUNT: &str = "111122223333";
    const OU: &str = "ou-ab12-11111111";

    /// Answers Organizations' JSON calls: the account's parent and tags each come after an
    /// empty first page.
    #[derive(Debug, Clone)]
    struct Organizations;

    impl HttpConnector for Organizations {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let target = request.headers().get("x-amz-target").unwrap_or_default();
            let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
            let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default());
            let about = |id: &str| body.contains(&format!("\"{id}\""));
            let second_page = body.contains("\"NextToken\":\"more\"");
            let answer = match operation.as_str() {
                "ListParents" if about(ACCOUNT) && !second_page => {
                    r#"{"Parents":[],"NextToken":"more"}"#.to_owned()
                }
                "ListParents" if about(ACCOUNT) => {
                    format!(r#"{{"Parents":[{{"Id":"{OU}","Type":"ORGANIZATIONAL_UNIT"}}]}}"#)
                }
                "ListParents" if about(OU) => {
                    r#"{"Parents":[{"Id":"r-ab12","Type":"ROOT"}]}"#.to_owned()
                }
                "DescribeOrganizationalUnit" if about(OU) => {
                    format!(r#"{{"OrganizationalUnit":{{"Id":"{OU}","Name":"Payments"}}}}"#)
                }
                "ListTagsForResource" if !second_page => {
                    r#"{"Tags":[],"NextToken":"more"}"#.to_owned()
                }
                "ListTagsForResource" => {
                    r#"{"Tags":[{"Key":"team","Value":"payments"}]}"#.to_owned()
                }
                other => panic!("unexpected call {other}: {body}"),
            };
            let status = 200.try_into().expect("valid status");
            let response = HttpResponse::new(status, aws_smithy_types::body::SdkBody::from(answer));
            HttpConnectorFuture::ready(Ok(response))
        }
    }

    impl HttpClient for Organizations {
        fn http_connector(
            &self,
            _settings: &HttpConnectorSettings,
            _components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn empty_pages_are_followed_and_each_ou_is_asked_about_once() {
        let base = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(Region::from_static("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            )))
            .http_client(SharedHttpClient::new(Organizations))
            .build();
        let rates = crate::Rates {
            organizations: 1_000.0,
            ..crate::Rates::default()
        };
        let limits = Arc::new(Limits::new(&rates, 4));
        let counters = Arc::new(Counters::default());
        let aws = Aws::new(
            &base,
            Duration::from_secs(5),
            limits.clone(),
            counters.clone(),
        );
        let directory = Directory::default();
        for _ in 0..2 {
            let path = directory
                .ou_path(&aws, &limits, ACCOUNT)
                .await
                .expect("the path");
            let names: Vec<(&str, &str)> = path
                .iter()
                .map(|u| (u.id.as_str(), u.name.as_str()))
                .collect();
            assert_eq!(names, [("r-ab12", "Root"), (OU, "Payments")]);
        }
        let tags = tags(&aws, &limits, ACCOUNT).await.expect("the tags");
        assert_eq!(
            tags,
            BTreeMap::from([("team".to_owned(), "payments".to_owned())])
        );
        let calls = counters.by_action.lock().expect("counts").clone();
        assert_eq!(
            calls,
            BTreeMap::from([
                // Twice two pages for the account; its OU's parent once.
                ("organizations:ListParents".to_owned(), 5),
                ("organizations:DescribeOrganizationalUnit".to_owned(), 1),
                ("organizations:ListTagsForResource".to_owned(), 2),
            ])
        );
    }
}
