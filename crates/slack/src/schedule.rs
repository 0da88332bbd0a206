//! When the daily digest is due, in the configured time zone, correct across DST changes: the
//! local date and time are resolved against the zone's rules for that very day, never frozen to
//! a fixed UTC offset. And what the digest loop does next ([`step`]), from the time and what is
//! known of today's digest, so that a digest is neither posted twice nor silently skipped.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The instant at which `time` occurs on local `date` in `tz`. A time that falls in a DST gap
/// (02:30 on a spring-forward night) happens when the clocks resume (03:00); an ambiguous one
/// (01:30 on a fall-back night) happens the first time.
pub fn local_instant(date: NaiveDate, time: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let naive = date.and_time(time);
    if let Some(at) = tz.from_local_datetime(&naive).earliest() {
        return at.with_timezone(&Utc);
    }
    // In a gap: try each following minute until the zone has that local time (gaps are at most
    // a few hours long).
    (1..=24 * 60)
        .find_map(|minutes| {
            tz.from_local_datetime(&(naive + Duration::minutes(minutes)))
                .earliest()
        })
        .map_or_else(|| naive.and_utc(), |at| at.with_timezone(&Utc))
}

/// What the digest loop should do at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Post the digest for this local date now (its time has come and it was not posted yet).
    Now(NaiveDate),
    /// Sleep until this instant, then ask again.
    At(DateTime<Utc>),
}

/// `posted(date)` says whether the digest of a local date was already posted. A digest whose
/// time passed while the process was down is posted late on the same local day, once.
pub fn due(now: DateTime<Utc>, time: NaiveTime, tz: Tz, posted: impl Fn(NaiveDate) -> bool) -> Due {
    let today = now.with_timezone(&tz).date_naive();
    let today_at = local_instant(today, time, tz);
    if now >= today_at && !posted(today) {
        return Due::Now(today);
    }
    if now < today_at {
        return Due::At(today_at);
    }
    let tomorrow = today.succ_opt().unwrap_or(today);
    Due::At(local_instant(tomorrow, time, tz))
}

/// What is known of the digest of the current local date: from the store, or from the digest
/// loop's own memory when the store could not record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Neither an intent nor a post.
    Nothing,
    /// An intent to post was recorded at `since`, but no post: the process stopped (or the post
    /// failed in a way that leaves it unknown) between the two. The digest may be in Slack.
    Intended {
        since: DateTime<Utc>,
    },
    Posted,
}

/// The digest loop's next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Sleep until this instant, then ask again.
    Wait(DateTime<Utc>),
    /// Ask Slack whether the digest of `date` was posted at or after `since`; if it was, record
    /// it as posted; if not, post it.
    Confirm {
        date: NaiveDate,
        since: DateTime<Utc>,
    },
    /// Record the intent, then post the digest of this local date.
    Post(NaiveDate),
}

/// The next step at `now` for a digest at `time` in `tz`, given what is known of today's.
pub fn step(now: DateTime<Utc>, time: NaiveTime, tz: Tz, today: Known) -> Step {
    match due(now, time, tz, |_| today == Known::Posted) {
        Due::At(at) => Step::Wait(at),
        Due::Now(date) => match today {
            Known::Intended { since } => Step::Confirm { date, since },
            Known::Nothing | Known::Posted => Step::Post(date),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn nine_in_tokyo_is_midnight_utc() {
        let tz: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(
            local_instant(d(2026, 11, 28), t(9, 0), tz),
            utc("2026-11-28T00:00:00Z")
        );
    }

    #[test]
    fn follows_dst_in_both_directions() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // Before and after the spring change the UTC hour moves; the local hour does not.
        assert_eq!(
            local_instant(d(2026, 3, 7), t(9, 0), ny),
            utc("2026-03-07T14:00:00Z")
        );
        assert_eq!(
            local_instant(d(2026, 3, 9), t(9, 0), ny),
            utc("2026-03-09T13:00:00Z")
        );
        // 02:30 does not exist on 2026-03-08: it happens when the clocks resume, 03:00 EDT.
        assert_eq!(
            local_instant(d(2026, 3, 8), t(2, 30), ny),
            utc("2026-03-08T07:00:00Z")
        );
        // 01:30 happens twice on 2026-11-01: the first one (EDT).
        assert_eq!(
            local_instant(d(2026, 11, 1), t(1, 30), ny),
            utc("2026-11-01T05:30:00Z")
        );
        assert_eq!(
            local_instant(d(2026, 11, 2), t(9, 0), ny),
            utc("2026-11-02T14:00:00Z")
        );
    }

    #[test]
    fn due_today_tomorrow_or_late_once() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let never = |_| false;
        // Before 09:00 local: wait for today's.
        assert_eq!(
            due(utc("2026-11-28T07:00:00Z"), t(9, 0), tz, never),
            Due::At(utc("2026-11-28T08:00:00Z"))
        );
        // At or after it, not yet posted: now (late posting after a restart, same day).
        assert_eq!(
            due(utc("2026-11-28T08:00:00Z"), t(9, 0), tz, never),
            Due::Now(d(2026, 11, 28))
        );
        assert_eq!(
            due(utc("2026-11-28T20:00:00Z"), t(9, 0), tz, never),
            Due::Now(d(2026, 11, 28))
        );
        // Already posted today: tomorrow's.
        let posted = |date| date == d(2026, 11, 28);
        assert_eq!(
            due(utc("2026-11-28T08:00:01Z"), t(9, 0), tz, posted),
            Due::At(utc("2026-11-29T08:00:00Z"))
        );
        // The local date decides, not the UTC date: 23:30 UTC is already the 29th in Berlin.
        assert_eq!(
            due(utc("2026-11-28T23:30:00Z"), t(0, 15), tz, posted),
            Due::Now(d(2026, 11, 29))
        );
    }

    #[test]
    fn an_intent_without_a_post_is_confirmed_first() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let now = utc("2026-11-28T09:30:00Z");
        let since = utc("2026-11-28T08:00:00Z");
        assert_eq!(
            step(now, t(9, 0), tz, Known::Nothing),
            Step::Post(d(2026, 11, 28))
        );
        assert_eq!(
            step(now, t(9, 0), tz, Known::Intended { since }),
            Step::Confirm {
                date: d(2026, 11, 28),
                since
            }
        );
        assert_eq!(
            step(now, t(9, 0), tz, Known::Posted),
            Step::Wait(utc("2026-11-29T08:00:00Z"))
        );
        assert_eq!(
            step(utc("2026-11-28T07:00:00Z"), t(9, 0), tz, Known::Nothing),
            Step::Wait(utc("2026-11-28T08:00:00Z"))
        );
    }
}
