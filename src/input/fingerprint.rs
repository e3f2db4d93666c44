//! Why this exists: repeats are caught across the whole file, and a million
//! rows must not keep a million emails; a 128-bit fingerprint of each
//! (lowercased) email or employee id stands in for it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Fingerprint of each lowercased value -> line of its first appearance.
/// 24 bytes an entry instead of the value itself: a million-row file needs
/// tens of megabytes, not hundreds.
pub(super) type Seen = HashMap<u128, u64, BuildHasherDefault<FingerprintHasher>>;

/// FNV-1a over the lowercased email, 128 bits: distinct emails in one file
/// collide with a probability far below that of a disk error.
pub(super) fn email_fingerprint(email: &str) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut hash = OFFSET;
    let mut feed = |byte: u8| {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(PRIME);
    };
    if email.is_ascii() {
        email.bytes().for_each(|b| feed(b.to_ascii_lowercase()));
    } else {
        let mut buf = [0u8; 4];
        for c in email.chars().flat_map(char::to_lowercase) {
            c.encode_utf8(&mut buf).bytes().for_each(&mut feed);
        }
    }
    hash
}

/// The map key is already a hash; use its low bits as they are.
#[derive(Default)]
pub(super) struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64 ^ (value >> 64) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_case_and_tell_emails_apart() {
        assert_eq!(
            email_fingerprint("Zoë@Example.COM"),
            email_fingerprint("zoë@example.com")
        );
        assert_ne!(
            email_fingerprint("a@example.com"),
            email_fingerprint("b@example.com")
        );
        let distinct: std::collections::HashSet<u128> = (0..100_000)
            .map(|i| email_fingerprint(&format!("user{i}@x.com")))
            .collect();
        assert_eq!(distinct.len(), 100_000);
    }
}
