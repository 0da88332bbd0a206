//! The arguments of the commands that record a decision: `snooze ARN|ID 7d|2w|YYYY-MM-DD
//! REASON…`, `ack ARN|ID REASON…` and `unsnooze ARN|ID`.
//!
//! A reason is required for a snooze and an acknowledgement: the audit trail and `/certs snoozed`
//! show it to whoever wonders next month why a certificate was not in the digest. Whether a date
//! is in the future is not decided here (the parser has no clock): `bot` checks it against `now`.

use super::{missing, Command, ParseError};
use chrono::NaiveDate;

/// How long a snooze lasts, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// `7d` or `2w` (weeks are counted in days): that many days from now.
    Days(u32),
    /// `YYYY-MM-DD`: until that day, 00:00 UTC.
    Date(NaiveDate),
}

/// The longest snooze typed as a duration (`365d`, `52w`); a date may be later, but no snooze
/// runs past the certificate's NotAfter.
pub const MAX_SNOOZE_DAYS: u32 = 365;

/// The longest reason, in characters (the reason modal's input has the same limit).
pub const MAX_REASON_CHARS: usize = 500;

/// What a duration must look like, for errors and help.
const DURATIONS: &str = "`7d`, `2w` (at most 365 days) or a date like `2026-12-13`";

pub(super) fn snooze(args: &[&str]) -> Result<Command, ParseError> {
    let (target, until, reason) = match args {
        [] => {
            return Err(missing(
                "snooze",
                "a certificate ARN or id, how long and a reason",
            ))
        }
        [_] => {
            return Err(missing(
                "snooze",
                "how long (`7d`, `2w` or `YYYY-MM-DD`) and a reason",
            ))
        }
        [_, until] => {
            // A bad duration is the more useful error when both are wrong.
            parse_until(until)?;
            return Err(missing("snooze", "a reason"));
        }
        [target, until, reason @ ..] => (target, until, reason),
    };
    Ok(Command::Snooze {
        target: (*target).to_owned(),
        until: parse_until(until)?,
        reason: parse_reason(reason)?,
    })
}

pub(super) fn ack(args: &[&str]) -> Result<Command, ParseError> {
    match args {
        [] => Err(missing("ack", "a certificate ARN or id and a reason")),
        [_] => Err(missing("ack", "a reason")),
        [target, reason @ ..] => Ok(Command::Ack {
            target: (*target).to_owned(),
            reason: parse_reason(reason)?,
        }),
    }
}

/// `7d`, `2w` (either case) or `YYYY-MM-DD`.
pub(crate) fn parse_until(text: &str) -> Result<Until, ParseError> {
    let bad = || ParseError::BadDuration {
        text: text.to_owned(),
        expected: DURATIONS,
    };
    if text.len() >= 8 && text.contains('-') {
        return NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Until::Date)
            .map_err(|_| bad());
    }
    let split = text.len().saturating_sub(1);
    let (number, unit) = (text.get(..split).ok_or_else(bad)?, text.get(split..));
    let per = match unit {
        Some("d" | "D") => 1,
        Some("w" | "W") => 7,
        _ => return Err(bad()),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let days = number
        .parse::<u32>()
        .ok()
        .and_then(|n| n.checked_mul(per))
        .filter(|days| (1..=MAX_SNOOZE_DAYS).contains(days))
        .ok_or_else(bad)?;
    Ok(Until::Days(days))
}

/// The reason's words joined by one space, at most [`MAX_REASON_CHARS`] characters.
fn parse_reason(words: &[&str]) -> Result<String, ParseError> {
    let reason = words.join(" ");
    let chars = reason.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(ParseError::ReasonTooLong { chars });
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_dates() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).map(Until::Date);
        // (text, expected)
        let cases = [
            ("7d", Some(Until::Days(7))),
            ("7D", Some(Until::Days(7))),
            ("2w", Some(Until::Days(14))),
            ("52W", Some(Until::Days(364))),
            ("365d", Some(Until::Days(365))),
            ("007d", Some(Until::Days(7))),
            ("2026-12-13", date(2026, 12, 13)),
            ("0d", None),
            ("366d", None),
            ("53w", None),
            ("99999999999d", None),
            ("4294967295w", None),
            ("d", None),
            ("+7d", None),
            ("7", None),
            ("7h", None),
            ("7é", None),
            ("é", None),
            ("", None),
            ("2026-02-30", None),
            ("2026-13-01", None),
            ("13-12-2026", None),
            ("soon", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_until(text).ok(), expected, "{text:?}");
        }
    }
}
