//! The bot's decisions, apart from any transport: whether a slash command is answered at all
//! (workspace, channel), who may start a scan, what every other command gets, and what the bot
//! says when a scan ends or something fails on its side.
//!
//! The runtime hands in a command and the inventory it holds and carries out the [`Answer`];
//! a refusal never says more than that the command is not answered there, and an internal error
//! reaches Slack only as an apology with an id that the log line carrying the detail repeats.

use crate::command::{parse, Command};
use crate::render::{self, Reply};
use certwatch_core::{Inventory, Stats};
use chrono::{DateTime, Utc};

/// Where and by whom commands are answered (the `[slack]` config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// The workspace whose commands are answered; `None`: any (a single-workspace app).
    pub team_id: Option<String>,
    /// Channels where commands are answered; empty: every channel.
    pub channel_ids: Vec<String>,
    /// Users who may start a scan.
    pub admin_user_ids: Vec<String>,
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
}

/// Why a command was not answered (for the log; the user sees only [`Refusal::reply`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    OtherWorkspace,
    OtherChannel,
    NotAdmin,
}

impl Refusal {
    pub fn reply(self) -> Reply {
        match self {
            Refusal::OtherWorkspace => Reply::note("certwatch is not enabled for this workspace."),
            // Which channels it does answer in is not for everyone in the workspace to learn.
            Refusal::OtherChannel => Reply::note("certwatch does not answer in this channel."),
            Refusal::NotAdmin => render::scan_denied(),
        }
    }
}

/// Whether `cmd` may be answered where it was sent.
pub fn gate(access: &Access, cmd: &Incoming) -> Result<(), Refusal> {
    if access
        .team_id
        .as_ref()
        .is_some_and(|team| *team != cmd.team_id)
    {
        return Err(Refusal::OtherWorkspace);
    }
    if !access.channel_ids.is_empty() && !access.channel_ids.contains(&cmd.channel_id) {
        return Err(Refusal::OtherChannel);
    }
    Ok(())
}

/// The answer to `cmd` from `inventory` at `now`, `scan_running` saying whether a scan is under
/// way. Reads nothing else.
pub fn answer(
    access: &Access,
    cmd: &Incoming,
    inventory: &Inventory,
    scan_running: bool,
    now: DateTime<Utc>,
) -> Result<Answer, Refusal> {
    gate(access, cmd)?;
    let request = match parse(&cmd.text) {
        Ok(request) => request,
        Err(e) => return Ok(Answer::Reply(render::parse_error(&e))),
    };
    if request.command == Command::Scan {
        if !access.admin_user_ids.contains(&cmd.user_id) {
            return Err(Refusal::NotAdmin);
        }
        return Ok(Answer::Scan);
    }
    Ok(Answer::Reply(render::reply(
        &request,
        inventory,
        scan_running,
        now,
    )))
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
mod tests {
    use super::*;
    use crate::render::ResponseType;

    fn access() -> Access {
        Access {
            team_id: Some("T1".to_owned()),
            channel_ids: vec!["C1".to_owned(), "C2".to_owned()],
            admin_user_ids: vec!["UADMIN".to_owned()],
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
            &Inventory::empty(),
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
        ] {
            assert_eq!(refusal.reply().response_type, ResponseType::Ephemeral);
        }
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
