//! A message set too big for one Slack message: a parent (its head, the first items, a
//! "continued in the thread" note, its tail) plus as many threaded replies as the rest needs,
//! each within Block Kit's limits. The digest and the alerts are both built this way.
//!
//! Items are kept whole (a certificate's line and its buttons never straddle two messages) and
//! in order; a group's heading is repeated, "continued", at the top of each reply it spills into.
//! Every item appears exactly once: nothing is dropped to fit.

use crate::blocks::{self, Page};
use crate::digest::{Digest, Message};
use crate::mrkdwn::plural;
use serde_json::Value;

/// Room for a note (continuation, shortened, part label).
const NOTE_BYTES: usize = 400;

/// One item: blocks that stay together, how many things (certificates, changes) they show, and
/// whether a text in them was cut to fit.
pub(crate) struct Item {
    pub blocks: Vec<Value>,
    pub count: usize,
    pub shortened: bool,
}

/// How a message set names itself and what it counts.
pub(crate) struct Names {
    /// "ACM certificates digest": the replies are "… , part 2 of 5".
    pub label: &'static str,
    /// What an item counts, singular and plural: "certificate", "certificates".
    pub one: &'static str,
    pub many: &'static str,
    /// Said in each message holding a shortened item.
    pub shortened_note: &'static str,
}

/// One message being filled.
struct Part {
    page: Page,
    count: usize,
    shortened: bool,
}

impl Part {
    fn new(page: Page) -> Self {
        Part {
            page,
            count: 0,
            shortened: false,
        }
    }
}

/// A message set being filled.
pub(crate) struct Thread {
    first: Part,
    rest: Vec<Part>,
    /// Blocks and bytes the parent keeps free: the continuation and shortened notes, the tail.
    parent_reserve: (usize, usize),
}

/// What a reply keeps free: its part label and shortened note.
const REPLY_RESERVE: (usize, usize) = (2, 2 * NOTE_BYTES);

impl Thread {
    /// A message set whose parent starts with `head` and will end with `tail`.
    pub fn new(head: Page, tail: &[Value]) -> Thread {
        Thread {
            first: Part::new(head),
            rest: Vec::new(),
            parent_reserve: (tail.len() + 2, blocks::size(tail) + 2 * NOTE_BYTES),
        }
    }

    /// Adds a group: `heading(continued)` and then its items, in order.
    pub fn group(&mut self, heading: impl Fn(bool) -> Value, items: Vec<Item>) {
        let mut needs_heading = true;
        let mut continued = false;
        for item in items {
            loop {
                let (part, (reserve_blocks, reserve_bytes)) = match self.rest.last_mut() {
                    Some(part) => (part, REPLY_RESERVE),
                    None => (&mut self.first, self.parent_reserve),
                };
                let mut extra = Vec::new();
                if needs_heading {
                    extra.push(heading(continued));
                }
                extra.extend(item.blocks.iter().cloned());
                // An empty reply takes the item whatever it costs, or this would never end; an
                // item is a few blocks, far below a message's budget.
                if part.page.fits(&extra, reserve_blocks, reserve_bytes) || part.page.is_empty() {
                    for block in extra {
                        part.page.push(block);
                    }
                    part.count += item.count;
                    part.shortened |= item.shortened;
                    needs_heading = false;
                    break;
                }
                self.rest.push(Part::new(Page::new()));
                needs_heading = true;
                continued = true;
            }
        }
    }

    /// The finished message set: the parent (`title` is its fallback text) and the replies.
    pub fn finish(self, title: String, names: &Names, tail: Vec<Value>) -> Digest {
        let total = self.rest.len() + 1;
        let shortened = self.first.shortened || self.rest.iter().any(|p| p.shortened);
        let mut parent = self.first.page.blocks;
        if !self.rest.is_empty() {
            let more: usize = self.rest.iter().map(|p| p.count).sum();
            parent.push(blocks::section(&format!(
                "*Continued in the thread:* {} in {}.",
                plural(
                    more,
                    &format!("more {}", names.one),
                    &format!("more {}", names.many)
                ),
                plural(self.rest.len(), "reply", "replies")
            )));
        }
        if self.first.shortened {
            parent.push(blocks::context(&[names.shortened_note.to_owned()]));
        }
        parent.extend(tail);
        let replies = self
            .rest
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let label = format!("{}, part {} of {total}", names.label, i + 2);
                let mut blocks = vec![blocks::context(std::slice::from_ref(&label))];
                blocks.extend(part.page.blocks);
                if part.shortened {
                    blocks.push(blocks::context(&[names.shortened_note.to_owned()]));
                }
                Message {
                    text: label,
                    blocks,
                }
            })
            .collect();
        Digest {
            parent: Message {
                text: title,
                blocks: parent,
            },
            replies,
            shortened,
        }
    }
}
