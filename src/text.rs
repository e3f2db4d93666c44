//! Why this exists: text that came from a file or a server is shown to a
//! person (messages, logs) or written to a spreadsheet (results). These
//! helpers keep it short, visible and inert.

use std::borrow::Cow;

/// Longest piece of a cell or a server's text quoted in a message.
pub const MAX_QUOTED_CHARS: usize = 80;

/// `text` cut to about 80 characters, then `…`.
pub fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The name of a control character, for messages: `NUL`, `line break`…
pub fn control_name(c: char) -> String {
    match c {
        '\0' => "a NUL character (U+0000)".into(),
        '\n' => "a line break".into(),
        '\r' => "a carriage return".into(),
        '\t' => "a tab".into(),
        c => format!("a control character (U+{:04X})", u32::from(c)),
    }
}

/// Unicode format characters (category Cf): zero-width spaces and joiners,
/// bidi controls, the BOM, soft hyphen, tag characters. Invisible, so an
/// email holding one looks like another and would create a second user.
pub fn is_invisible(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// A cell as it may go into the results file: control characters other than
/// line breaks and tabs (which CSV quoting carries) become `U+FFFD`, so a
/// NUL or an escape sequence never reaches a spreadsheet or a terminal raw.
pub fn visible(cell: &str) -> Cow<'_, str> {
    // Fast path, branch-free so it vectorises: no C0 control, no DEL, and
    // no 0xC2 (the lead byte of every C1 control, rare in text).
    let suspect = cell.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == 0x7f) | (b == 0xc2)
    });
    if !suspect {
        return cell.into();
    }
    let raw = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    if cell.chars().any(raw) {
        cell.chars()
            .map(|c| if raw(c) { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        let long = "x".repeat(200);
        let short = cut(&long);
        assert_eq!(short.chars().count(), MAX_QUOTED_CHARS + 1);
        assert!(short.ends_with('…'));
        assert_eq!(cut("short"), "short");
        assert_eq!(cut(&"é".repeat(81)).chars().count(), 81);
    }

    #[test]
    fn invisible_characters_are_recognised() {
        for c in [
            '\u{200B}',
            '\u{202E}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{E0041}',
        ] {
            assert!(is_invisible(c), "{:X}", u32::from(c));
        }
        for c in ['a', 'é', ' ', '-', '\u{00A0}'] {
            assert!(!is_invisible(c));
        }
    }

    #[test]
    fn control_characters_never_reach_the_results_raw() {
        assert_eq!(visible("a\0b\x1b[31m"), "a\u{FFFD}b\u{FFFD}[31m");
        assert_eq!(visible("two\nlines\tok"), "two\nlines\tok");
        assert_eq!(control_name('\0'), "a NUL character (U+0000)");
        assert_eq!(control_name('\x07'), "a control character (U+0007)");
    }
}
