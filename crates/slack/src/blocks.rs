//! Block Kit: the few block types the bot sends, Slack's limits on them, a [`Page`] that fills a
//! message up to those limits, a checker for finished messages ([`check_limits`]) and a plain
//! text rendering for terminals and logs ([`blocks_to_text`]).
//!
//! Slack rejects a whole message (`invalid_blocks`, `msg_blocks_too_long`) when one block breaks
//! a limit, and slack-morphism does not check them, so every builder here enforces its limit
//! itself: a caller can never produce an over-long block, at worst a shortened one.
//!
//! Lengths are budgeted in UTF-8 bytes, which is never less than the characters (or UTF-16
//! units) Slack counts, so a text within budget is within Slack's limit whatever it contains.

use crate::mrkdwn;
use serde_json::{json, Value};

/// Blocks in one message.
pub(crate) const MAX_BLOCKS: usize = 50;
/// Text of a header block (plain text).
pub(crate) const MAX_HEADER: usize = 150;
/// Text of a section block, and of any text object.
pub(crate) const MAX_SECTION: usize = 3000;
/// Fields of a section block, and the length of each.
pub(crate) const MAX_FIELDS: usize = 10;
pub(crate) const MAX_FIELD: usize = 2000;
/// Elements of a context block.
pub(crate) const MAX_CONTEXT_ELEMENTS: usize = 10;
/// Elements of an actions block, a button's text, its value and its action id.
pub(crate) const MAX_ACTIONS: usize = 25;
pub(crate) const MAX_BUTTON_TEXT: usize = 75;
pub(crate) const MAX_BUTTON_VALUE: usize = 2000;
pub(crate) const MAX_ACTION_ID: usize = 255;
/// The serialized blocks of one message. Slack answers `msg_blocks_too_long` once the blocks of
/// a message add up to roughly 13,200 characters, a limit it does not document
/// (slackapi/bolt-js#2509); 12,000 bytes of JSON stays clear of it.
pub(crate) const MAX_MESSAGE_BYTES: usize = 12_000;

/// A header block. Plain text: Slack shows `&`, `<` and `>` as they are, so no escaping.
pub(crate) fn header(text: &str) -> Value {
    let (text, _) = mrkdwn::shorten_plain(text, MAX_HEADER);
    json!({"type": "header", "text": {"type": "plain_text", "text": text, "emoji": false}})
}

/// A section block of mrkdwn `text` (already escaped).
pub(crate) fn section(text: &str) -> Value {
    let (text, _) = mrkdwn::shorten(text, MAX_SECTION);
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

/// A section block of up to ten mrkdwn fields (already escaped); extra fields are dropped.
pub(crate) fn fields(fields: &[String]) -> Value {
    let fields: Vec<Value> = fields
        .iter()
        .take(MAX_FIELDS)
        .map(|f| json!({"type": "mrkdwn", "text": mrkdwn::shorten(f, MAX_FIELD).0}))
        .collect();
    json!({"type": "section", "fields": fields})
}

/// A context block: small grey mrkdwn lines (already escaped).
pub(crate) fn context(elements: &[String]) -> Value {
    let elements: Vec<Value> = elements
        .iter()
        .take(MAX_CONTEXT_ELEMENTS)
        .map(|e| json!({"type": "mrkdwn", "text": mrkdwn::shorten(e, MAX_SECTION).0}))
        .collect();
    json!({"type": "context", "elements": elements})
}

/// What a block adds to the serialized `blocks` array (its JSON plus a comma).
fn cost(block: &Value) -> usize {
    block.to_string().len() + 1
}

/// What `blocks` add to a message's serialized size.
pub(crate) fn size(blocks: &[Value]) -> usize {
    blocks.iter().map(cost).sum()
}

/// The blocks of one message being filled, with what they cost so far.
#[derive(Debug, Default)]
pub(crate) struct Page {
    pub blocks: Vec<Value>,
    bytes: usize,
}

impl Page {
    pub fn new() -> Self {
        Page::default()
    }

    /// Whether `extra` still fits while keeping `reserve_blocks` blocks and `reserve_bytes`
    /// bytes free for what must follow (a footer, a "… and N more" line).
    pub fn fits(&self, extra: &[Value], reserve_blocks: usize, reserve_bytes: usize) -> bool {
        let bytes: usize = extra.iter().map(cost).sum();
        self.blocks.len() + extra.len() + reserve_blocks <= MAX_BLOCKS
            && 2 + self.bytes + bytes + reserve_bytes <= MAX_MESSAGE_BYTES
    }

    pub fn push(&mut self, block: Value) {
        self.bytes += cost(&block);
        self.blocks.push(block);
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}

/// Joins `lines` with `separator` into as few texts of at most `max` bytes as it can; a line
/// longer than `max` is shortened. Used to put many short lines into few section blocks.
pub(crate) fn pack(lines: &[String], separator: &str, max: usize) -> Vec<String> {
    let mut packed: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in lines {
        let (line, _) = mrkdwn::shorten(line, max);
        if !current.is_empty() && current.len() + separator.len() + line.len() > max {
            packed.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str(separator);
        }
        current.push_str(&line);
    }
    if !current.is_empty() {
        packed.push(current);
    }
    packed
}

/// A message that breaks one of Slack's Block Kit limits. `index` is the block's position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("{count} blocks (at most {MAX_BLOCKS})")]
    TooManyBlocks { count: usize },
    #[error("the blocks serialize to {bytes} bytes (at most {MAX_MESSAGE_BYTES})")]
    TooLong { bytes: usize },
    #[error("block {index}: header text of {chars} characters (at most {MAX_HEADER})")]
    Header { index: usize, chars: usize },
    #[error("block {index}: text of {chars} characters (at most {limit})")]
    Text {
        index: usize,
        chars: usize,
        limit: usize,
    },
    #[error("block {index}: empty text")]
    Empty { index: usize },
    #[error("block {index}: {count} fields or elements (at most {limit})")]
    TooManyParts {
        index: usize,
        count: usize,
        limit: usize,
    },
}

/// Checks a message's blocks against Slack's limits: at most 50 blocks, header text at most 150
/// characters, section and context text at most 3000, at most 10 fields of at most 2000 each,
/// at most 10 context elements, at most 25 buttons of text at most 75 characters, value at most
/// 2000 and an action id, no empty text, and the whole under the size Slack accepts.
/// The transport can call it before posting; the tests call it on everything rendered.
pub fn check_limits(blocks: &[Value]) -> Result<(), LimitError> {
    if blocks.len() > MAX_BLOCKS {
        return Err(LimitError::TooManyBlocks {
            count: blocks.len(),
        });
    }
    let bytes = Value::from(blocks.to_vec()).to_string().len();
    if bytes > MAX_MESSAGE_BYTES {
        return Err(LimitError::TooLong { bytes });
    }
    for (index, block) in blocks.iter().enumerate() {
        check_block(index, block)?;
    }
    Ok(())
}

/// One block's own limits.
fn check_block(index: usize, block: &Value) -> Result<(), LimitError> {
    let check_text = |v: &Value, limit: usize| {
        let chars = v["text"].as_str().unwrap_or_default().chars().count();
        if chars == 0 {
            Err(LimitError::Empty { index })
        } else if chars > limit {
            Err(LimitError::Text {
                index,
                chars,
                limit,
            })
        } else {
            Ok(())
        }
    };
    let check_parts = |parts: &[Value], limit: usize| {
        if parts.len() > limit || parts.is_empty() {
            Err(LimitError::TooManyParts {
                index,
                count: parts.len(),
                limit,
            })
        } else {
            Ok(())
        }
    };
    match block["type"].as_str() {
        Some("header") => match check_text(&block["text"], MAX_HEADER) {
            Err(LimitError::Text { chars, .. }) => Err(LimitError::Header { index, chars }),
            other => other,
        },
        Some("section") => match block["fields"].as_array() {
            Some(fields) => {
                check_parts(fields, MAX_FIELDS)?;
                fields.iter().try_for_each(|f| check_text(f, MAX_FIELD))
            }
            None => check_text(&block["text"], MAX_SECTION),
        },
        Some("context") => {
            let elements = block["elements"].as_array().map_or(&[][..], Vec::as_slice);
            check_parts(elements, MAX_CONTEXT_ELEMENTS)?;
            elements.iter().try_for_each(|e| check_text(e, MAX_SECTION))
        }
        Some("actions") => {
            let elements = block["elements"].as_array().map_or(&[][..], Vec::as_slice);
            check_parts(elements, MAX_ACTIONS)?;
            elements.iter().try_for_each(|e| {
                check_text(&e["text"], MAX_BUTTON_TEXT)?;
                let value = e["value"].as_str().unwrap_or_default().chars().count();
                let id = e["action_id"].as_str().unwrap_or_default().chars().count();
                if value > MAX_BUTTON_VALUE {
                    return Err(LimitError::Text {
                        index,
                        chars: value,
                        limit: MAX_BUTTON_VALUE,
                    });
                }
                if id == 0 || id > MAX_ACTION_ID {
                    return Err(LimitError::Text {
                        index,
                        chars: id,
                        limit: MAX_ACTION_ID,
                    });
                }
                Ok(())
            })
        }
        _ => Ok(()),
    }
}

/// The blocks as plain text, roughly as Slack shows them: entities decoded, links as
/// `label (url)`, dates in their UTC fallback. For terminals (`certwatch digest`) and logs.
pub fn blocks_to_text(blocks: &[Value]) -> String {
    let mut out: Vec<String> = Vec::new();
    for block in blocks {
        match block["type"].as_str() {
            Some("header") => {
                let text = block["text"]["text"].as_str().unwrap_or_default();
                out.push(format!("{text}\n{}", "=".repeat(text.chars().count())));
            }
            Some("section") => {
                if let Some(fields) = block["fields"].as_array() {
                    let fields: Vec<String> = fields
                        .iter()
                        .map(|f| mrkdwn::to_plain(f["text"].as_str().unwrap_or_default()))
                        .map(|f| f.replacen('\n', ": ", 1))
                        .collect();
                    out.push(fields.join("\n"));
                } else {
                    out.push(mrkdwn::to_plain(
                        block["text"]["text"].as_str().unwrap_or_default(),
                    ));
                }
            }
            Some("context") => {
                let elements: Vec<String> = block["elements"]
                    .as_array()
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .map(|e| mrkdwn::to_plain(e["text"].as_str().unwrap_or_default()))
                    .collect();
                out.push(elements.join(" | "));
            }
            Some("divider") => out.push("-----".to_owned()),
            // Buttons: nothing to click in a terminal.
            Some("actions") => {}
            _ => {}
        }
    }
    out.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_never_exceed_limits() {
        let long = "x".repeat(10_000);
        let blocks = [
            header(&long),
            section(&long),
            fields(&vec![long.clone(); 12]),
            context(&vec![long.clone(); 12]),
        ];
        for (index, block) in blocks.iter().enumerate() {
            check_block(index, block).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(
            blocks[2]["fields"].as_array().map(Vec::len),
            Some(MAX_FIELDS)
        );
        assert_eq!(
            blocks[3]["elements"].as_array().map(Vec::len),
            Some(MAX_CONTEXT_ELEMENTS)
        );
    }

    #[test]
    fn check_limits_names_the_broken_limit() {
        let too_many = vec![json!({"type": "divider"}); 51];
        assert_eq!(
            check_limits(&too_many),
            Err(LimitError::TooManyBlocks { count: 51 })
        );
        let raw = json!({"type": "section", "text": {"type": "mrkdwn", "text": "é".repeat(3001)}});
        assert_eq!(
            check_limits(&[raw]),
            Err(LimitError::Text {
                index: 0,
                chars: 3001,
                limit: MAX_SECTION
            })
        );
        let empty = json!({"type": "section", "text": {"type": "mrkdwn", "text": ""}});
        assert_eq!(check_limits(&[empty]), Err(LimitError::Empty { index: 0 }));
    }

    #[test]
    fn page_respects_block_count_and_size() {
        let mut page = Page::new();
        let small = section("a");
        while page.fits(std::slice::from_ref(&small), 1, 0) {
            page.push(small.clone());
        }
        assert_eq!(page.blocks.len(), MAX_BLOCKS - 1);
        let mut page = Page::new();
        let big = section(&"b".repeat(2900));
        while page.fits(std::slice::from_ref(&big), 0, 0) {
            page.push(big.clone());
        }
        assert!(check_limits(&page.blocks).is_ok());
        assert!(!page.fits(std::slice::from_ref(&big), 0, 0));
    }

    #[test]
    fn pack_fills_texts_up_to_the_limit() {
        let lines: Vec<String> = (0..100)
            .map(|i| format!("line {i:03} {}", "y".repeat(90)))
            .collect();
        let packed = pack(&lines, "\n", 1000);
        assert!(packed.iter().all(|p| p.len() <= 1000));
        assert_eq!(packed.join("\n"), lines.join("\n"));
    }

    #[test]
    fn text_rendering_decodes_mrkdwn() {
        let blocks = vec![
            header("Certificates"),
            section(
                "*URGENT* `a.example.com` &amp; co · <https://x.example/a?b=1&amp;c=2|console>",
            ),
            context(&[
                "Scanned <!date^1764342616^{date_short_pretty} {time}|2025-11-28 15:10 UTC>"
                    .to_owned(),
            ]),
        ];
        assert_eq!(
            blocks_to_text(&blocks),
            "Certificates\n============\n\n*URGENT* `a.example.com` & co · console (https://x.example/a?b=1&c=2)\n\nScanned 2025-11-28 15:10 UTC"
        );
    }
}
