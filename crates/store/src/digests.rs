//! The daily digest's bookkeeping: for each local date and channel (each routed channel gets its
//! own digest), the intent to post it (written before the post) and the post itself (written
//! after). Together they make a digest neither doubled
//! nor silently skipped across crashes: a date with an intent but no post may or may not have
//! reached Slack, and the caller must ask Slack before posting it again.

use crate::{parse_timestamp, timestamp, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, OptionalExtension};

/// What the store knows of one local date's digest in one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestMark {
    /// An intent was recorded at `at` but no post: a crash (or a failed write) came between
    /// the two, so the digest may be in the channel already.
    Intended { at: DateTime<Utc> },
    /// Posted as message `ts` (`ts` is empty when nothing needed posting).
    Posted { ts: String, at: DateTime<Utc> },
}

impl Store {
    /// Whether the daily digest for `date` (a local date in the digest's time zone) was posted
    /// in `channel`.
    pub fn digest_posted(&self, date: NaiveDate, channel: &str) -> Result<bool, StoreError> {
        Ok(matches!(
            self.digest_mark(date, channel)?,
            Some(DigestMark::Posted { .. })
        ))
    }

    /// The post, or else the intent, recorded for `date` in `channel`.
    pub fn digest_mark(
        &self,
        date: NaiveDate,
        channel: &str,
    ) -> Result<Option<DigestMark>, StoreError> {
        let key = date.to_string();
        let posted = self
            .conn
            .query_row(
                "SELECT ts, posted_at FROM digests WHERE local_date = ?1 AND channel = ?2",
                [&key, channel],
                |row| Ok((row.get(0)?, row.get::<_, String>(1)?)),
            )
            .optional()?;
        if let Some((ts, at)) = posted {
            let at = parse_timestamp(&at, "digests.posted_at")?;
            return Ok(Some(DigestMark::Posted { ts, at }));
        }
        let intended = self
            .conn
            .query_row(
                "SELECT intended_at FROM digest_intents WHERE local_date = ?1 AND channel = ?2",
                [&key, channel],
                |row| row.get::<_, String>(0),
            )
            .optional()?;
        intended
            .map(|at| {
                let at = parse_timestamp(&at, "digest_intents.intended_at")?;
                Ok(DigestMark::Intended { at })
            })
            .transpose()
    }

    /// When the latest digest was posted in `channel` (the latest `posted_at` recorded there,
    /// whatever its date; a date that needed no post counts too): where that channel's "new
    /// since the last digest" starts ([`Store::new_findings_since`]). `None` before its first
    /// digest.
    pub fn last_digest_posted_at(
        &self,
        channel: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut query = self
            .conn
            .prepare("SELECT posted_at FROM digests WHERE channel = ?1")?;
        let mut rows = query.query([channel])?;
        let mut latest = None;
        while let Some(row) = rows.next()? {
            let at = parse_timestamp(&row.get::<_, String>(0)?, "digests.posted_at")?;
            latest = latest.max(Some(at));
        }
        Ok(latest)
    }

    /// Records, before posting, that the digest for `date` is about to be posted to `channel`.
    /// Returns `false`, and changes nothing, if an intent for that date and channel was already
    /// recorded
    /// (the first one's time is what a later check asks Slack about).
    pub fn record_digest_intent(
        &mut self,
        date: NaiveDate,
        channel: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = self.conn.execute(
            "INSERT INTO digest_intents (local_date, channel, intended_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (local_date, channel) DO NOTHING",
            params![date.to_string(), channel, timestamp(at)],
        )?;
        Ok(inserted == 1)
    }

    /// Records that the digest for `date` was posted as message `ts` in `channel`. Returns
    /// `false`, and changes nothing, if that date was already marked there: the first mark wins.
    ///
    /// With [`Store::record_digest_intent`] before the post, a crash between the post and this
    /// mark leaves an intent without a post ([`DigestMark::Intended`]): the caller then asks
    /// Slack whether the message exists instead of posting it again.
    pub fn mark_digest_posted(
        &mut self,
        date: NaiveDate,
        channel: &str,
        ts: &str,
        posted_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = self.conn.execute(
            "INSERT INTO digests (local_date, channel, ts, posted_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (local_date, channel) DO NOTHING",
            params![date.to_string(), channel, ts, timestamp(posted_at)],
        )?;
        Ok(inserted == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, hour, 0, 0)
            .single()
            .expect("valid time")
    }

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 2).expect("date")
    }

    #[test]
    fn intent_then_post() {
        let mut store = Store::open_in_memory().expect("open");
        assert_eq!(store.digest_mark(date(), "C1").expect("mark"), None);
        assert!(store
            .record_digest_intent(date(), "C1", at(9))
            .expect("intent"));
        assert!(
            !store
                .record_digest_intent(date(), "C1", at(10))
                .expect("intent"),
            "the first intent's time is kept"
        );
        assert_eq!(
            store.digest_mark(date(), "C1").expect("mark"),
            Some(DigestMark::Intended { at: at(9) })
        );
        assert!(!store.digest_posted(date(), "C1").expect("posted"));
        assert!(store
            .mark_digest_posted(date(), "C1", "1.000001", at(9))
            .expect("post"));
        assert_eq!(
            store.digest_mark(date(), "C1").expect("mark"),
            Some(DigestMark::Posted {
                ts: "1.000001".to_owned(),
                at: at(9)
            })
        );
        assert!(store.digest_posted(date(), "C1").expect("posted"));
    }

    /// Each channel has its own digest of the day: one channel's post or intent says nothing of
    /// another's, and "the last digest" is each channel's own.
    #[test]
    fn each_channel_has_its_own_digest() {
        let mut store = Store::open_in_memory().expect("open");
        store
            .mark_digest_posted(date(), "C1", "1.000001", at(9))
            .expect("post");
        assert!(store
            .record_digest_intent(date(), "C2", at(10))
            .expect("intent"));
        assert!(store.digest_posted(date(), "C1").expect("posted"));
        assert_eq!(
            store.digest_mark(date(), "C2").expect("mark"),
            Some(DigestMark::Intended { at: at(10) })
        );
        assert_eq!(store.digest_mark(date(), "C3").expect("mark"), None);
        assert!(store
            .mark_digest_posted(date(), "C2", "2.000001", at(10))
            .expect("post"));
        assert_eq!(
            store.last_digest_posted_at("C1").expect("last"),
            Some(at(9))
        );
        assert_eq!(
            store.last_digest_posted_at("C2").expect("last"),
            Some(at(10))
        );
        assert_eq!(store.last_digest_posted_at("C3").expect("last"), None);
    }

    #[test]
    fn a_read_only_store_reads_and_refuses_writes() {
        let mut store = Store::open_in_memory().expect("open");
        store
            .record_digest_intent(date(), "C1", at(9))
            .expect("intent");
        store.set_read_only(true).expect("read-only");
        assert!(store
            .mark_digest_posted(date(), "C1", "1.000001", at(9))
            .is_err());
        assert!(matches!(
            store.digest_mark(date(), "C1").expect("reads go on"),
            Some(DigestMark::Intended { .. })
        ));
        store.set_read_only(false).expect("writable");
        assert!(store
            .mark_digest_posted(date(), "C1", "1.000001", at(9))
            .expect("post"));
    }
}
