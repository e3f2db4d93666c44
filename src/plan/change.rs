//! Why this exists: the items of the `changes` column, in the documented
//! order (docs/results.md), so a dry run, a real run and an `exists` row all name a change
//! the same way.

use crate::users::Field;

/// One item of the `changes` column; the derived order is the documented one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    Create,
    Restore,
    Field(Field),
    /// A changed column of a queues file (`description`, `acw`...), with
    /// its rank in the documented column order.
    Column(u8, &'static str),
    /// `NAME@DIVISION` (`*` for all divisions).
    AddRole(String),
    /// `NAME:RATING`.
    AddSkill(String),
    AddLanguage(String),
    AddQueue(String),
    AddGroup(String),
    /// A WebRTC phone of this base settings.
    AddPhone(String),
    AddWrapup(String),
    /// `--exact` removals (`NAME@DIVISION`, or a name).
    RemoveRole(String),
    RemoveSkill(String),
    RemoveLanguage(String),
    RemoveQueue(String),
    RemoveGroup(String),
    RemovePhone(String),
    Invite,
}

impl Change {
    pub fn text(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Change::Create => "create".into(),
            Change::Restore => "restore".into(),
            Change::Field(f) => f.as_str().into(),
            Change::Column(_, c) => (*c).into(),
            Change::AddWrapup(w) => format!("add wrapup {w}").into(),
            Change::AddRole(r) => format!("add role {r}").into(),
            Change::AddSkill(s) => format!("add skill {s}").into(),
            Change::AddLanguage(l) => format!("add language {l}").into(),
            Change::AddQueue(q) => format!("add queue {q}").into(),
            Change::AddGroup(g) => format!("add group {g}").into(),
            Change::AddPhone(p) => format!("add phone {p}").into(),
            Change::RemoveRole(r) => format!("remove role {r}").into(),
            Change::RemoveSkill(s) => format!("remove skill {s}").into(),
            Change::RemoveLanguage(l) => format!("remove language {l}").into(),
            Change::RemoveQueue(q) => format!("remove queue {q}").into(),
            Change::RemoveGroup(g) => format!("remove group {g}").into(),
            Change::RemovePhone(p) => format!("remove phone {p}").into(),
            Change::Invite => "invite".into(),
        }
    }
}

/// The `changes` cell: items in the documented order, `; `-separated.
pub fn changes_cell(changes: &[Change]) -> std::borrow::Cow<'static, str> {
    match changes {
        [] => return "".into(),
        [one] => return one.text(),
        _ => {}
    }
    let mut sorted = changes.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
        .iter()
        .map(|c| c.text())
        .collect::<Vec<_>>()
        .join("; ")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_follow_the_contract_order() {
        let changes = [
            Change::Field(Field::HireDate),
            Change::Field(Field::Phone),
            Change::Create,
            Change::Field(Field::Name),
            Change::Field(Field::Division),
            Change::Field(Field::State),
        ];
        assert_eq!(
            changes_cell(&changes),
            "create; name; phone; state; division; hire_date"
        );
    }
}
