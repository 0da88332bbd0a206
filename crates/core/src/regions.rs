//! Region rules that more than one crate acts on.

/// The region scanned in every account certwatch gets into, whatever `scan.regions` or
/// `account:ListRegions` says: the home region of AWS's global services, where ACM keeps the
/// certificates of CloudFront distributions (and of CloudFront SaaS Manager). Missing it would
/// miss exactly the certificates of the most public endpoints.
///
/// The scanner's plan puts it first in every account's regions, and scans it even when the
/// account's region list could not be read; so the store, merging a scan whose `list_regions`
/// failed for an account, knows that this region of it was scanned and keeps nothing stale there.
pub const ALWAYS_SCANNED: &str = "us-east-1";
