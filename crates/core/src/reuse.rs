//! Repeat scans: when the detail of an earlier DescribeCertificate still stands for a
//! certificate a rescan lists, so that the scan need not describe it again.
//!
//! Most of what DescribeCertificate returns never changes for a certificate (validation method,
//! domains, validation records), and what does change moves a field the listing has too: a
//! renewal or a re-import moves NotBefore and NotAfter, attaching or detaching it moves InUse, a
//! revocation or an expiry moves Status. So the earlier detail stands when these markers are the
//! same in the listing as in the detail, the detail is younger than the scan's limit, and the
//! verdict does not depend on detail that moves with time while the markers stay put: a renewal
//! under way (its validation state and age), a request still pending, a failed renewal ACM may
//! retry. A value this version does not know is described again too.

use crate::facts::{CertStatus, CertType, CertificateFacts, RenewalStatus};
use chrono::{DateTime, Duration, Utc};

/// The listing fields that mark a change of a certificate's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Markers<'a> {
    not_before: Option<DateTime<Utc>>,
    not_after: Option<DateTime<Utc>>,
    status: &'a CertStatus,
    in_use: bool,
    key_algorithm: Option<&'a str>,
    cert_type: &'a CertType,
    exported: bool,
}

impl<'a> Markers<'a> {
    fn of(f: &'a CertificateFacts) -> Self {
        Markers {
            not_before: f.not_before,
            not_after: f.not_after,
            status: &f.status,
            // A described certificate with users is in use, whatever the flag says.
            in_use: f.in_use || !f.in_use_by.is_empty(),
            key_algorithm: f.key_algorithm.as_deref(),
            cert_type: &f.cert_type,
            exported: f.exported,
        }
    }
}

/// Whether `cached`'s verdict may move with time while its markers stay the same.
fn moves_with_time(cached: &CertificateFacts) -> bool {
    let renewal_unsettled = cached
        .renewal_summary
        .as_ref()
        .is_some_and(|r| r.renewal_status != RenewalStatus::Success);
    let unknown = matches!(cached.status, CertStatus::Other(_))
        || matches!(cached.cert_type, CertType::Other(_));
    cached.status == CertStatus::PendingValidation || renewal_unsettled || unknown
}

/// `listing` completed with `cached`'s detail, when that detail (an earlier describe of the same
/// certificate, at `cached.described_at`) still stands at `now`: the markers are unchanged, the
/// detail is younger than `max_age`, and nothing in it moves with time. `None`: describe it.
pub fn reusable_detail(
    listing: &CertificateFacts,
    cached: &CertificateFacts,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Option<CertificateFacts> {
    let at = cached.described_at?;
    let young = at <= now && now - at < max_age;
    if !cached.described || cached.arn != listing.arn || !young {
        return None;
    }
    if Markers::of(listing) != Markers::of(cached) || moves_with_time(cached) {
        return None;
    }
    // A search result that says a renewal started (or ended) where the detail has none.
    if let Some(search) = &listing.search {
        let cached_renewal = cached.renewal_summary.as_ref().map(|r| &r.renewal_status);
        if search.renewal_status.as_ref() != cached_renewal {
            return None;
        }
    }
    let mut reused = cached.clone();
    // What this listing says is today's; the checks are the checks stage's to reuse or redo.
    reused.search = listing.search.clone();
    reused.renewal_eligibility = listing
        .renewal_eligibility
        .clone()
        .or(reused.renewal_eligibility);
    reused.managed_by = listing.managed_by.clone().or(reused.managed_by);
    reused.checks = None;
    Some(reused)
}

#[cfg(test)]
mod tests;
