//! `/certs …`: the text after the slash command, parsed into a [`Request`].
//!
//! Grammar: `[all] [SUBCOMMAND [ARGUMENT…]] [public]`. Subcommands are case-insensitive. A
//! leading `all` answers about the whole organization in a channel that routes send only some
//! accounts to (elsewhere it changes nothing). A trailing `public` posts the answer in the
//! channel instead of only to the asker. Mistakes get an error
//! that says what to type instead: the closest subcommand, the argument that is missing, the
//! valid finding codes. [`SUBCOMMANDS`] is the one list that parsing hints and help share.

mod decide;
mod suggest;

pub use decide::{Until, MAX_REASON_CHARS, MAX_SNOOZE_DAYS};

use certwatch_core::Code;
use std::str::FromStr;
use suggest::suggest;

/// The slash command as users type it.
pub const SLASH: &str = "/certs";

/// Days `/certs expiring` looks ahead when no number is given.
pub const DEFAULT_EXPIRING_DAYS: u32 = 30;

/// What a `/certs` command asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/certs` (or `/certs summary`): counts by urgency and code, last scan, failed targets.
    Summary,
    /// `/certs help`.
    Help,
    /// `/certs expiring [DAYS]`: certificates expiring within `days` days, or expired.
    Expiring { days: u32 },
    /// `/certs account ID|NAME`: one account's certificates. Names match case-insensitively.
    Account(String),
    /// `/certs domain NAME`: certificates whose name or SANs cover NAME, wildcard-aware.
    Domain(String),
    /// `/certs code CODE`: certificates with that finding.
    Code(Code),
    /// `/certs show ARN|ID`: everything about one certificate.
    Show(String),
    /// `/certs failures`: what the latest scan could not reach.
    Failures,
    /// `/certs scan`: start a scan now. The transport decides whether the user may.
    Scan,
    /// `/certs snooze ARN|ID 7d|2w|YYYY-MM-DD REASON…`: leave the certificate out of the digest
    /// and the alerts until then (never past its NotAfter, never once it is urgent).
    Snooze {
        target: String,
        until: Until,
        reason: String,
    },
    /// `/certs ack ARN|ID REASON…`: "we own it": out of the digest until its findings change.
    Ack { target: String, reason: String },
    /// `/certs unsnooze ARN|ID`: remove the snooze or acknowledgement in force.
    Unsnooze(String),
    /// `/certs snoozed`: the decisions in force: who, when, until, why.
    Snoozed,
    /// `/certs resend ARN|ID`: ask ACM to send the validation email again for each domain of
    /// the certificate pending email validation (`acm:ResendValidationEmail`).
    Resend(String),
}

/// A parsed command and where its answer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub command: Command,
    /// `true`: answer in the channel (`in_channel`); `false`: only to the asker (`ephemeral`).
    pub public: bool,
    /// A leading `all`: the whole organization, even in a routed channel.
    pub all: bool,
}

/// One subcommand, for hints and help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subcommand {
    pub name: &'static str,
    /// What it takes, e.g. `ID|NAME`; empty when nothing.
    pub argument: &'static str,
    pub example: &'static str,
    pub about: &'static str,
}

/// Every subcommand, in the order help lists them.
pub const SUBCOMMANDS: &[Subcommand] = &[
    Subcommand {
        name: "summary",
        argument: "",
        example: "/certs",
        about: "counts by urgency and by finding code, the last scan, failed targets",
    },
    Subcommand {
        name: "expiring",
        argument: "[DAYS]",
        example: "/certs expiring 14",
        about:
            "certificates that expire within DAYS days (default 30) or have expired, soonest first",
    },
    Subcommand {
        name: "account",
        argument: "ID|NAME",
        example: "/certs account payments-prod",
        about:
            "one account's certificates: those needing action, then those that renew by themselves",
    },
    Subcommand {
        name: "domain",
        argument: "NAME",
        example: "/certs domain api.example.com",
        about: "certificates whose domain or SANs cover NAME (wildcards included)",
    },
    Subcommand {
        name: "code",
        argument: "CODE",
        example: "/certs code IMPORTED",
        about: "certificates with that finding",
    },
    Subcommand {
        name: "show",
        argument: "ARN|ID",
        example: "/certs show 8b979818-ecf4-8eff-4e9e-c049945f037b",
        about: "every field and finding of one certificate",
    },
    Subcommand {
        name: "failures",
        argument: "",
        example: "/certs failures",
        about: "accounts and regions the latest scan could not read",
    },
    Subcommand {
        name: "snooze",
        argument: "ARN|ID 7d|2w|YYYY-MM-DD REASON…",
        example: "/certs snooze 8b979818-ecf4-8eff-4e9e-c049945f037b 2w moving to DNS validation, OPS-123",
        about: "leave a certificate out of the digest and the alerts until then (never past its \
                NotAfter; it comes back once urgent). For responders and admins",
    },
    Subcommand {
        name: "ack",
        argument: "ARN|ID REASON…",
        example: "/certs ack 8b979818-ecf4-8eff-4e9e-c049945f037b the payments team re-imports it",
        about: "acknowledge: \"we own it\", out of the digest until its findings change or it \
                becomes urgent. For responders and admins",
    },
    Subcommand {
        name: "unsnooze",
        argument: "ARN|ID",
        example: "/certs unsnooze 8b979818-ecf4-8eff-4e9e-c049945f037b",
        about: "end a snooze or acknowledgement now. For responders and admins",
    },
    Subcommand {
        name: "snoozed",
        argument: "",
        example: "/certs snoozed",
        about: "the snoozes and acknowledgements: who, when, until, why, and whether each still hides its certificate",
    },
    Subcommand {
        name: "resend",
        argument: "ARN|ID",
        example: "/certs resend 8b979818-ecf4-8eff-4e9e-c049945f037b",
        about: "ask ACM to send the validation email again for a certificate pending email \
                validation (at most once per 12 hours). For responders and admins, when the \
                config allows it",
    },
    Subcommand {
        name: "all",
        argument: "[COMMAND]",
        example: "/certs all expiring 14",
        about: "in a team's channel (where only its accounts are answered about): the whole \
                organization",
    },
    Subcommand {
        name: "scan",
        argument: "",
        example: "/certs scan",
        about: "start a scan now (if you are allowed to)",
    },
    Subcommand {
        name: "help",
        argument: "",
        example: "/certs help",
        about: "this list",
    },
];

fn subcommand(name: &str) -> &'static Subcommand {
    SUBCOMMANDS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or(&SUBCOMMANDS[0])
}

/// Why a `/certs` text could not be parsed. The messages quote what the user typed unescaped:
/// render them with `render::parse_error`, which escapes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown subcommand `{word}`{}", .suggestion.as_ref().map(|s| format!(": did you mean `{s}`?")).unwrap_or_default())]
    UnknownSubcommand {
        word: String,
        /// A whole command to try instead.
        suggestion: Option<String>,
    },
    #[error("`/certs {subcommand}` needs {what}, e.g. `{example}`")]
    MissingArgument {
        subcommand: &'static str,
        what: &'static str,
        example: &'static str,
    },
    #[error("`{text}` is not a number of days, e.g. `/certs expiring 14`")]
    BadNumber { text: String },
    #[error("unknown finding code `{text}`; the codes are {}", code_list())]
    UnknownCode { text: String },
    #[error("`{text}` is not a duration or a date: use {expected}")]
    BadDuration {
        text: String,
        expected: &'static str,
    },
    #[error("a reason of at most {MAX_REASON_CHARS} characters, please (this one has {chars})")]
    ReasonTooLong { chars: usize },
    #[error("`/certs {subcommand}` takes {takes}, not `{extra}`")]
    UnexpectedArgument {
        subcommand: &'static str,
        takes: &'static str,
        extra: String,
    },
}

fn code_list() -> String {
    Code::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses the `text` of a `/certs` slash command.
pub fn parse(text: &str) -> Result<Request, ParseError> {
    let text = normalize(text);
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.split_first() {
        Some((first, rest)) if first.eq_ignore_ascii_case("all") => {
            parse_request(rest).map(|request| Request {
                all: true,
                ..request
            })
        }
        _ => parse_request(&words),
    }
}

/// A request without the leading `all`.
fn parse_request(words: &[&str]) -> Result<Request, ParseError> {
    if let Some((last, rest)) = words.split_last() {
        if last.eq_ignore_ascii_case("public") {
            return match parse_words(rest) {
                Ok(command) => Ok(Request {
                    command,
                    public: true,
                    all: false,
                }),
                // `public` was the argument itself: an account named "public".
                Err(e @ ParseError::MissingArgument { .. }) => parse_words(words)
                    .map(|command| Request {
                        command,
                        public: false,
                        all: false,
                    })
                    .map_err(|_| e),
                Err(e) => Err(e),
            };
        }
    }
    parse_words(words).map(|command| Request {
        command,
        public: false,
        all: false,
    })
}

fn parse_words(words: &[&str]) -> Result<Command, ParseError> {
    let Some((first, args)) = words.split_first() else {
        return Ok(Command::Summary);
    };
    let name = first.to_ascii_lowercase();
    match name.as_str() {
        "summary" => none(args, "summary", Command::Summary),
        // Help ignores what follows: `/certs help code` should still help.
        "help" => Ok(Command::Help),
        "failures" => none(args, "failures", Command::Failures),
        "scan" => none(args, "scan", Command::Scan),
        "snoozed" => none(args, "snoozed", Command::Snoozed),
        "snooze" => decide::snooze(args),
        "ack" => decide::ack(args),
        "unsnooze" => one(args, "unsnooze", "a certificate ARN or id").map(Command::Unsnooze),
        "resend" => one(args, "resend", "a certificate ARN or id").map(Command::Resend),
        "expiring" => match args {
            [] => Ok(Command::Expiring {
                days: DEFAULT_EXPIRING_DAYS,
            }),
            [days] => days
                .parse::<u32>()
                .map(|days| Command::Expiring { days })
                .map_err(|_| ParseError::BadNumber {
                    text: (*days).to_owned(),
                }),
            [_, extra, ..] => Err(ParseError::UnexpectedArgument {
                subcommand: "expiring",
                takes: "at most one number of days",
                extra: (*extra).to_owned(),
            }),
        },
        // Account names may contain spaces.
        "account" if !args.is_empty() => Ok(Command::Account(args.join(" "))),
        "account" => Err(missing("account", "an account id or name")),
        "domain" => one(args, "domain", "a domain name").map(Command::Domain),
        "show" => one(args, "show", "a certificate ARN or id").map(Command::Show),
        "code" => {
            let text = one(args, "code", "a finding code")?;
            Code::from_str(&text)
                .map(Command::Code)
                .map_err(|_| ParseError::UnknownCode { text })
        }
        _ => Err(ParseError::UnknownSubcommand {
            word: (*first).to_owned(),
            suggestion: suggest(first, args),
        }),
    }
}

fn none(args: &[&str], name: &'static str, command: Command) -> Result<Command, ParseError> {
    match args.first() {
        None => Ok(command),
        Some(extra) => Err(ParseError::UnexpectedArgument {
            subcommand: name,
            takes: "no argument",
            extra: (*extra).to_owned(),
        }),
    }
}

fn one(args: &[&str], name: &'static str, what: &'static str) -> Result<String, ParseError> {
    match args {
        [] => Err(missing(name, what)),
        [arg] => Ok((*arg).to_owned()),
        [_, extra, ..] => Err(ParseError::UnexpectedArgument {
            subcommand: name,
            takes: "one argument",
            extra: (*extra).to_owned(),
        }),
    }
}

fn missing(name: &'static str, what: &'static str) -> ParseError {
    ParseError::MissingArgument {
        subcommand: name,
        what,
        example: subcommand(name).example,
    }
}

/// Undoes Slack's encoding of slash command text: `&`, `<`, `>` arrive as entities, and when
/// the app asks Slack to escape links, `api.example.com` arrives as
/// `<http://api.example.com|api.example.com>`. What the user typed is the label.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(len) = rest[open..].find('>') else {
            rest = &rest[open..];
            break;
        };
        let inner = &rest[open + 1..open + len];
        let label = match inner.split_once('|') {
            Some((_, label)) => label,
            None => ["https://", "http://", "mailto:"]
                .iter()
                .find_map(|scheme| inner.strip_prefix(scheme))
                .unwrap_or(inner),
        };
        out.push_str(label);
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command and its `public` flag, or the error's message.
    type Expected = Result<(Command, bool), &'static str>;

    /// Parses `text` and compares the request, or the error's message, with `expected`.
    fn check(text: &str, expected: Expected) {
        let got = parse(text)
            .map(|r| (r.command, r.public))
            .map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "parse({text:?})");
    }

    fn ok(command: Command) -> Expected {
        Ok((command, false))
    }

    fn public(command: Command) -> Expected {
        Ok((command, true))
    }

    #[test]
    fn commands() {
        use Command::*;
        let cases: &[(&str, Expected)] = &[
            ("", ok(Summary)),
            ("   ", ok(Summary)),
            ("summary", ok(Summary)),
            ("help", ok(Help)),
            ("HELP code", ok(Help)),
            ("expiring", ok(Expiring { days: 30 })),
            ("expiring 14", ok(Expiring { days: 14 })),
            ("Expiring  0", ok(Expiring { days: 0 })),
            ("account 123456789012", ok(Account("123456789012".into()))),
            ("account Payments-Prod", ok(Account("Payments-Prod".into()))),
            ("account Data Lake", ok(Account("Data Lake".into()))),
            ("domain api.example.com", ok(Domain("api.example.com".into()))),
            ("domain *.example.org", ok(Domain("*.example.org".into()))),
            ("code IMPORTED", ok(Code(certwatch_core::Code::Imported))),
            ("code pending-validation-dns", ok(Code(certwatch_core::Code::PendingValidationDns))),
            ("code not_in_use", ok(Code(certwatch_core::Code::NotInUse))),
            ("show 8b979818-ecf4-8eff-4e9e-c049945f037b", ok(Show("8b979818-ecf4-8eff-4e9e-c049945f037b".into()))),
            (
                "show arn:aws:acm:us-east-1:210987654321:certificate/8b979818-ecf4-8eff-4e9e-c049945f037b",
                ok(Show("arn:aws:acm:us-east-1:210987654321:certificate/8b979818-ecf4-8eff-4e9e-c049945f037b".into())),
            ),
            ("failures", ok(Failures)),
            ("scan", ok(Scan)),
            ("snoozed", ok(Snoozed)),
            ("unsnooze 5eed", ok(Unsnooze("5eed".into()))),
            (
                "snooze 5eed 7d moving to  DNS",
                ok(Snooze { target: "5eed".into(), until: Until::Days(7), reason: "moving to DNS".into() }),
            ),
            (
                "SNOOZE 5eed 2W R&amp;D &lt;owns&gt; it",
                ok(Snooze { target: "5eed".into(), until: Until::Days(14), reason: "R&D <owns> it".into() }),
            ),
            (
                "snooze arn:aws:acm:x 2026-12-13 ticket <https://t.example/OPS-1|OPS-1>",
                ok(Snooze {
                    target: "arn:aws:acm:x".into(),
                    until: Until::Date(chrono::NaiveDate::from_ymd_opt(2026, 12, 13).expect("a date")),
                    reason: "ticket OPS-1".into(),
                }),
            ),
            ("ack 5eed we own it", ok(Ack { target: "5eed".into(), reason: "we own it".into() })),
        ];
        for (text, expected) in cases {
            check(text, expected.clone());
        }
    }

    #[test]
    fn public_flag() {
        use Command::*;
        let cases: &[(&str, Expected)] = &[
            ("public", public(Summary)),
            ("expiring 7 public", public(Expiring { days: 7 })),
            ("expiring PUBLIC", public(Expiring { days: 30 })),
            (
                "code imported public",
                public(Code(certwatch_core::Code::Imported)),
            ),
            (
                "account Data Lake public",
                public(Account("Data Lake".into())),
            ),
            // An account named "public" is an argument, not the flag.
            ("account public", ok(Account("public".into()))),
            ("account public public", public(Account("public".into()))),
            ("domain public", ok(Domain("public".into()))),
            ("show public", ok(Show("public".into()))),
            ("failures public", public(Failures)),
            ("snoozed public", public(Snoozed)),
            (
                "ack 5eed ours public",
                public(Ack {
                    target: "5eed".into(),
                    reason: "ours".into(),
                }),
            ),
            // A one-word reason "public" is the reason.
            (
                "ack 5eed public",
                ok(Ack {
                    target: "5eed".into(),
                    reason: "public".into(),
                }),
            ),
            (
                "snooze 5eed 7d public",
                ok(Snooze {
                    target: "5eed".into(),
                    until: Until::Days(7),
                    reason: "public".into(),
                }),
            ),
            ("unsnooze public", ok(Unsnooze("public".into()))),
        ];
        for (text, expected) in cases {
            check(text, expected.clone());
        }
    }

    #[test]
    fn slack_encoding_is_undone() {
        use Command::*;
        check(
            "domain <http://api.example.com|api.example.com>",
            ok(Domain("api.example.com".into())),
        );
        check(
            "domain <https://api.example.com>",
            ok(Domain("api.example.com".into())),
        );
        check("account R&amp;D", ok(Account("R&D".into())));
        check("account &lt;b&gt;", ok(Account("<b>".into())));
        check(
            "domain <api.example.com",
            ok(Domain("<api.example.com".into())),
        );
    }

    #[test]
    fn errors() {
        let cases: &[(&str, &str)] = &[
            ("expirng 7", "unknown subcommand `expirng`: did you mean `/certs expiring 7`?"),
            ("exp", "unknown subcommand `exp`: did you mean `/certs expiring`?"),
            ("failure", "unknown subcommand `failure`: did you mean `/certs failures`?"),
            ("acount payments", "unknown subcommand `acount`: did you mean `/certs account payments`?"),
            ("IMPORTED", "unknown subcommand `IMPORTED`: did you mean `/certs code IMPORTED`?"),
            ("pending-validation-dns", "unknown subcommand `pending-validation-dns`: did you mean `/certs code PENDING_VALIDATION_DNS`?"),
            ("api.example.com", "unknown subcommand `api.example.com`: did you mean `/certs domain api.example.com`?"),
            ("123456789012", "unknown subcommand `123456789012`: did you mean `/certs account 123456789012`?"),
            ("14", "unknown subcommand `14`: did you mean `/certs expiring 14`?"),
            (
                "8b979818-ecf4-8eff-4e9e-c049945f037b",
                "unknown subcommand `8b979818-ecf4-8eff-4e9e-c049945f037b`: did you mean `/certs show 8b979818-ecf4-8eff-4e9e-c049945f037b`?",
            ),
            ("arn:aws:acm:x", "unknown subcommand `arn:aws:acm:x`: did you mean `/certs show arn:aws:acm:x`?"),
            ("frobnicate", "unknown subcommand `frobnicate`"),
            ("account", "`/certs account` needs an account id or name, e.g. `/certs account payments-prod`"),
            ("domain", "`/certs domain` needs a domain name, e.g. `/certs domain api.example.com`"),
            ("show", "`/certs show` needs a certificate ARN or id, e.g. `/certs show 8b979818-ecf4-8eff-4e9e-c049945f037b`"),
            ("code", "`/certs code` needs a finding code, e.g. `/certs code IMPORTED`"),
            ("expiring soon", "`soon` is not a number of days, e.g. `/certs expiring 14`"),
            ("expiring -3", "`-3` is not a number of days, e.g. `/certs expiring 14`"),
            ("expiring 99999999999", "`99999999999` is not a number of days, e.g. `/certs expiring 14`"),
            ("expiring 7 14", "`/certs expiring` takes at most one number of days, not `14`"),
            ("domain a.example b.example", "`/certs domain` takes one argument, not `b.example`"),
            ("failures now", "`/certs failures` takes no argument, not `now`"),
            ("scan all", "`/certs scan` takes no argument, not `all`"),
            ("snoozed all", "`/certs snoozed` takes no argument, not `all`"),
            ("snoze 5eed 7d x", "unknown subcommand `snoze`: did you mean `/certs snooze 5eed 7d x`?"),
            ("unsnoze 5eed", "unknown subcommand `unsnoze`: did you mean `/certs unsnooze 5eed`?"),
            ("ak 5eed x", "unknown subcommand `ak`: did you mean `/certs ack 5eed x`?"),
            (
                "snooze",
                "`/certs snooze` needs a certificate ARN or id, how long and a reason, e.g. `/certs snooze 8b979818-ecf4-8eff-4e9e-c049945f037b 2w moving to DNS validation, OPS-123`",
            ),
            (
                "snooze 5eed",
                "`/certs snooze` needs how long (`7d`, `2w` or `YYYY-MM-DD`) and a reason, e.g. `/certs snooze 8b979818-ecf4-8eff-4e9e-c049945f037b 2w moving to DNS validation, OPS-123`",
            ),
            (
                "snooze 5eed 7d",
                "`/certs snooze` needs a reason, e.g. `/certs snooze 8b979818-ecf4-8eff-4e9e-c049945f037b 2w moving to DNS validation, OPS-123`",
            ),
            (
                "snooze 5eed soon",
                "`soon` is not a duration or a date: use `7d`, `2w` (at most 365 days) or a date like `2026-12-13`",
            ),
            (
                "snooze 5eed moving to DNS",
                "`moving` is not a duration or a date: use `7d`, `2w` (at most 365 days) or a date like `2026-12-13`",
            ),
            (
                "snooze 5eed 400d too long",
                "`400d` is not a duration or a date: use `7d`, `2w` (at most 365 days) or a date like `2026-12-13`",
            ),
            (
                "snooze 5eed 2026-02-30 no such day",
                "`2026-02-30` is not a duration or a date: use `7d`, `2w` (at most 365 days) or a date like `2026-12-13`",
            ),
            (
                "ack",
                "`/certs ack` needs a certificate ARN or id and a reason, e.g. `/certs ack 8b979818-ecf4-8eff-4e9e-c049945f037b the payments team re-imports it`",
            ),
            (
                "ack 5eed",
                "`/certs ack` needs a reason, e.g. `/certs ack 8b979818-ecf4-8eff-4e9e-c049945f037b the payments team re-imports it`",
            ),
            (
                "unsnooze",
                "`/certs unsnooze` needs a certificate ARN or id, e.g. `/certs unsnooze 8b979818-ecf4-8eff-4e9e-c049945f037b`",
            ),
            ("unsnooze a b", "`/certs unsnooze` takes one argument, not `b`"),
            (
                "code BOGUS",
                "unknown finding code `BOGUS`; the codes are EXPIRED, REVOKED, IMPORTED, RENEWAL_FAILED, CAA_BLOCKED, PRIVATE_CA_ERROR, DOMAIN_BLOCKED, PENDING_VALIDATION_DNS, PENDING_VALIDATION_EMAIL, PENDING_VALIDATION_HTTP, NOT_IN_USE, EMAIL_VALIDATION, RENEWAL_NOT_STARTED, RENEWAL_STALLED, REQUEST_STUCK, VALIDATION_RECORD_MISSING, VALIDATION_RECORD_WRONG, CAA_FORBIDS_AMAZON, NAME_UNRESOLVABLE, ENDPOINT_UNREACHABLE, SERVED_STALE",
            ),
        ];
        for (text, expected) in cases {
            check(text, Err(expected));
        }
        let long = format!("ack 5eed {}", "é".repeat(MAX_REASON_CHARS + 1));
        check(
            &long,
            Err("a reason of at most 500 characters, please (this one has 501)"),
        );
    }
}
