//! The incoming HTTP request: Slack's request signature, checked before anything else is read,
//! and the form body of a slash command.
//!
//! Slack signs `v0:{X-Slack-Request-Timestamp}:{raw body}` with HMAC-SHA256 under the app's
//! signing secret and sends `v0=<hex>` as `X-Slack-Signature`. A request is accepted only when
//! the timestamp is within five minutes of now (either way: a replayed request is old, a forged
//! one may claim the future) and the signature matches, compared in constant time so that the
//! time taken reveals nothing about the expected value. Errors never contain the secret nor the
//! expected signature: they end up in logs.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far the request timestamp may be from now, either way, in seconds.
pub const MAX_SKEW_SECONDS: u64 = 300;

/// Why a request is not accepted as coming from Slack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no signing secret is configured")]
    NoSecret,
    #[error("the X-Slack-Request-Timestamp header is missing")]
    MissingTimestamp,
    #[error("the X-Slack-Request-Timestamp header is not a Unix time")]
    GarbledTimestamp,
    #[error("the request timestamp is {skew_seconds} s from now (at most 300 s allowed)")]
    StaleTimestamp { skew_seconds: u64 },
    #[error("the X-Slack-Signature header is missing")]
    MissingSignature,
    #[error("the X-Slack-Signature header is not v0= and 64 hex digits")]
    GarbledSignature,
    #[error("the request signature does not match")]
    BadSignature,
}

/// Checks a request as Slack specifies: `timestamp` and `signature` are the values of the
/// `X-Slack-Request-Timestamp` and `X-Slack-Signature` headers (empty when absent), `body` the
/// raw body as received, `now_unix` the current Unix time.
pub fn verify(
    signing_secret: &[u8],
    timestamp: &str,
    body: &[u8],
    signature: &str,
    now_unix: i64,
) -> Result<(), VerifyError> {
    if signing_secret.is_empty() {
        return Err(VerifyError::NoSecret);
    }
    let timestamp = timestamp.trim();
    if timestamp.is_empty() {
        return Err(VerifyError::MissingTimestamp);
    }
    // Digits only: i64's parser would also take "+1531420618", which Slack never sends.
    if !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::GarbledTimestamp);
    }
    let sent: i64 = timestamp
        .parse()
        .map_err(|_| VerifyError::GarbledTimestamp)?;
    let skew_seconds = sent.abs_diff(now_unix);
    if skew_seconds > MAX_SKEW_SECONDS {
        return Err(VerifyError::StaleTimestamp { skew_seconds });
    }
    let signature = signature.trim();
    if signature.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    let digest = signature
        .strip_prefix("v0=")
        .filter(|hex| hex.len() == 64)
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or(VerifyError::GarbledSignature)?;
    mac(signing_secret, timestamp, body)?
        .verify_slice(&digest)
        .map_err(|_| VerifyError::BadSignature)
}

/// The `X-Slack-Signature` Slack would send for this request: for tests and fake Slack servers.
pub fn sign(signing_secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    match mac(signing_secret, timestamp, body) {
        Ok(mac) => format!("v0={}", hex::encode(mac.finalize().into_bytes())),
        Err(_) => String::new(),
    }
}

fn mac(signing_secret: &[u8], timestamp: &str, body: &[u8]) -> Result<HmacSha256, VerifyError> {
    // HMAC takes keys of any length; the error exists only for fixed-key MACs.
    let mut mac = HmacSha256::new_from_slice(signing_secret).map_err(|_| VerifyError::NoSecret)?;
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    Ok(mac)
}

/// The fields of a slash command request (`application/x-www-form-urlencoded`) the bot uses.
/// A missing field is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlashCommand {
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    /// The command as configured, e.g. `/certs`.
    pub command: String,
    /// What follows the command.
    pub text: String,
    /// Where delayed answers go (valid for 30 minutes, 5 answers).
    pub response_url: String,
    pub trigger_id: String,
}

/// Parses a slash command body. Never fails: unknown fields are ignored, invalid UTF-8 is
/// replaced, and when a field repeats the first one counts (the body is signed as a whole, so
/// this only matters for hand-made requests).
pub fn parse_form(body: &[u8]) -> SlashCommand {
    let mut command = SlashCommand::default();
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(body) {
        if seen.iter().any(|k| *k == key) {
            continue;
        }
        let field = match key.as_ref() {
            "team_id" => &mut command.team_id,
            "channel_id" => &mut command.channel_id,
            "user_id" => &mut command.user_id,
            "command" => &mut command.command,
            "text" => &mut command.text,
            "response_url" => &mut command.response_url,
            "trigger_id" => &mut command.trigger_id,
            _ => continue,
        };
        *field = value.into_owned();
        seen.push(key.into_owned());
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack).
    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const NOW: i64 = 1531420618;

    #[test]
    fn slacks_documented_example_verifies() {
        assert_eq!(verify(SECRET, TIMESTAMP, BODY, SIGNATURE, NOW), Ok(()));
        assert_eq!(sign(SECRET, TIMESTAMP, BODY), SIGNATURE);
        // Uppercase hex is the same digest.
        let upper = format!("v0={}", SIGNATURE[3..].to_ascii_uppercase());
        assert_eq!(verify(SECRET, TIMESTAMP, BODY, &upper, NOW), Ok(()));
    }

    /// (what, secret, timestamp, body, signature, now, expected error)
    type Case<'a> = (
        &'a str,
        &'a [u8],
        &'a str,
        &'a [u8],
        &'a str,
        i64,
        VerifyError,
    );

    #[test]
    fn rejections() {
        let other_ts = (NOW + 60).to_string();
        let mut flipped = SIGNATURE.to_owned();
        flipped.replace_range(10..11, "0");
        let cases: &[Case<'_>] = &[
            (
                "wrong signature",
                SECRET,
                TIMESTAMP,
                BODY,
                &flipped,
                NOW,
                VerifyError::BadSignature,
            ),
            (
                "wrong secret",
                b"not-the-secret",
                TIMESTAMP,
                BODY,
                SIGNATURE,
                NOW,
                VerifyError::BadSignature,
            ),
            (
                "tampered body",
                SECRET,
                TIMESTAMP,
                b"token=x&text=scan",
                SIGNATURE,
                NOW,
                VerifyError::BadSignature,
            ),
            // The same signed body replayed under a fresh timestamp.
            (
                "replayed body, new timestamp",
                SECRET,
                &other_ts,
                BODY,
                SIGNATURE,
                NOW + 60,
                VerifyError::BadSignature,
            ),
            (
                "stale",
                SECRET,
                TIMESTAMP,
                BODY,
                SIGNATURE,
                NOW + 301,
                VerifyError::StaleTimestamp { skew_seconds: 301 },
            ),
            (
                "future",
                SECRET,
                TIMESTAMP,
                BODY,
                SIGNATURE,
                NOW - 301,
                VerifyError::StaleTimestamp { skew_seconds: 301 },
            ),
            (
                "days old",
                SECRET,
                TIMESTAMP,
                BODY,
                SIGNATURE,
                NOW + 86_400,
                VerifyError::StaleTimestamp {
                    skew_seconds: 86_400,
                },
            ),
            (
                "no timestamp",
                SECRET,
                "",
                BODY,
                SIGNATURE,
                NOW,
                VerifyError::MissingTimestamp,
            ),
            (
                "garbled timestamp",
                SECRET,
                "15314206l8",
                BODY,
                SIGNATURE,
                NOW,
                VerifyError::GarbledTimestamp,
            ),
            (
                "signed timestamp",
                SECRET,
                "+1531420618",
                BODY,
                SIGNATURE,
                NOW,
                VerifyError::GarbledTimestamp,
            ),
            (
                "huge timestamp",
                SECRET,
                "99999999999999999999",
                BODY,
                SIGNATURE,
                NOW,
                VerifyError::GarbledTimestamp,
            ),
            (
                "no signature",
                SECRET,
                TIMESTAMP,
                BODY,
                "",
                NOW,
                VerifyError::MissingSignature,
            ),
            (
                "no v0 prefix",
                SECRET,
                TIMESTAMP,
                BODY,
                &SIGNATURE[3..],
                NOW,
                VerifyError::GarbledSignature,
            ),
            (
                "v1 prefix",
                SECRET,
                TIMESTAMP,
                BODY,
                &SIGNATURE.replace("v0=", "v1="),
                NOW,
                VerifyError::GarbledSignature,
            ),
            (
                "short hex",
                SECRET,
                TIMESTAMP,
                BODY,
                &SIGNATURE[..66],
                NOW,
                VerifyError::GarbledSignature,
            ),
            (
                "not hex",
                SECRET,
                TIMESTAMP,
                BODY,
                &SIGNATURE.replace('a', "g"),
                NOW,
                VerifyError::GarbledSignature,
            ),
            (
                "no secret",
                b"",
                TIMESTAMP,
                BODY,
                SIGNATURE,
                NOW,
                VerifyError::NoSecret,
            ),
        ];
        for (what, secret, timestamp, body, signature, now, expected) in cases {
            assert_eq!(
                verify(secret, timestamp, body, signature, *now).as_ref(),
                Err(expected),
                "{what}"
            );
        }
        // Exactly five minutes either way is still fine.
        assert_eq!(
            verify(SECRET, TIMESTAMP, BODY, SIGNATURE, NOW + 300),
            Ok(())
        );
        assert_eq!(
            verify(SECRET, TIMESTAMP, BODY, SIGNATURE, NOW - 300),
            Ok(())
        );
    }

    #[test]
    fn errors_reveal_no_secret() {
        let expected_hex = &SIGNATURE[3..];
        let mut flipped = SIGNATURE.to_owned();
        flipped.replace_range(10..11, "0");
        let errors = [
            verify(SECRET, TIMESTAMP, BODY, &flipped, NOW),
            verify(SECRET, TIMESTAMP, BODY, SIGNATURE, NOW + 301),
            verify(SECRET, "x", BODY, SIGNATURE, NOW),
            verify(SECRET, TIMESTAMP, BODY, "v0=zz", NOW),
        ];
        for error in errors {
            let text = format!("{} {:?}", error.as_ref().unwrap_err(), error);
            assert!(!text.contains("8f742231b10e8888abcd99yyyzzz85a5"), "{text}");
            assert!(!text.contains(expected_hex), "{text}");
        }
    }

    #[test]
    fn slash_command_form() {
        let form = parse_form(BODY);
        assert_eq!(
            form,
            SlashCommand {
                team_id: "T1DC2JH3J".into(),
                channel_id: "G8PSS9T3V".into(),
                user_id: "U2CERLKJA".into(),
                command: "/webhook-collect".into(),
                text: String::new(),
                response_url: "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN".into(),
                trigger_id: "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c".into(),
            }
        );
        let form = parse_form(b"command=%2Fcerts&text=expiring+7+public&text=scan&user_id=U1");
        assert_eq!(form.text, "expiring 7 public");
        assert_eq!(form.command, "/certs");
        assert_eq!(form.user_id, "U1");
        assert_eq!(form.team_id, "");
        assert_eq!(parse_form(b"text=R%26D+%3Cx%3E%ff").text, "R&D <x>\u{fffd}");
        assert_eq!(parse_form(b""), SlashCommand::default());
    }
}
