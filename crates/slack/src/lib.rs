//! certwatch-slack: the pure half of the Slack bot. It turns `/certs …` text into a [`Request`],
//! a request and the stored inventory (core's `Inventory`, and whether a scan is running) into a
//! Block Kit [`Reply`] or a decision to write ([`Decide`]: snooze, acknowledge, unsnooze), the
//! inventory into the daily [`Digest`], a scan's changes into [`alerts()`], a click or a modal
//! submission ([`interaction`]) into what to do next ([`bot::click`], [`bot::submit`]), and
//! checks that an HTTP request really comes from Slack ([`verify()`]).
//!
//! Architecture invariant: this crate does no I/O, has no async, never reads the clock (`now` is
//! a parameter) and names no slack-morphism type: what it produces is Slack's own JSON
//! (`serde_json::Value` blocks), which the transport converts or posts as it is. Every message it
//! builds stays within Slack's Block Kit limits ([`check_limits`]).

pub mod alerts;
mod blocks;
pub mod bot;
pub mod command;
pub mod decide;
pub mod digest;
mod index;
pub mod interaction;
pub mod interactive;
mod inventory;
mod mrkdwn;
pub mod render;
pub mod resend;
pub mod routes;
pub mod schedule;
mod thread;
pub mod verify;

#[cfg(test)]
mod fixtures;

pub use alerts::{alerts, AlertOptions};
pub use blocks::{blocks_to_text, check_limits, LimitError};
pub use bot::{Access, Answer, Click, Incoming, Refusal};
pub use command::{parse, Command, ParseError, Request, Until};
pub use decide::Decide;
pub use digest::{digest, Digest, DigestOptions, Message};
pub use index::Prepared;
pub use interaction::{
    parse_form_payload, parse_payload, parse_value, Button, Interaction, InteractionError, Submit,
};
pub use interactive::{mark_decided, modal, modal_error, ButtonAction, ModalAction};
pub use render::{
    decided, decision_note, parse_error, reply, scan_already_running, scan_denied, scan_started,
    show_with_history, Reply, ResponseType,
};
pub use verify::{parse_form, sign, verify, SlashCommand, VerifyError};
