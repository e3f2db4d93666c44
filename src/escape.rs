//! Why this exists: a name or value the org holds must come back from an
//! export unchanged, even when it holds the list separator `;`, the role
//! scope `@`, the rating separator `:`, is itself the clearing marker `-`,
//! or starts or ends with spaces. One rule, both ways (see
//! docs/round-trip.md): a backslash before one of `\ ; @ : - *` or a space
//! stands for that character itself; the export writes one before each
//! such character where the import would otherwise read it as syntax,
//! and the import reads it back. A backslash before any other character is
//! kept as written, so hand-typed text such as `DOMAIN\user` reads as is.

use std::borrow::Cow;

/// The characters a backslash escapes.
fn is_special(c: char) -> bool {
    matches!(c, '\\' | ';' | '@' | ':' | '-' | '*') || c.is_whitespace()
}

/// Where an item is written: which characters the import would read as
/// syntax there, beyond the separator, the marker and edge spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// A single-value cell (title, department, location, a division…).
    Value,
    /// A name in a `;`-separated list (queues, groups).
    Item,
    /// A role's name or division in `roles` (`Role@Division`).
    Role,
    /// A skill's or language's name (`Name:rating`).
    Rated,
}

/// `text` as the import reads it back to `text` in `context`.
pub fn escape(text: &str, context: Context) -> Cow<'_, str> {
    let count = text.chars().count();
    let leading = text.chars().take_while(|c| c.is_whitespace()).count();
    let trailing = text.chars().rev().take_while(|c| c.is_whitespace()).count();
    let needs = |i: usize, c: char| match c {
        '\\' => true,
        ';' => context != Context::Value,
        '@' => context == Context::Role,
        ':' => context == Context::Rated,
        '*' => context == Context::Role && text == "*",
        '-' => text == "-",
        c if c.is_whitespace() => i < leading || i >= count - trailing,
        _ => false,
    };
    if !text.chars().enumerate().any(|(i, c)| needs(i, c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 4);
    for (i, c) in text.chars().enumerate() {
        if needs(i, c) {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// `cell` without the spaces around it that no backslash escapes.
pub fn trim(cell: &str) -> &str {
    let start = cell.trim_start();
    let end = start.trim_end();
    // An odd run of backslashes at the end escapes the first space after it.
    let escaping = end.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1;
    match start[end.len()..].chars().next() {
        Some(space) if escaping => &start[..end.len() + space.len_utf8()],
        _ => end,
    }
}

/// The byte offsets of the characters of `text` no backslash escapes.
fn unescaped(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || loop {
        let (i, c) = chars.next()?;
        if c == '\\' && chars.peek().is_some_and(|(_, n)| is_special(*n)) {
            chars.next();
            continue;
        }
        return Some((i, c));
    })
}

/// The items of a list cell: split at each `;` no backslash escapes, each
/// trimmed as a cell is (still escaped).
pub fn split(cell: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut from = 0;
    for (i, c) in unescaped(cell) {
        if c == ';' {
            items.push(trim(&cell[from..i]));
            from = i + 1;
        }
    }
    items.push(trim(&cell[from..]));
    items
}

/// `text` split at its last `separator` no backslash escapes.
pub fn rsplit_once(text: &str, separator: char) -> Option<(&str, &str)> {
    let at = unescaped(text)
        .filter(|(_, c)| *c == separator)
        .last()
        .map(|(i, _)| i)?;
    Some((&text[..at], &text[at + separator.len_utf8()..]))
}

/// `text` with each escaping backslash taken out.
pub fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&next) if c == '\\' && is_special(next) => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the reader does to one escaped cell of `context`.
    fn read_back(cell: &str) -> String {
        unescape(trim(cell)).into_owned()
    }

    #[test]
    fn every_value_reads_back_as_itself() {
        for text in [
            "Sales; EMEA",
            "-",
            "Team@Sales",
            " lead ",
            "  two  ",
            "C:\\temp\\",
            "a\\;b",
            "*",
            "Billing:EU",
            "plain",
            "-5",
        ] {
            for context in [Context::Value, Context::Item, Context::Role, Context::Rated] {
                let written = escape(text, context);
                assert_eq!(read_back(&written), text, "{context:?}: {written}");
            }
        }
        assert_eq!(escape("plain", Context::Item), "plain");
        assert_eq!(escape("-", Context::Value), "\\-");
        assert_eq!(escape("-5", Context::Value), "-5");
        assert_eq!(escape("Sales; EMEA", Context::Item), "Sales\\; EMEA");
        assert_eq!(escape(" lead ", Context::Value), "\\ lead\\ ");
    }

    #[test]
    fn lists_split_only_at_unescaped_separators() {
        assert_eq!(
            split("Sales\\; EMEA; Billing"),
            ["Sales\\; EMEA", "Billing"]
        );
        assert_eq!(split(" a ;\\ b\\ ; "), ["a", "\\ b\\ ", ""]);
        assert_eq!(
            rsplit_once("Team\\@Sales@Home", '@'),
            Some(("Team\\@Sales", "Home"))
        );
        assert_eq!(rsplit_once("Team\\@Sales", '@'), None);
        assert_eq!(unescape("DOMAIN\\user"), "DOMAIN\\user", "kept as written");
    }
}
