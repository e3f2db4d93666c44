//! Why this exists: spreadsheets write phone numbers every which way, and
//! Genesys takes only E.164; one normaliser serves users, queues and the diff.

/// Accepts `+` and 7 to 15 digits (the first not 0); spaces, dashes, dots and
/// brackets are dropped first because spreadsheets are full of them.
pub fn normalise_e164(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+')?;
    let ok = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    ok.then_some(compact)
}
