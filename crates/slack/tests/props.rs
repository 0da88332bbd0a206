//! Property tests of what the bot takes from outside: the `/certs` text, the signature headers,
//! the slash-command form body and the interaction payloads (button clicks, modal submissions).
//! Whatever arrives, each answers (a value or an error) and never panics; what each is
//! documented to accept, it accepts exactly.

use certwatch_core::{Code, Inventory, Report, Stats};
use certwatch_slack::command::{DEFAULT_EXPIRING_DAYS, MAX_SNOOZE_DAYS, SLASH, SUBCOMMANDS};
use certwatch_slack::interactive::{
    ACTION_ACK, ACTION_DETAILS, ACTION_SNOOZE_7D, MODAL_CALLBACK_ID, REASON_ACTION_ID,
    REASON_BLOCK_ID,
};
use certwatch_slack::verify::MAX_SKEW_SECONDS;
use certwatch_slack::{
    check_limits, parse, parse_error, parse_form, reply, sign, verify, Command, ParseError,
    Request, SlashCommand, VerifyError,
};
use certwatch_slack::{
    mark_decided, modal, parse_form_payload, parse_payload, parse_value, Button, ButtonAction,
    Interaction, ModalAction, Submit, Until,
};
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Value};
use std::collections::BTreeMap;

// ------------------------------------------------------------------------------------------
// `/certs` text

/// Whitespace that may separate words, ASCII or not.
const SPACES: &[&str] = &[
    " ", "  ", "\t", "\n", "\r\n", "\u{a0}", "\u{2003}", "\u{3000}",
];

/// Pieces that exercise Slack's encoding, the subcommand hints and case folding.
const TOKENS: &[&str] = &[
    "<",
    ">",
    "|",
    "&",
    ";",
    "&amp;",
    "&lt;",
    "&gt;",
    "&amp;lt;",
    "<http://a.example|a.example>",
    "<https://",
    "<mailto:x@a.example>",
    "<@U123>",
    "<#C1|general>",
    "<!here>",
    "<|>",
    "-1",
    "+7",
    "007",
    "99999999999",
    "\u{663}",
    "1.5",
    "expirng",
    "acount",
    "exp",
    "sc",
    "he",
    "pending-validation-dns",
    "arn:",
    "\u{130}",
    "\u{df}",
    "\u{1c5}",
    "\u{0}",
    "\u{200b}",
    "\u{1f512}",
    "`",
    "*",
];

fn space() -> impl Strategy<Value = &'static str> {
    select(SPACES)
}

/// `word` with the case of each ASCII letter chosen at random.
fn any_case(word: &'static str) -> impl Strategy<Value = String> {
    vec(any::<bool>(), word.len()).prop_map(move |upper| {
        word.chars()
            .zip(upper)
            .map(|(c, up)| {
                if up {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    })
}

/// A finding code as people type it: any letter case, `-` or `_` between words.
fn code_spelling() -> impl Strategy<Value = (Code, String)> {
    (select(Code::ALL), any::<u64>()).prop_map(|(code, bits)| {
        let text = code
            .as_str()
            .chars()
            .enumerate()
            .map(|(i, c)| {
                let bit = |n: usize| bits >> ((2 * i + n) % 64) & 1 == 1;
                match c {
                    '_' if bit(0) => '-',
                    c if bit(1) => c.to_ascii_lowercase(),
                    c => c,
                }
            })
            .collect();
        (code, text)
    })
}

/// One argument word: anything but whitespace, markup characters and entities included.
fn word() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        select(TOKENS).prop_map(str::to_owned),
        "[a-z0-9.-]{1,6}",
    ];
    vec(piece, 1..6)
        .prop_map(|pieces| pieces.concat().replace(char::is_whitespace, ""))
        .prop_filter("a word is not empty", |w| !w.is_empty())
}

fn account_id() -> impl Strategy<Value = String> {
    "[0-9]{12}"
}

fn dns_name() -> impl Strategy<Value = String> {
    "(\\*\\.)?([a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\\.){1,3}[a-z]{2,8}"
}

fn certificate_id() -> impl Strategy<Value = String> {
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
}

fn region() -> impl Strategy<Value = String> {
    "(us|eu|ap|sa|ca|me|af|il|mx)-(gov-)?(east|west|north|south|central|southeast|northeast)-[1-9]"
}

fn certificate_arn() -> impl Strategy<Value = String> {
    (
        select(&["aws", "aws-cn", "aws-us-gov"][..]),
        region(),
        account_id(),
        certificate_id(),
    )
        .prop_map(|(partition, region, account, id)| {
            format!("arn:{partition}:acm:{region}:{account}:certificate/{id}")
        })
}

/// One documented command and the words a user types for it: the subcommand (any case) and
/// its arguments, unescaped.
fn typed_command() -> impl Strategy<Value = (Command, Vec<String>)> {
    let alone = |name: &'static str, command: Command| {
        any_case(name).prop_map(move |w| (command.clone(), vec![w]))
    };
    let with = |name: &'static str, args: BoxedStrategy<(Command, Vec<String>)>| {
        (any_case(name), args).prop_map(|(w, (command, args))| {
            let mut words = vec![w];
            words.extend(args);
            (command, words)
        })
    };
    prop_oneof![
        Just((Command::Summary, Vec::new())),
        alone("summary", Command::Summary),
        // Help ignores what follows it.
        with(
            "help",
            vec(word(), 0..3)
                .prop_map(|rest| (Command::Help, rest))
                .boxed()
        ),
        alone("failures", Command::Failures),
        alone("scan", Command::Scan),
        alone(
            "expiring",
            Command::Expiring {
                days: DEFAULT_EXPIRING_DAYS
            }
        ),
        with(
            "expiring",
            (any::<u32>(), 0..3usize)
                .prop_map(|(days, zeros)| {
                    let text = format!("{}{days}", "0".repeat(zeros));
                    (Command::Expiring { days }, vec![text])
                })
                .boxed()
        ),
        with(
            "account",
            account_id()
                .prop_map(|id| (Command::Account(id.clone()), vec![id]))
                .boxed()
        ),
        // Names may have several words; they come back joined by one space.
        with(
            "account",
            vec(word(), 1..4)
                .prop_map(|name| (Command::Account(name.join(" ")), name))
                .boxed()
        ),
        with(
            "domain",
            prop_oneof![dns_name(), word()]
                .prop_map(|name| (Command::Domain(name.clone()), vec![name]))
                .boxed()
        ),
        with(
            "code",
            code_spelling()
                .prop_map(|(code, text)| (Command::Code(code), vec![text]))
                .boxed()
        ),
        with(
            "show",
            target()
                .prop_map(|id| (Command::Show(id.clone()), vec![id]))
                .boxed()
        ),
        alone("snoozed", Command::Snoozed),
        with(
            "unsnooze",
            target()
                .prop_map(|id| (Command::Unsnooze(id.clone()), vec![id]))
                .boxed()
        ),
        with(
            "resend",
            target()
                .prop_map(|id| (Command::Resend(id.clone()), vec![id]))
                .boxed()
        ),
        with(
            "snooze",
            (target(), until(), reason())
                .prop_map(|(target, (until, until_text), (reason, words))| {
                    let mut typed = vec![target.clone(), until_text];
                    typed.extend(words);
                    (
                        Command::Snooze {
                            target,
                            until,
                            reason,
                        },
                        typed,
                    )
                })
                .boxed()
        ),
        with(
            "ack",
            (target(), reason())
                .prop_map(|(target, (reason, words))| {
                    let mut typed = vec![target.clone()];
                    typed.extend(words);
                    (Command::Ack { target, reason }, typed)
                })
                .boxed()
        ),
    ]
}

/// A certificate as people name it: ARN, id, or any word.
fn target() -> impl Strategy<Value = String> {
    prop_oneof![certificate_arn(), certificate_id(), word()]
}

/// How long a snooze lasts, and how it is typed: `7d`, `2w` (either case, leading zeros) or
/// a date.
fn until() -> impl Strategy<Value = (Until, String)> {
    let unit =
        |lower: &'static str| prop_oneof![Just(lower.to_owned()), Just(lower.to_ascii_uppercase())];
    prop_oneof![
        (1..=MAX_SNOOZE_DAYS, 0..3usize, unit("d")).prop_map(|(days, zeros, d)| {
            (Until::Days(days), format!("{}{days}{d}", "0".repeat(zeros)))
        }),
        (1..=MAX_SNOOZE_DAYS / 7, unit("w"))
            .prop_map(|(weeks, w)| { (Until::Days(weeks * 7), format!("{weeks}{w}")) }),
        (0..200_000i64).prop_filter_map("a date", |days| {
            let date = NaiveDate::from_ymd_opt(1970, 1, 1)?
                .checked_add_signed(chrono::Duration::days(days))?;
            Some((Until::Date(date), date.format("%Y-%m-%d").to_string()))
        }),
    ]
}

/// A reason of one or two words: what is stored (the words joined by one space) and the words.
fn reason() -> impl Strategy<Value = (String, Vec<String>)> {
    vec(word(), 1..3).prop_map(|words| (words.join(" "), words))
}

/// What Slack does to `&`, `<` and `>` in slash command text.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// How Slack may send a domain name when the app asks it to escape links.
fn as_link(name: &str, style: u8) -> String {
    match style % 4 {
        0 => slack_escape(name),
        1 => format!("<http://{name}|{name}>"),
        2 => format!("<http://{name}>"),
        _ => format!("<https://{name}>"),
    }
}

/// A documented request and a text Slack could send for it: words separated by random
/// whitespace, letters in random case, a leading `all` and a trailing `public` in random case,
/// markup escaped and domain names sometimes as links.
fn typed_request() -> impl Strategy<Value = (Request, String)> {
    (
        typed_command(),
        any::<bool>(),
        any_case("public"),
        vec(space(), 8),
        prop::option::of(space()),
        prop::option::of(space()),
        any::<u8>(),
        any::<bool>(),
        any_case("all"),
    )
        .prop_filter(
            "without the flag, a last word `public` is the flag (unless it is the argument)",
            |((command, words), public, ..)| {
                let last_is_public = words
                    .last()
                    .is_some_and(|w| w.eq_ignore_ascii_case("public"));
                // The argument (or a one-word reason) cannot be left empty for the flag.
                let is_the_argument = match command {
                    Command::Account(_)
                    | Command::Domain(_)
                    | Command::Show(_)
                    | Command::Unsnooze(_)
                    | Command::Resend(_) => words.len() == 2,
                    Command::Ack { .. } => words.len() == 3,
                    Command::Snooze { .. } => words.len() == 4,
                    _ => false,
                };
                *public || !last_is_public || is_the_argument
            },
        )
        .prop_map(
            |((command, mut words), public, flag, spaces, leading, trailing, link, all, every)| {
                if public {
                    words.push(flag);
                }
                // The command's own words start after `all`.
                let first = usize::from(all);
                if all {
                    words.insert(0, every);
                }
                let mut text = leading.unwrap_or_default().to_owned();
                for (i, word) in words.iter().enumerate() {
                    if i > 0 {
                        text.push_str(spaces[i % spaces.len()]);
                    }
                    let is_dns_name = word
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"*.-".contains(&b));
                    if i == first + 1 && matches!(command, Command::Domain(_)) && is_dns_name {
                        text.push_str(&as_link(word, link));
                    } else {
                        text.push_str(&slack_escape(word));
                    }
                }
                text.push_str(trailing.unwrap_or_default());
                (
                    Request {
                        command,
                        public,
                        all,
                    },
                    text,
                )
            },
        )
}

/// Text made of the command vocabulary, markup and odd characters, with or without spaces.
fn vocabulary_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        select(SUBCOMMANDS).prop_flat_map(|s| any_case(s.name)),
        any_case("public"),
        select(Code::ALL).prop_map(|c| c.as_str().to_owned()),
        select(TOKENS).prop_map(str::to_owned),
        word(),
        any::<u64>().prop_map(|n| n.to_string()),
        certificate_id(),
        certificate_arn(),
    ];
    vec((token, prop_oneof![Just(""), space()]), 0..8)
        .prop_map(|parts| parts.into_iter().map(|(t, s)| t + s).collect())
}

/// No inventory at all: what the bot answers before the first scan.
fn empty_report() -> Report {
    Report {
        generated_at: now(),
        certificates: Vec::new(),
        failures: Vec::new(),
        accounts: Vec::new(),
        stats: Stats::default(),
    }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
}

/// `text` cut for a failure message.
fn shown(text: &str) -> String {
    let mut shown: String = text.chars().take(80).collect();
    if shown.len() < text.len() {
        shown.push_str(&format!("… ({} bytes)", text.len()));
    }
    shown
}

/// Parses `text` and answers it (from an empty inventory): the answer, or the error's, must
/// fit Slack's limits, and a suggested command must at least name a real subcommand.
fn parses_or_explains(text: &str) -> Result<(), TestCaseError> {
    let reply = match parse(text) {
        Ok(request) => {
            let inventory = Inventory {
                report: empty_report().into(),
                stale: BTreeMap::new(),
                last_scan: None,
                decisions: Default::default(),
            };
            reply(&request, &inventory.into(), false, now())
        }
        Err(error) => {
            prop_assert!(!error.to_string().is_empty());
            if let ParseError::UnknownSubcommand {
                suggestion: Some(suggestion),
                ..
            } = &error
            {
                let rest = suggestion
                    .strip_prefix(SLASH)
                    .and_then(|s| s.strip_prefix(' '));
                prop_assert!(rest.is_some(), "suggestion {}", shown(suggestion));
                let again = parse(rest.unwrap_or_default());
                prop_assert!(
                    !matches!(again, Err(ParseError::UnknownSubcommand { .. })),
                    "{} suggests {}, which gives {:?}",
                    shown(text),
                    shown(suggestion),
                    again
                );
            }
            parse_error(&error)
        }
    };
    let limits = check_limits(&reply.blocks);
    prop_assert!(limits.is_ok(), "{:?} for {}", limits, shown(text));
    Ok(())
}

proptest! {
    #[test]
    fn any_text_parses_or_explains(text in any::<String>()) {
        parses_or_explains(&text)?;
    }

    #[test]
    fn vocabulary_text_parses_or_explains(text in vocabulary_text()) {
        parses_or_explains(&text)?;
    }

    /// Long arguments: the error quotes them, and its reply must still fit Slack's limits.
    #[test]
    fn long_text_parses_or_explains(
        prefix in select(&["", "expiring ", "code ", "domain a ", "scan ", "account ", "domain ", "show "][..]),
        filler in select(&["a", "&", "<", "\u{0}", "\u{1f512}", "\u{e9}", "`", "*"][..]),
        count in 2000..6000usize,
    ) {
        parses_or_explains(&format!("{prefix}{}", filler.repeat(count)))?;
    }

    #[test]
    fn documented_commands_round_trip((request, text) in typed_request()) {
        prop_assert_eq!(parse(&text), Ok(request), "text {:?}", text);
    }
}

// ------------------------------------------------------------------------------------------
// Request signature

/// A timestamp header: anything, digits (some too long for i64), or a number with noise.
fn timestamp_header() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{0,25}",
        "[ \t]{0,2}[+-]?[0-9]{1,20}[ \t]{0,2}",
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
    ]
}

/// A signature header: anything, or something shaped like `v0=` and 64 hex digits.
fn signature_header() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "v0=[0-9a-fA-F]{60,68}",
        "v[0-9]=[0-9a-f]{64}",
        "v0=\\PC{0,70}",
        " *v0=[0-9a-f]{64} *",
    ]
}

fn now_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        0..2_000_000_000i64,
    ]
}

/// A Unix time a request can carry, the current time, and how far apart they are (within the
/// window).
fn fresh_times() -> impl Strategy<Value = (i64, i64)> {
    let window = MAX_SKEW_SECONDS as i64;
    (window..(1i64 << 40), -window..=window).prop_map(|(now, skew)| (now + skew, now))
}

/// The timestamp as the header may carry it: leading zeros parse to the same time.
fn timestamp_text(sent: i64, zeros: usize) -> String {
    format!("{}{sent}", "0".repeat(zeros))
}

proptest! {
    #[test]
    fn any_headers_verify_or_fail(
        secret in vec(any::<u8>(), 0..80),
        timestamp in timestamp_header(),
        body in vec(any::<u8>(), 0..256),
        signature in signature_header(),
        now in now_value(),
    ) {
        let _ = sign(&secret, &timestamp, &body);
        let _ = verify(&secret, &timestamp, &body, &signature, now);
    }

    #[test]
    fn a_correct_signature_verifies_within_the_window(
        secret in vec(any::<u8>(), 1..100),
        body in vec(any::<u8>(), 0..256),
        (sent, now) in fresh_times(),
        zeros in 0..3usize,
        uppercase in any::<bool>(),
        padding in select(&["", " ", "\t "][..]),
    ) {
        let timestamp = timestamp_text(sent, zeros);
        let mut signature = sign(&secret, &timestamp, &body);
        if uppercase {
            signature = format!("v0={}", signature[3..].to_ascii_uppercase());
        }
        // HTTP drops whitespace around header values; verify tolerates it anyway.
        let padded = |s: &str| format!("{padding}{s}{padding}");
        prop_assert_eq!(
            verify(&secret, &padded(&timestamp), &body, &padded(&signature), now),
            Ok(())
        );
    }

    #[test]
    fn a_stale_timestamp_fails(
        secret in vec(any::<u8>(), 1..40),
        body in vec(any::<u8>(), 0..64),
        // Every skew fits before `now`, so no case is rejected.
        now in (1i64 << 39)..(1i64 << 40),
        skew in (MAX_SKEW_SECONDS + 1)..(1u64 << 39),
        future in any::<bool>(),
    ) {
        let sent = if future { now + skew as i64 } else { now - skew as i64 };
        let timestamp = sent.to_string();
        let signature = sign(&secret, &timestamp, &body);
        prop_assert_eq!(
            verify(&secret, &timestamp, &body, &signature, now),
            Err(VerifyError::StaleTimestamp { skew_seconds: skew })
        );
    }

    #[test]
    fn any_change_to_the_body_fails(
        secret in vec(any::<u8>(), 1..100),
        body in vec(any::<u8>(), 1..256),
        (sent, now) in fresh_times(),
        at in any::<Index>(),
        delta in 1..=255u8,
        edit in 0..3u8,
    ) {
        let timestamp = sent.to_string();
        let signature = sign(&secret, &timestamp, &body);
        let mut changed = body.clone();
        let i = at.index(body.len());
        match edit {
            0 => changed[i] = changed[i].wrapping_add(delta),
            1 => changed.insert(i, delta),
            _ => {
                changed.remove(i);
            }
        }
        prop_assert_eq!(
            verify(&secret, &timestamp, &changed, &signature, now),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn another_secret_or_timestamp_fails(
        secret in vec(any::<u8>(), 1..64),
        other_secret in vec(any::<u8>(), 1..64),
        body in vec(any::<u8>(), 0..128),
        (sent, now) in fresh_times(),
        shift in 1..=MAX_SKEW_SECONDS as i64,
    ) {
        let timestamp = sent.to_string();
        let signature = sign(&secret, &timestamp, &body);
        if other_secret != secret {
            prop_assert_eq!(
                verify(&other_secret, &timestamp, &body, &signature, now),
                Err(VerifyError::BadSignature)
            );
        }
        // The same signature replayed under another fresh timestamp.
        let replayed = if sent - shift >= now - MAX_SKEW_SECONDS as i64 {
            sent - shift
        } else {
            sent + shift
        };
        prop_assert_eq!(
            verify(&secret, &replayed.to_string(), &body, &signature, now),
            Err(VerifyError::BadSignature)
        );
    }

    /// Errors end up in logs: they never hold the secret nor the expected signature.
    #[test]
    fn errors_reveal_no_secret(
        secret in "[A-Za-z0-9]{16,40}",
        timestamp in timestamp_header(),
        body in vec(any::<u8>(), 0..128),
        signature in signature_header(),
        now in now_value(),
    ) {
        if let Err(error) = verify(secret.as_bytes(), &timestamp, &body, &signature, now) {
            let text = format!("{error} {error:?}");
            let expected = sign(secret.as_bytes(), timestamp.trim(), &body);
            prop_assert!(!text.contains(&secret), "{}", text);
            prop_assert!(!text.to_ascii_lowercase().contains(&expected[3..]), "{}", text);
        }
    }
}

// ------------------------------------------------------------------------------------------
// Slash command form

/// The form fields the bot reads, by name.
const FIELDS: [&str; 7] = [
    "team_id",
    "channel_id",
    "user_id",
    "command",
    "text",
    "response_url",
    "trigger_id",
];

fn field<'a>(form: &'a mut SlashCommand, name: &str) -> Option<&'a mut String> {
    Some(match name {
        "team_id" => &mut form.team_id,
        "channel_id" => &mut form.channel_id,
        "user_id" => &mut form.user_id,
        "command" => &mut form.command,
        "text" => &mut form.text,
        "response_url" => &mut form.response_url,
        "trigger_id" => &mut form.trigger_id,
        _ => return None,
    })
}

/// `application/x-www-form-urlencoded`, each character written one of the ways a decoder
/// must accept (literally where allowed, `%XX` in either case, a space as `+` or `%20`),
/// chosen by `seed`.
fn encode(text: &str, seed: &mut u64) -> String {
    let mut next = || {
        // xorshift64: a fixed choice per seed, so a failure replays.
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    };
    let mut out = String::new();
    for c in text.chars() {
        let choice = next();
        let literal = !matches!(c, '&' | '+' | '%' | '=' | ' ');
        if c == ' ' && choice & 1 == 0 {
            out.push('+');
        } else if literal && choice & 1 == 0 {
            out.push(c);
        } else {
            let mut bytes = [0; 4];
            for b in c.encode_utf8(&mut bytes).bytes() {
                if choice & 2 == 0 {
                    out.push_str(&format!("%{b:02X}"));
                } else {
                    out.push_str(&format!("%{b:02x}"));
                }
            }
        }
    }
    out
}

/// Bytes shaped like a form: field names, separators, escapes good and bad, invalid UTF-8.
fn form_like_body() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        select(&FIELDS[..]).prop_map(|f| f.as_bytes().to_vec()),
        select(
            &[
                "=", "&", "+", "%", "%2", "%zz", "%%", "%ff", "%C3", "%C3%28", "%E2%82", "%00",
                "%2B", "%26", "%3D", "token", "\u{e9}", "==", "&&",
            ][..]
        )
        .prop_map(|s| s.as_bytes().to_vec()),
        vec(any::<u8>(), 1..4),
        "[a-z0-9]{1,6}".prop_map(String::into_bytes),
    ];
    vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// A slash command, which of its fields are sent, fields the bot ignores, and later repeats
/// of its own fields (the first one counts).
fn form_parts() -> impl Strategy<Value = (SlashCommand, Vec<bool>, Vec<(String, String)>)> {
    let extra_key = prop_oneof![
        select(
            &[
                "token",
                "team_domain",
                "channel_name",
                "user_name",
                "api_app_id",
                "Text",
                "text_",
                "is_enterprise_install"
            ][..]
        )
        .prop_map(str::to_owned),
        any::<String>().prop_filter("not a field the bot reads", |k| !FIELDS
            .contains(&k.as_str())),
    ];
    (
        vec(any::<String>(), 7),
        vec(any::<bool>(), 7),
        vec((extra_key, any::<String>()), 0..4),
    )
        .prop_map(|(values, sent, extra)| {
            let mut form = SlashCommand::default();
            for ((name, value), sent) in FIELDS.iter().zip(values).zip(&sent) {
                if *sent {
                    if let Some(f) = field(&mut form, name) {
                        *f = value;
                    }
                }
            }
            (form, sent, extra)
        })
}

proptest! {
    #[test]
    fn any_bytes_make_a_form(body in vec(any::<u8>(), 0..512)) {
        let _ = parse_form(&body);
    }

    #[test]
    fn form_like_bytes_make_a_form(body in form_like_body()) {
        let _ = parse_form(&body);
    }

    /// Whatever follows a field, its first value counts.
    #[test]
    fn the_first_value_counts(
        name in select(&FIELDS[..]),
        value in any::<String>(),
        rest in prop_oneof![vec(any::<u8>(), 0..128), form_like_body()],
        seed in any::<u64>(),
    ) {
        let mut seed = seed | 1;
        let mut body = format!("{}={}&", encode(name, &mut seed), encode(&value, &mut seed)).into_bytes();
        body.extend(rest);
        let mut form = parse_form(&body);
        prop_assert_eq!(field(&mut form, name).map(|f| f.clone()), Some(value));
    }

    #[test]
    fn an_encoded_form_decodes_to_its_values(
        (form, sent, extra) in form_parts(),
        repeats in vec((select(&FIELDS[..]), any::<String>()), 0..3),
        order in Just((0..11usize).collect::<Vec<_>>()).prop_shuffle(),
        empty_pairs in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut seed = seed | 1;
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut form_copy = form.clone();
        for (name, sent) in FIELDS.iter().zip(&sent) {
            if *sent {
                let value = field(&mut form_copy, name).map(|f| f.clone()).unwrap_or_default();
                pairs.push(((*name).to_owned(), value));
            }
        }
        pairs.extend(extra);
        // Shuffle the fields and the ignored keys among themselves; repeats come last.
        let mut shuffled: Vec<(String, String)> = order
            .iter()
            .filter(|&&i| i < pairs.len())
            .map(|&i| pairs[i].clone())
            .collect();
        shuffled.extend(
            repeats
                .into_iter()
                .filter(|(k, _)| FIELDS.iter().zip(&sent).any(|(f, s)| f == k && *s))
                .map(|(k, v)| (k.to_owned(), v)),
        );
        let separator = if empty_pairs { "&&" } else { "&" };
        let body = shuffled
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k, &mut seed), encode(v, &mut seed)))
            .collect::<Vec<_>>()
            .join(separator);
        prop_assert_eq!(parse_form(body.as_bytes()), form, "body {:?}", body);
    }
}

// ------------------------------------------------------------------------------------------
// Interaction payloads

/// Strings a payload is made of: its types, our ids, Slack's keys, and metadata-like JSON.
const PAYLOAD_WORDS: &[&str] = &[
    "block_actions",
    "view_submission",
    "view_closed",
    "shortcut",
    "message",
    "button",
    ACTION_SNOOZE_7D,
    ACTION_ACK,
    ACTION_DETAILS,
    MODAL_CALLBACK_ID,
    REASON_BLOCK_ID,
    REASON_ACTION_ID,
    "{\"action\":\"snooze_7d\",\"arn\":\"a\",\"channel\":\"C\",\"ts\":\"1\"}",
    "{\"action\":\"ack\"}",
    "{",
    "",
];

/// The keys of a payload, and others.
const PAYLOAD_KEYS: &[&str] = &[
    "type",
    "team",
    "user",
    "id",
    "team_id",
    "container",
    "channel",
    "channel_id",
    "message_ts",
    "ts",
    "message",
    "blocks",
    "trigger_id",
    "response_url",
    "actions",
    "action_id",
    "value",
    "view",
    "callback_id",
    "private_metadata",
    "state",
    "values",
    REASON_BLOCK_ID,
    REASON_ACTION_ID,
    "elements",
];

/// Any JSON, nested, with a payload's keys and strings in it often.
fn json_value() -> impl Strategy<Value = Value> {
    json_tree(true)
}

/// JSON that survives a round trip through its text exactly: no floats (serde_json may read
/// back a float's last digit differently).
fn exact_json_value() -> impl Strategy<Value = Value> {
    json_tree(false)
}

fn json_tree(floats: bool) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(move |f| match serde_json::Number::from_f64(f) {
            Some(n) if floats => Value::Number(n),
            _ => Value::Null,
        }),
        any::<String>().prop_map(Value::from),
        select(PAYLOAD_WORDS).prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        let key = prop_oneof![
            select(PAYLOAD_KEYS).prop_map(str::to_owned),
            any::<String>()
        ];
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((key, inner), 0..8).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// A non-empty string of any characters, control characters included.
fn field_value() -> impl Strategy<Value = String> {
    vec(any::<char>(), 1..60).prop_map(String::from_iter)
}

/// A `block_actions` payload for a click on one of our buttons, as Slack builds it.
fn click_payload(button: &Button) -> Value {
    let mut payload = json!({
        "type": "block_actions",
        "team": {"id": button.team_id, "domain": "example"},
        "user": {"id": button.user_id, "username": "someone", "team_id": button.team_id},
        "api_app_id": "A1",
        "container": {"type": "message", "message_ts": button.message_ts, "channel_id": button.channel_id, "is_ephemeral": false},
        "trigger_id": button.trigger_id,
        "channel": {"id": button.channel_id, "name": "certs"},
        "message": button.message,
        "actions": [{"action_id": button.action.action_id(), "block_id": "b", "value": button.arn, "type": "button", "action_ts": "1.2"}],
    });
    if let Some(url) = &button.response_url {
        payload["response_url"] = Value::from(url.as_str());
    }
    payload
}

fn button() -> impl Strategy<Value = Button> {
    (
        select(&ButtonAction::ALL[..]),
        vec(field_value(), 6),
        prop::option::of(field_value()),
        prop::option::of(
            exact_json_value()
                .prop_map(|blocks| json!({"ts": "1.2", "text": "t", "blocks": blocks})),
        ),
    )
        .prop_map(|(action, fields, response_url, message)| Button {
            action,
            arn: fields[0].clone(),
            user_id: fields[1].clone(),
            team_id: fields[2].clone(),
            channel_id: fields[3].clone(),
            message_ts: fields[4].clone(),
            trigger_id: fields[5].clone(),
            response_url,
            message,
        })
}

/// The body of an HTTP interactivity request: `payload=<JSON>`, form-encoded.
fn form_body(payload: &Value) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
        .into_bytes()
}

proptest! {
    #[test]
    fn any_bytes_parse_or_fail(body in vec(any::<u8>(), 0..512)) {
        let _ = parse_payload(&body);
        let _ = parse_form_payload(&body);
    }

    #[test]
    fn any_json_parses_or_fails(
        value in json_value(),
        kind in select(&["block_actions", "view_submission", "other"][..]),
        arn in prop_oneof![select(PAYLOAD_WORDS).prop_map(str::to_owned), any::<String>()],
    ) {
        let _ = parse_value(&value);
        let _ = parse_payload(value.to_string().as_bytes());
        let _ = parse_form_payload(&form_body(&value));
        let marked = mark_decided(&value, &arn, "*Snoozed* by <@U1>");
        if !value.to_string().contains("\"actions\"") {
            prop_assert_eq!(marked, value.clone());
        }
        // With the type of a payload we read, to reach past the first check.
        if let Value::Object(mut map) = value {
            map.insert("type".to_owned(), Value::from(kind));
            let _ = parse_value(&Value::Object(map));
        }
    }

    /// A click built from any field values parses back to the same click, as JSON (Socket
    /// Mode) and as a form field (HTTP).
    #[test]
    fn a_click_parses_back(button in button(), as_form in any::<bool>()) {
        let payload = click_payload(&button);
        let parsed = if as_form {
            parse_form_payload(&form_body(&payload))
        } else {
            parse_payload(payload.to_string().as_bytes())
        };
        prop_assert_eq!(parsed, Ok(Interaction::Button(button)));
    }

    /// A submission of the modal built for any certificate and message parses back to what the
    /// modal was opened for, with the reason typed (trimmed).
    #[test]
    fn a_submission_parses_back(
        action in select(&[ModalAction::Snooze7d, ModalAction::Acknowledge][..]),
        fields in vec(field_value(), 6),
        padding in select(&["", " ", "\n", " \t"][..]),
        as_form in any::<bool>(),
    ) {
        let (arn, domain, channel, ts, user, team) =
            (&fields[0], &fields[1], &fields[2], &fields[3], &fields[4], &fields[5]);
        let mut view = modal(action, arn, domain, channel, ts);
        for key in ["title", "submit", "close"] {
            let text = view[key]["text"].as_str().unwrap_or_default();
            prop_assert!(!text.is_empty() && text.chars().count() <= 24);
        }
        let blocks = view["blocks"].as_array().cloned().unwrap_or_default();
        prop_assert!(check_limits(&blocks).is_ok());
        let reason = format!("{padding}{}{padding}", fields[1]);
        view["id"] = Value::from("V1");
        view["state"] = json!({"values": {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": reason}}}});
        let payload = json!({"type": "view_submission", "team": {"id": team}, "user": {"id": user, "team_id": team}, "view": view});
        let parsed = if as_form {
            parse_form_payload(&form_body(&payload))
        } else {
            parse_value(&payload)
        };
        prop_assert_eq!(
            parsed,
            Ok(Interaction::Submit(Submit {
                action,
                arn: arn.clone(),
                reason: reason.trim().to_owned(),
                user_id: user.clone(),
                team_id: team.clone(),
                channel_id: channel.clone(),
                message_ts: ts.clone(),
            }))
        );
    }
}
