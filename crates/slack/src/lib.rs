//! certwatch-slack: the pure half of the Slack bot. It turns `/certs …` text into a [`Request`],
//! a request and the stored inventory (core's `Inventory`, and whether a scan is running) into a
//! Block Kit [`Reply`], the inventory into the daily [`Digest`], and checks that an HTTP request
//! really comes from Slack ([`verify`]).
//!
//! Architecture invariant: this crate does no I/O, has no async, never reads the clock (`now` is
//! a parameter) and names no slack-morphism type: what it produces is Slack's own JSON
//! (`serde_json::Value` blocks), which the transport converts or posts as it is. Every message it
//! builds stays within Slack's Block Kit limits ([`check_limits`]).

mod blocks;
pub mod bot;
pub mod command;
pub mod digest;
mod inventory;
mod mrkdwn;
pub mod render;
pub mod schedule;
pub mod verify;

#[cfg(test)]
mod fixtures;

pub use blocks::{blocks_to_text, check_limits, LimitError};
pub use bot::{Access, Answer, Incoming, Refusal};
pub use command::{parse, Command, ParseError, Request};
pub use digest::{digest, Digest, DigestOptions, Message};
pub use render::{
    parse_error, reply, scan_already_running, scan_denied, scan_started, Reply, ResponseType,
};
pub use verify::{parse_form, sign, verify, SlashCommand, VerifyError};
