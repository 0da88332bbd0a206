//! Pagination with opaque, stable `NextToken`s.
//!
//! A token is the offset of the next item, tagged with a hash of the listing it
//! belongs to (operation, account, region), so a token from one listing is rejected
//! by another instead of silently skipping items. The order of every listing is the
//! scenario's order, so pages never overlap or miss items.

use crate::ids;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub start: usize,
    pub end: usize,
    pub next_token: Option<String>,
}

/// The token does not belong to this listing or is garbled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadToken;

fn tag(scope: &str) -> String {
    ids::hex(&["page", scope], 12)
}

pub fn token(scope: &str, offset: usize) -> String {
    format!("{}{offset:08x}", tag(scope))
}

/// The page of `size` items starting where `token` points (at 0 without one).
pub fn page(scope: &str, total: usize, token: Option<&str>, size: usize) -> Result<Page, BadToken> {
    let start = match token {
        None => 0,
        Some(token) => {
            let offset = token.strip_prefix(&tag(scope)).ok_or(BadToken)?;
            let offset = usize::from_str_radix(offset, 16).map_err(|_| BadToken)?;
            if offset > total {
                return Err(BadToken);
            }
            offset
        }
    };
    let end = start.saturating_add(size.max(1)).min(total);
    let next_token = (end < total).then(|| self::token(scope, end));
    Ok(Page {
        start,
        end,
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_every_item_once() {
        let mut seen = Vec::new();
        let mut next = None;
        loop {
            let p = page("s", 5, next.as_deref(), 2).expect("page");
            seen.extend(p.start..p.end);
            next = p.next_token;
            if next.is_none() {
                break;
            }
        }
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn rejects_foreign_tokens() {
        let t = token("a", 1);
        assert_eq!(page("b", 5, Some(&t), 2), Err(BadToken));
        assert_eq!(page("a", 5, Some("garbage"), 2), Err(BadToken));
        assert!(page("a", 0, None, 2).expect("empty").next_token.is_none());
    }
}
