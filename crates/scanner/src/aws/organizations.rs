//! Organizations calls about one account or organizational unit: its parent, an OU's name, an
//! account's tags (what `crate::org` walks and caches). Made with the credentials certwatch
//! runs in, one page per call; the caller paces them through the organizations limiter.

use super::{Aws, AwsError};
use crate::org::Parent;
use aws_sdk_organizations::types::ParentType;
use std::collections::BTreeMap;

impl Aws {
    /// One page of organizations:ListParents of an account or OU: its parent (a page may be
    /// empty and still carry a NextToken), and the next page's token.
    pub(crate) async fn parents_page(
        &self,
        child: &str,
        token: Option<String>,
    ) -> Result<(Option<Parent>, Option<String>), AwsError> {
        let out = self
            .organizations
            .list_parents()
            .child_id(child)
            .set_next_token(token)
            .send()
            .await
            .map_err(AwsError::from_sdk)?;
        let parent = out.parents().iter().find_map(|p| {
            let id = p.id()?.to_owned();
            // The type as AWS gives it, else the id's prefix (roots are `r-…`).
            let is_root = match p.r#type() {
                Some(ParentType::Root) => true,
                Some(ParentType::OrganizationalUnit) => false,
                _ => id.starts_with("r-"),
            };
            Some(Parent { id, is_root })
        });
        Ok((parent, out.next_token().map(str::to_owned)))
    }

    /// organizations:DescribeOrganizationalUnit: the OU's name.
    pub(crate) async fn organizational_unit_name(&self, id: &str) -> Result<String, AwsError> {
        let out = self
            .organizations
            .describe_organizational_unit()
            .organizational_unit_id(id)
            .send()
            .await
            .map_err(AwsError::from_sdk)?;
        out.organizational_unit()
            .and_then(|ou| ou.name())
            .map(str::to_owned)
            .ok_or_else(|| {
                AwsError::local(format!("DescribeOrganizationalUnit of {id} has no name"))
            })
    }

    /// One page of organizations:ListTagsForResource of an account.
    pub(crate) async fn tags_page(
        &self,
        resource: &str,
        token: Option<String>,
    ) -> Result<(BTreeMap<String, String>, Option<String>), AwsError> {
        let out = self
            .organizations
            .list_tags_for_resource()
            .resource_id(resource)
            .set_next_token(token)
            .send()
            .await
            .map_err(AwsError::from_sdk)?;
        let tags = out
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        Ok((tags, out.next_token().map(str::to_owned)))
    }
}
