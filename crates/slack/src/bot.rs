//! The bot's decisions, apart from any transport: whether a slash command or a click is answered
//! at all (workspace, channel), who may start a scan, who may snooze, acknowledge or unsnooze,
//! what every other command gets, and what the bot says when a scan ends or something fails on
//! its side.
//!
//! The runtime hands in a command (or an interaction) and the inventory it holds and carries out
//! the [`Answer`] (or [`Click`]); a refusal never says more than that the command is not
//! answered there or who may use it, and an internal error reaches Slack only as an apology with
//! an id that the log line carrying the detail repeats. A refused decision writes nothing: the
//! refusal comes before any [`Decide`] exists.

mod clicks;

pub use clicks::{click, submit, Click};

use crate::command::{parse, Command};
use crate::decide::{self, Ask, Decide, Found, Wanted};
use crate::index::Prepared;
use crate::render::{self, Reply};
use certwatch_core::Stats;
use chrono::{DateTime, Utc};

/// Where and by whom commands are answered (the `[slack]` config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// The workspace whose commands are answered; `None`: any (a single-workspace app).
    pub team_id: Option<String>,
    /// Channels where commands are answered; empty: every channel.
    pub channel_ids: Vec<String>,
    /// Users who may start a scan (and snooze, acknowledge, unsnooze).
    pub admin_user_ids: Vec<String>,
    /// Users who may snooze, acknowledge and unsnooze certificates.
    pub responder_user_ids: Vec<String>,
    /// `slack.actions.resend_validation_email`: responders and admins may ask ACM to resend a
    /// validation email.
    pub resend_validation_email: bool,
}

impl Access {
    /// Whether `user_id` may snooze, acknowledge or unsnooze: a responder or an admin.
    pub fn may_decide(&self, user_id: &str) -> bool {
        self.responder_user_ids.iter().any(|u| u == user_id)
            || self.admin_user_ids.iter().any(|u| u == user_id)
    }
}

/// A slash command, from either transport.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incoming {
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    pub text: String,
    /// Where a delayed reply goes (empty from a transport that has none).
    pub response_url: Option<String>,
}

/// What the runtime does with a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Send this reply.
    Reply(Reply),
    /// An admin asked for a scan: start one (or say one is running) and reply with
    /// [`render::scan_started`] or [`render::scan_already_running`].
    Scan,
    /// A responder decided: append [`Decide::audit_entry`] to the audit trail, put
    /// `decision` in force on `arn` (or remove the one in force when `None`), then reply with
    /// [`render::decided`]. If the store fails, nothing is in force: reply with [`apology`].
    Decide(Box<Decide>),
    /// `/certs show` of a certificate in the inventory: load its history from the store and
    /// reply with [`render::show_with_history`] (or, without a store, an empty history).
    Show { arn: String, public: bool },
    /// A resend that passed the bot's checks: check the 12 hours against the audit trail, ask
    /// ACM, append the audit entry of what it accepted, reply with [`crate::resend::reply`].
    Resend(Box<crate::resend::Resend>),
}

/// Why a command was not answered (for the log; the user sees only [`Refusal::reply`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    OtherWorkspace,
    OtherChannel,
    NotAdmin,
    /// Snooze, acknowledge or unsnooze from someone who is neither a responder nor an admin.
    NotResponder,
    /// A resend while `slack.actions.resend_validation_email` is off.
    ResendOff,
    /// A resend from someone who is neither a responder nor an admin.
    NotResponderToResend,
}

impl Refusal {
    pub fn reply(self) -> Reply {
        match self {
            Refusal::OtherWorkspace => Reply::note("certwatch is not enabled for this workspace."),
            // Which channels it does answer in is not for everyone in the workspace to learn.
            Refusal::OtherChannel => Reply::note("certwatch does not answer in this channel."),
            Refusal::NotAdmin => render::scan_denied(),
            Refusal::NotResponder => render::not_responder(),
            Refusal::ResendOff => Reply::note(
                "Resending validation emails from Slack is turned off in certwatch's config \
                 (`slack.actions.resend_validation_email`): no email was sent. ACM's console \
                 can resend it: Certificate Manager → the certificate → Actions → Resend \
                 validation email.",
            ),
            Refusal::NotResponderToResend => Reply::note(
                "Only certwatch responders (`slack.responder_user_ids`) and admins \
                 (`slack.admin_user_ids`) may resend a validation email: no email was sent.",
            ),
        }
    }
}

/// Whether `cmd` may be answered where it was sent.
pub fn gate(access: &Access, cmd: &Incoming) -> Result<(), Refusal> {
    gate_at(access, &cmd.team_id, &cmd.channel_id)
}

/// Whether anything from workspace `team_id`, channel `channel_id` may be answered.
pub(crate) fn gate_at(access: &Access, team_id: &str, channel_id: &str) -> Result<(), Refusal> {
    if access.team_id.as_ref().is_some_and(|team| team != team_id) {
        return Err(Refusal::OtherWorkspace);
    }
    if !access.channel_ids.is_empty() && !access.channel_ids.iter().any(|c| c == channel_id) {
        return Err(Refusal::OtherChannel);
    }
    Ok(())
}

/// The answer to `cmd` from `inventory` at `now`, `scan_running` saying whether a scan is under
/// way. Reads nothing else.
pub fn answer(
    access: &Access,
    cmd: &Incoming,
    inventory: &Prepared,
    scan_running: bool,
    now: DateTime<Utc>,
) -> Result<Answer, Refusal> {
    gate(access, cmd)?;
    let request = match parse(&cmd.text) {
        Ok(request) => request,
        Err(e) => return Ok(Answer::Reply(render::parse_error(&e))),
    };
    let (target, wanted, reason) = match &request.command {
        Command::Scan => {
            if !access.admin_user_ids.contains(&cmd.user_id) {
                return Err(Refusal::NotAdmin);
            }
            return Ok(Answer::Scan);
        }
        Command::Show(query) => {
            // Found: the runtime adds the history. Not found (or ambiguous): the plain reply
            // says so.
            if let Found::One(record) = decide::find(inventory, query) {
                return Ok(Answer::Show {
                    arn: record.facts.arn.clone(),
                    public: request.public,
                });
            }
            return Ok(Answer::Reply(render::reply(
                &request,
                inventory,
                scan_running,
                now,
            )));
        }
        Command::Snooze {
            target,
            until,
            reason,
        } => (target, Wanted::Snooze(*until), reason.as_str()),
        Command::Ack { target, reason } => (target, Wanted::Acknowledge, reason.as_str()),
        Command::Unsnooze(target) => (target, Wanted::Unsnooze, ""),
        Command::Resend(target) => {
            return Ok(
                match crate::resend::ask(
                    access,
                    inventory,
                    target,
                    &cmd.user_id,
                    &cmd.channel_id,
                    request.public,
                )? {
                    Ok(resend) => Answer::Resend(Box::new(resend)),
                    Err(reply) => Answer::Reply(reply),
                },
            )
        }
        _ => {
            return Ok(Answer::Reply(render::reply(
                &request,
                inventory,
                scan_running,
                now,
            )))
        }
    };
    if !access.may_decide(&cmd.user_id) {
        return Err(Refusal::NotResponder);
    }
    let ask = Ask {
        target,
        wanted,
        reason,
        by: &cmd.user_id,
        channel: &cmd.channel_id,
        public: request.public,
    };
    Ok(match decide::decide(inventory, &ask, now) {
        Ok(decide) => Answer::Decide(Box::new(decide)),
        Err(reply) => Answer::Reply(reply),
    })
}

/// The reply when something failed on certwatch's side: no detail, only an id to find it in
/// the log.
pub fn apology(error_id: &str) -> Reply {
    Reply::note(&format!(
        "Sorry, something went wrong on certwatch's side (error `{error_id}`). The people who run \
         certwatch can find what happened in its log by that id."
    ))
}

/// How a scan ended, for the users who asked for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScanOutcome<'a> {
    Finished(&'a Stats),
    /// The scan or the store failed; the detail is in the log under `error_id`.
    Failed {
        error_id: &'a str,
    },
}

/// What the users who asked for a scan hear when it ends (mrkdwn).
pub fn scan_outcome(outcome: ScanOutcome<'_>) -> String {
    match outcome {
        ScanOutcome::Finished(stats) => format!(
            "Scan finished: {} in {} ({}) in {:.1} s.",
            count(stats.certificates, "certificate"),
            count(stats.accounts, "account"),
            count(stats.targets, "account-region"),
            stats.duration_ms as f64 / 1000.0
        ),
        ScanOutcome::Failed { error_id } => format!(
            "The scan did not finish (error `{error_id}`); the last inventory still answers. \
             The people who run certwatch can find what happened in its log by that id."
        ),
    }
}

fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::render::ResponseType;

    pub(super) fn access() -> Access {
        Access {
            team_id: Some("T1".to_owned()),
            channel_ids: vec!["C1".to_owned(), "C2".to_owned()],
            admin_user_ids: vec!["UADMIN".to_owned()],
            responder_user_ids: vec!["URESP".to_owned()],
            resend_validation_email: true,
        }
    }

    fn cmd(team: &str, channel: &str, user: &str, text: &str) -> Incoming {
        Incoming {
            team_id: team.to_owned(),
            channel_id: channel.to_owned(),
            user_id: user.to_owned(),
            text: text.to_owned(),
            response_url: None,
        }
    }

    fn run(cmd: &Incoming) -> Result<Answer, Refusal> {
        answer(
            &access(),
            cmd,
            &Prepared::from(certwatch_core::Inventory::empty()),
            false,
            DateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn gates_workspace_then_channel_then_admin() {
        assert_eq!(
            run(&cmd("T2", "C1", "UADMIN", "scan")),
            Err(Refusal::OtherWorkspace)
        );
        assert_eq!(
            run(&cmd("T1", "C9", "UADMIN", "scan")),
            Err(Refusal::OtherChannel)
        );
        assert_eq!(
            run(&cmd("T1", "C2", "USOMEONE", "scan")),
            Err(Refusal::NotAdmin)
        );
        assert_eq!(run(&cmd("T1", "C2", "UADMIN", "scan")), Ok(Answer::Scan));
        assert!(matches!(
            run(&cmd("T1", "C1", "USOMEONE", "help")),
            Ok(Answer::Reply(_))
        ));
        // No gate configured: every workspace and channel.
        let open = Access::default();
        assert_eq!(gate(&open, &cmd("T9", "C9", "U9", "")), Ok(()));
    }

    #[test]
    fn refusals_reveal_nothing() {
        let text = serde_json::to_string(&Refusal::OtherChannel.reply()).unwrap();
        assert!(!text.contains("C1") && !text.contains("C2"), "{text}");
        assert!(text.contains("does not answer in this channel"), "{text}");
        for refusal in [
            Refusal::OtherWorkspace,
            Refusal::OtherChannel,
            Refusal::NotAdmin,
            Refusal::NotResponder,
        ] {
            assert_eq!(refusal.reply().response_type, ResponseType::Ephemeral);
        }
    }

    /// The small fixture, asked about by `user` in channel C1.
    fn decide_as(user: &str, text: &str) -> Result<Answer, Refusal> {
        let fixture = crate::fixtures::small();
        answer(
            &access(),
            &cmd("T1", "C1", user, text),
            &fixture.prepared(),
            false,
            fixture.now,
        )
    }

    pub(super) const PAY: &str = "5eed0000-0000-4000-8000-000000000005";

    #[test]
    fn only_responders_and_admins_decide() {
        for text in [
            format!("snooze {PAY} 7d moving to DNS"),
            format!("ack {PAY} ours"),
            format!("unsnooze {PAY}"),
        ] {
            assert_eq!(
                decide_as("USOMEONE", &text),
                Err(Refusal::NotResponder),
                "{text}"
            );
            // The channel gate comes first.
            let fixture = crate::fixtures::small();
            assert_eq!(
                answer(
                    &access(),
                    &cmd("T1", "C9", "URESP", &text),
                    &fixture.prepared(),
                    false,
                    fixture.now
                ),
                Err(Refusal::OtherChannel)
            );
        }
        for user in ["URESP", "UADMIN"] {
            let Ok(Answer::Decide(decide)) = decide_as(user, &format!("snooze {PAY} 7d moving"))
            else {
                panic!("{user} may snooze");
            };
            assert_eq!(decide.by, user);
            assert_eq!(decide.channel, "C1");
        }
        // Anyone may read.
        assert!(matches!(
            decide_as("USOMEONE", "snoozed"),
            Ok(Answer::Reply(_))
        ));
        // A parse error is a reply, whoever asks.
        assert!(matches!(
            decide_as("USOMEONE", &format!("snooze {PAY} soon x")),
            Ok(Answer::Reply(_))
        ));
    }

    #[test]
    fn show_of_a_known_certificate_asks_for_its_history() {
        assert_eq!(
            decide_as("USOMEONE", &format!("show {PAY} public")),
            Ok(Answer::Show {
                arn: format!("arn:aws:acm:us-east-1:222222222222:certificate/{PAY}"),
                public: true
            })
        );
        assert!(matches!(
            decide_as("USOMEONE", "show nothing-like-it"),
            Ok(Answer::Reply(_))
        ));
    }

    #[test]
    fn a_bad_command_gets_the_parse_error() {
        let Ok(Answer::Reply(reply)) = run(&cmd("T1", "C1", "U1", "frobnicate now")) else {
            panic!("a parse error is a reply");
        };
        assert!(reply.text.starts_with("Sorry:"), "{}", reply.text);
    }

    #[test]
    fn outcomes_and_apologies_carry_no_internals() {
        let apology = serde_json::to_string(&apology("e-1234")).unwrap();
        assert!(apology.contains("e-1234"), "{apology}");
        let stats = Stats {
            certificates: 1,
            accounts: 2,
            targets: 34,
            duration_ms: 1500,
            ..Stats::default()
        };
        assert_eq!(
            scan_outcome(ScanOutcome::Finished(&stats)),
            "Scan finished: 1 certificate in 2 accounts (34 account-regions) in 1.5 s."
        );
        let failed = scan_outcome(ScanOutcome::Failed { error_id: "e-9" });
        assert!(
            failed.contains("e-9") && failed.contains("last inventory"),
            "{failed}"
        );
    }
}
