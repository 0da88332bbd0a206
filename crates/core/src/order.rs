//! The one order of certificates (and of their findings) in everything people read: the CLI's
//! table and Slack's replies and digest.
//!
//! Most urgent first; at equal urgency the soonest NotAfter first; then account, region, name
//! and ARN ([`CertificateRecord::place`]), so that the order is total and stable. A certificate
//! without a NotAfter that ACM says is EXPIRED sorts with the expired ones, before every dated
//! one: it expired on a day nobody knows, as overdue as a certificate gets. Any other certificate
//! without a NotAfter (a request not yet issued) comes after every dated one.
//!
//! [`Report::sort`](crate::Report::sort) is a different order on purpose: by place alone, the
//! stable order of the JSON and CSV output and of the store, which no urgency reshuffles.

use crate::facts::CertStatus;
use crate::finding::Urgency;
use crate::report::CertificateRecord;
use chrono::{DateTime, Utc};
use std::cmp::Reverse;

/// A sort key of a certificate shown at some urgency: see the module's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key<'a> {
    urgency: Reverse<Option<Urgency>>,
    expiry: Expiry,
    place: (&'a str, &'a str, &'a str, &'a str),
}

/// Where NotAfter puts a certificate among those of equal urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Expiry {
    /// No NotAfter, and ACM says EXPIRED.
    Overdue,
    At(DateTime<Utc>),
    /// No NotAfter yet.
    Undated,
}

/// The key of `record` in a list ordered most urgent first, shown at `urgency`: its worst
/// finding's (raised at `now`: [`CertificateRecord::urgency_at`]) in a list of certificates, a
/// finding's own in a list of findings; `None`, a certificate that renews by itself, comes last.
/// Sorted stably, the findings of one certificate keep their order (core's: most urgent first,
/// then rule order).
pub fn most_urgent_first(record: &CertificateRecord, urgency: Option<Urgency>) -> Key<'_> {
    let facts = &record.facts;
    Key {
        urgency: Reverse(urgency),
        expiry: match facts.not_after {
            Some(at) => Expiry::At(at),
            // As `CertificateFacts::is_expired` reads a certificate without NotAfter.
            None if facts.status == CertStatus::Expired => Expiry::Overdue,
            None => Expiry::Undated,
        },
        place: record.place(),
    }
}

/// The key of `record` in a list ordered by date alone (`/certs expiring`): the same order with
/// urgency left out, so it is soonest NotAfter first.
pub fn soonest_first(record: &CertificateRecord) -> Key<'_> {
    most_urgent_first(record, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CertificateFacts, Code, Finding};
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
    }

    /// A certificate named `name` in `account`, NotAfter `days` away (None: none), with one
    /// finding at `urgency` (None: renews by itself).
    fn record(
        name: &str,
        account: &str,
        days: Option<i64>,
        status: CertStatus,
        urgency: Option<Urgency>,
    ) -> CertificateRecord {
        let mut facts = CertificateFacts::new(
            account,
            "eu-west-1",
            &format!("arn:aws:acm:eu-west-1:{account}:certificate/{name}"),
        );
        facts.domain_name = Some(name.to_owned());
        facts.status = status;
        facts.not_after = days.map(|d| now() + Duration::days(d));
        let findings = urgency
            .map(|urgency| Finding {
                code: Code::Imported,
                urgency,
                summary: String::new(),
                remedy: String::new(),
            })
            .into_iter()
            .collect();
        CertificateRecord::new("acct", facts, findings, now())
    }

    #[test]
    fn most_urgent_then_soonest_then_place() {
        use CertStatus::{Expired, Issued, PendingValidation};
        use Urgency::{Action, Expired as Gone, Upcoming, Urgent};
        // In the expected order.
        let expected = [
            // Expired: the one without NotAfter first, then the longest gone.
            record("no-date-expired", "222222222222", None, Expired, Some(Gone)),
            record("gone-long", "222222222222", Some(-30), Issued, Some(Gone)),
            record("gone-a", "111111111111", Some(-1), Issued, Some(Gone)),
            record("gone-b", "222222222222", Some(-1), Issued, Some(Gone)),
            // Urgent, soonest first.
            record("urgent-2", "111111111111", Some(2), Issued, Some(Urgent)),
            record("urgent-5", "111111111111", Some(5), Issued, Some(Urgent)),
            // Action: dated before undated.
            record("action-20", "111111111111", Some(20), Issued, Some(Action)),
            record(
                "stuck",
                "111111111111",
                None,
                PendingValidation,
                Some(Action),
            ),
            record("upcoming", "111111111111", Some(90), Issued, Some(Upcoming)),
            // Renewing by themselves, last.
            record("ok-3", "111111111111", Some(3), Issued, None),
            record("ok-undated", "111111111111", None, Issued, None),
        ];
        let mut shuffled: Vec<&CertificateRecord> = expected.iter().rev().collect();
        shuffled.rotate_left(5);
        shuffled.sort_by_key(|r| most_urgent_first(r, r.worst_urgency()));
        let names: Vec<&str> = shuffled.iter().map(|r| r.facts.display_name()).collect();
        let wanted: Vec<&str> = expected.iter().map(|r| r.facts.display_name()).collect();
        assert_eq!(names, wanted);

        // By date alone: an EXPIRED certificate without NotAfter is still the most overdue.
        shuffled.sort_by_key(|r| soonest_first(r));
        let names: Vec<&str> = shuffled.iter().map(|r| r.facts.display_name()).collect();
        assert_eq!(
            names,
            [
                "no-date-expired",
                "gone-long",
                "gone-a",
                "gone-b",
                "urgent-2",
                "ok-3",
                "urgent-5",
                "action-20",
                "upcoming",
                "ok-undated",
                "stuck",
            ]
        );
    }

    #[test]
    fn a_certificate_past_not_after_since_the_scan_counts_as_expired() {
        let mut lapsed = record("lapsed", "111111111111", None, CertStatus::Issued, None);
        lapsed.facts.not_after = Some(now() + Duration::hours(2));
        lapsed.findings.push(Finding {
            code: Code::Imported,
            urgency: Urgency::Urgent,
            summary: String::new(),
            remedy: String::new(),
        });
        assert_eq!(lapsed.urgency_at(now()), Some(Urgency::Urgent));
        let later = now() + Duration::hours(3);
        assert_eq!(lapsed.urgency_at(later), Some(Urgency::Expired));
        let ok = record("ok", "111111111111", Some(3), CertStatus::Issued, None);
        assert_eq!(ok.urgency_at(now()), None, "no finding: renews by itself");
        let past = record("past", "111111111111", Some(-1), CertStatus::Issued, None);
        assert_eq!(
            past.urgency_at(now()),
            Some(Urgency::Expired),
            "finding or not"
        );
    }
}
