//! Why this exists: what a row does with its user's WebRTC phone, as a
//! plain value worked out in the preflight from one read of the org's
//! phones: nothing, create one (and make its station the user's default),
//! finish one whose station is not the default yet, replace one of
//! another base settings, or remove it. Never two phones for one user: a
//! replaced phone is deleted before its successor is created.

pub use crate::genesys::phones::NewPhone;
use crate::plan::Change;

/// One of the user's phones that the row removes.
#[derive(Debug, Clone, PartialEq)]
pub struct OldPhone {
    pub id: String,
    /// The base settings name (the phone's name when that is unknown).
    pub label: String,
    /// Its station is the user's default station (cleared with it).
    pub default_station: bool,
}

/// What a row does with its user's WebRTC phone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhoneStep {
    /// Phones deleted first (`-`, or another base settings under `--update`).
    pub remove: Vec<OldPhone>,
    /// The phone to create.
    pub create: Option<NewPhone>,
    /// The base settings name the user's phone is made of, when this row
    /// creates it or makes its station the default (`add phone NAME`).
    pub add: Option<String>,
}

impl PhoneStep {
    pub fn is_empty(&self) -> bool {
        *self == PhoneStep::default()
    }

    /// The `changes` items of this step.
    pub fn changes(&self) -> Vec<Change> {
        let mut changes: Vec<Change> = self
            .remove
            .iter()
            .map(|p| Change::RemovePhone(p.label.clone()))
            .collect();
        changes.extend(self.add.iter().map(|a| Change::AddPhone(a.clone())));
        changes
    }
}

/// A phone's name: unique in the org (the email is), and says whose it is.
pub fn phone_name(email: &str) -> String {
    format!("WebRTC {}", email.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_removes_then_adds() {
        let step = PhoneStep {
            remove: vec![OldPhone {
                id: "p1".into(),
                label: "Old Agents".into(),
                default_station: true,
            }],
            create: None,
            add: Some("WebRTC Agents".into()),
        };
        let cell = crate::plan::changes_cell(&step.changes());
        assert_eq!(cell, "add phone WebRTC Agents; remove phone Old Agents");
        assert!(PhoneStep::default().is_empty());
        assert_eq!(phone_name("Ana@Example.com"), "WebRTC ana@example.com");
    }
}
