//! "Did you mean": a whole command to try instead of an unknown subcommand.

use super::{Subcommand, SLASH, SUBCOMMANDS};
use certwatch_core::Code;
use std::str::FromStr;

/// A command to try instead of an unknown subcommand: the argument typed without its
/// subcommand (`/certs IMPORTED` → `/certs code IMPORTED`), or the closest subcommand.
pub(super) fn suggest(word: &str, args: &[&str]) -> Option<String> {
    suggest_within(word, args, true)
}

/// [`suggest`], with `all` among the candidates only at the top: `all` takes a whole
/// command after it, so suggesting it means suggesting that command too
/// (`/certs l EXPIRED` → `/certs all code EXPIRED`, never `/certs all EXPIRED`).
fn suggest_within(word: &str, args: &[&str], all_allowed: bool) -> Option<String> {
    let command = |name: &str, rest: &[&str]| {
        let mut text = format!("{SLASH} {name}");
        for arg in rest {
            text.push(' ');
            text.push_str(arg);
        }
        text
    };
    if args.is_empty() {
        if let Ok(code) = Code::from_str(word) {
            return Some(command("code", &[code.as_str()]));
        }
        let bare = if word.starts_with("arn:") || is_certificate_id(word) {
            Some("show")
        } else if word.len() == 12 && word.bytes().all(|b| b.is_ascii_digit()) {
            Some("account")
        } else if word.parse::<u32>().is_ok() {
            Some("expiring")
        } else if word.contains('.') {
            Some("domain")
        } else {
            None
        };
        if let Some(name) = bare {
            return Some(command(name, &[word]));
        }
    }
    let word = word.to_ascii_lowercase();
    let candidates = || {
        SUBCOMMANDS
            .iter()
            .filter(move |s| all_allowed || s.name != ALL)
    };
    let prefixed: Vec<&Subcommand> = candidates()
        .filter(|s| word.len() >= 2 && s.name.starts_with(&word))
        .collect();
    let closest = match prefixed.as_slice() {
        [only] => Some(*only),
        _ => candidates()
            .map(|s| (edit_distance(&word, s.name), s))
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d)
            .map(|(_, s)| s),
    }?;
    if closest.name == ALL {
        if let Some((head, tail)) = args.split_first() {
            let known = SUBCOMMANDS
                .iter()
                .any(|s| s.name != ALL && s.name.eq_ignore_ascii_case(head));
            if !known {
                let inner = suggest_within(head, tail, false)?;
                let inner = inner.strip_prefix(SLASH)?;
                return Some(format!("{SLASH} {ALL}{inner}"));
            }
        }
    }
    Some(command(closest.name, args))
}

/// The subcommand that widens another to the whole organization.
const ALL: &str = "all";

/// A UUID, the shape of ACM certificate ids.
pub(crate) fn is_certificate_id(word: &str) -> bool {
    word.len() == 36
        && word.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("expirng", "expiring"), 1);
        assert_eq!(edit_distance("", "scan"), 4);
        assert_eq!(edit_distance("acount", "account"), 1);
        assert_eq!(edit_distance("show", "show"), 0);
    }

    #[test]
    fn a_suggested_all_carries_a_command_that_parses() {
        assert_eq!(
            suggest("l", &["EXPIRED"]).as_deref(),
            Some("/certs all code EXPIRED")
        );
        let twice = suggest("l", &["l", "EXPIRED"]);
        assert!(
            !twice.as_deref().unwrap_or_default().contains("all all"),
            "`all` is suggested once: {twice:?}"
        );
        assert_eq!(
            suggest("al", &["expiring", "30"]).as_deref(),
            Some("/certs all expiring 30")
        );
        assert_eq!(suggest("l", &[]).as_deref(), Some("/certs all"));
        assert_eq!(suggest("l", &["zzzzzz"]), None);
    }
}
