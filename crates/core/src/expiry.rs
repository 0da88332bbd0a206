//! Days to NotAfter, and how they read: the one day arithmetic of every surface (the findings'
//! words, Slack's lines, the CLI's DAYS column and the report's `days_to_expiry`).
//!
//! Days are whole days truncated toward zero, so the count never claims more than has passed:
//! ten seconds after NotAfter is "expired less than a day ago" (0 days), not "1 day ago", and
//! 23 hours before it "expires in less than a day" (0 days). The words say "less than a day"
//! rather than "today": they stand beside a UTC date, which is often tomorrow's (or yesterday's)
//! when fewer than 24 hours remain (or have passed).
//!
//! Whether a certificate has expired is never read from the count (0 days is either side of
//! NotAfter): it is `CertificateFacts::is_expired`, NotAfter not after `now`, the same instant
//! the phrase switches from "expires" to "expired". The urgency thresholds (`urgent_days`,
//! `action_days`) compare this count for certificates that have not expired, where truncating and
//! rounding down agree.

use chrono::{DateTime, Utc};

/// Whole days from `now` to `not_after`, truncated toward zero: positive while NotAfter is
/// ahead, negative once it has passed by a whole day, 0 within a day either side of it.
pub fn days_to(not_after: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (not_after - now).num_days()
}

/// How a NotAfter reads at `now`: "expires in 5 days", "expires in 1 day", "expires in less than
/// a day", "expired less than a day ago", "expired 1 day ago", "expired 12 days ago". Expired
/// from NotAfter itself on, as `CertificateFacts::is_expired` says.
pub fn phrase(not_after: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let days = days_to(not_after, now);
    if not_after > now {
        match days {
            0 => "expires in less than a day".to_owned(),
            1 => "expires in 1 day".to_owned(),
            d => format!("expires in {d} days"),
        }
    } else {
        match -days {
            0 => "expired less than a day ago".to_owned(),
            1 => "expired 1 day ago".to_owned(),
            d => format!("expired {d} days ago"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CertStatus, CertificateFacts, Policy};
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
    }

    /// The boundaries: ±10 s, exactly N days, N days ± 1 s, on both sides of NotAfter.
    #[test]
    fn whole_days_truncate_toward_zero_and_read_naturally() {
        let s = Duration::seconds;
        let d = Duration::days;
        // (NotAfter − now, days, phrase, expired)
        let cases = [
            (s(10), 0, "expires in less than a day", false),
            (s(0), 0, "expired less than a day ago", true),
            (-s(10), 0, "expired less than a day ago", true),
            (d(1) - s(1), 0, "expires in less than a day", false),
            (d(1), 1, "expires in 1 day", false),
            (d(1) + s(1), 1, "expires in 1 day", false),
            (d(2) - s(1), 1, "expires in 1 day", false),
            (d(2), 2, "expires in 2 days", false),
            (d(30) - s(1), 29, "expires in 29 days", false),
            (d(30), 30, "expires in 30 days", false),
            (d(30) + s(1), 30, "expires in 30 days", false),
            (-d(1) + s(1), 0, "expired less than a day ago", true),
            (-d(1), -1, "expired 1 day ago", true),
            (-d(1) - s(1), -1, "expired 1 day ago", true),
            (-d(2) + s(1), -1, "expired 1 day ago", true),
            (-d(2), -2, "expired 2 days ago", true),
            (-d(12) - s(1), -12, "expired 12 days ago", true),
        ];
        for (offset, days, words, expired) in cases {
            let not_after = now() + offset;
            assert_eq!(days_to(not_after, now()), days, "{offset}");
            assert_eq!(phrase(not_after, now()), words, "{offset}");
            let mut facts = CertificateFacts::new("111122223333", "eu-west-1", "arn:x/1");
            facts.not_after = Some(not_after);
            assert_eq!(facts.days_to_expiry(now()), Some(days), "{offset}");
            assert_eq!(facts.expiry_phrase(now()), words, "{offset}");
            assert_eq!(facts.is_expired(now()), expired, "{offset}");
        }
    }

    #[test]
    fn without_a_not_after_only_status_speaks() {
        let mut facts = CertificateFacts::new("111122223333", "eu-west-1", "arn:x/1");
        facts.status = CertStatus::PendingValidation;
        assert_eq!(facts.days_to_expiry(now()), None);
        assert_eq!(facts.expiry_phrase(now()), "has no expiry date yet");
        facts.status = CertStatus::Expired;
        assert_eq!(facts.expiry_phrase(now()), "has expired");
    }

    /// A certificate that expired seconds ago is 0 days out, and still `expired`, in the
    /// finding's urgency and words.
    #[test]
    fn seconds_past_not_after_is_expired_today() {
        let mut facts = CertificateFacts::new("111122223333", "eu-west-1", "arn:x/1");
        facts.domain_name = Some("lapsed.example.com".into());
        facts.not_after = Some(now() - Duration::seconds(10));
        let findings = crate::classify(&facts, now(), &Policy::default());
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].code, crate::Code::Expired);
        assert_eq!(findings[0].urgency, crate::Urgency::Expired);
        assert_eq!(
            findings[0].summary,
            "lapsed.example.com expired less than a day ago (2026-03-02)"
        );
    }
}
