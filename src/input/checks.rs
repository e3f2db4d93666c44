//! Why this exists: the rules one cell must meet (an address, a date, free
//! text, an id), each a small function that says in words what is wrong.

use crate::text::{control_name, cut, is_invisible};

/// Maximum length we accept for free-text cells; Genesys does not document
/// one, and anything longer is almost certainly a shifted or pasted cell.
const MAX_TEXT_LEN: usize = 255;

/// `8-4-4-4-12` hex digits.
pub fn is_uuid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A practical address check: one `@`, a dot-atom local part, and a domain of
/// dot-separated labels. Non-ASCII letters are allowed (internationalised mail).
pub(super) fn check_email(email: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{}` is not a valid address ({why})", cut(email)));
    // ASCII (nearly every address) holds no invisible character: skip the scan.
    let control = if email.is_ascii() {
        email.bytes().find(u8::is_ascii_control).map(char::from)
    } else {
        if let Some(c) = email.chars().find(|&c| is_invisible(c)) {
            return Err(format!(
                "contains an invisible character (U+{:04X}); retype the address",
                u32::from(c)
            ));
        }
        email.chars().find(|c| c.is_control())
    };
    if let Some(c) = control {
        return Err(format!("contains {}", control_name(c)));
    }
    if email.len() > 254 {
        return bad("longer than 254 characters");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return bad("no @");
    };
    if local.is_empty() || local.len() > 64 {
        return bad("the part before @ must be 1 to 64 characters");
    }
    let local_ok = local.chars().all(|c| match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' => true,
        '!' | '#' | '$' | '%' | '&' | '\'' | '*' | '+' | '/' | '=' | '?' | '^' | '_' | '`'
        | '{' | '|' | '}' | '~' | '.' | '-' => true,
        c => !c.is_ascii() && !c.is_whitespace() && !c.is_control(),
    });
    if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("unexpected character before @");
    }
    if !domain.contains('.') {
        return bad("the domain needs a dot");
    }
    for label in domain.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| {
                c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
            });
        if !ok {
            return bad("invalid domain");
        }
    }
    Ok(())
}

pub(super) fn check_text(value: &str) -> Result<(), String> {
    // Byte length bounds the character count: count only when it could matter.
    if value.len() > MAX_TEXT_LEN && value.chars().count() > MAX_TEXT_LEN {
        return Err(format!("longer than {MAX_TEXT_LEN} characters"));
    }
    let control = if value.is_ascii() {
        value.bytes().find(u8::is_ascii_control).map(char::from)
    } else {
        value.chars().find(|c| c.is_control())
    };
    match control {
        Some(c) => Err(format!(
            "contains {}, which is not allowed here",
            control_name(c)
        )),
        None => Ok(()),
    }
}

pub(super) fn check_employee_type(value: &str) -> Result<String, String> {
    ["Full-time", "Part-time", "Contractor"]
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(value))
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "`{}` is not `Full-time`, `Part-time` or `Contractor`",
                cut(value)
            )
        })
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn check_date(value: &str) -> Result<String, String> {
    let bad = || Err(format!("`{}` is not a date written YYYY-MM-DD", cut(value)));
    let parts: Vec<&str> = value.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return bad();
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return bad();
    }
    let (Ok(year), Ok(month), Ok(day)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>())
    else {
        return bad();
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return bad(),
    };
    if !(1..=days).contains(&day) || year < 1900 {
        return bad();
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::normalise_e164;
    use super::*;

    #[test]
    fn email_rules() {
        for good in [
            "a@x.com",
            "first.last+tag@sub.example.co.uk",
            "josé@exämple.com",
        ] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "a@x",
            "@x.com",
            "a@@x.com",
            "a b@x.com",
            "a..b@x.com",
            "a@-x.com",
            "a@x..com",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uuid_and_phone_rules() {
        assert!(is_uuid("0d1c4f2e-8a6b-4c3d-9e0f-1a2b3c4d5e6f"));
        assert!(!is_uuid("Sales"));
        assert_eq!(
            normalise_e164("+44 (20) 7946-0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(normalise_e164("3175550123"), None);
        assert_eq!(normalise_e164("+0123456789"), None);
    }
}
