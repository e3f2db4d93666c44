//! Why this exists: one Genesys user, with what it holds directly, becomes
//! one row in exactly the import's columns, written so that the import
//! reads it back to the same user (roles as `Role`, `Role@Division`,
//! `Role@*`; ratings as `4` or `2.5`; the manager by email; lists sorted
//! by name; every name and value escaped as `crate::escape` says, so one
//! holding `;`, `@`, `:`, a `-` or edge spaces comes back as itself). Pure:
//! no I/O.

use std::collections::HashMap;

use crate::escape::{escape, Context};
use crate::genesys::users::{RatedRef, User};
use crate::users::{rating_text, Column};

/// The export's header: the users columns it writes, in the table's order.
pub fn user_columns() -> Vec<&'static str> {
    Column::exported().map(Column::name).collect()
}

/// Names by id, read once.
#[derive(Debug, Default)]
pub struct Names {
    pub divisions: HashMap<String, String>,
    pub home_division: String,
    pub roles: HashMap<String, String>,
    pub skills: HashMap<String, String>,
    pub languages: HashMap<String, String>,
    pub locations: HashMap<String, String>,
}

/// What users hold directly, by user id: role grants (as cells' items),
/// queue and group names.
#[derive(Debug, Default)]
pub struct Holdings {
    pub roles: HashMap<String, Vec<String>>,
    pub queues: HashMap<String, Vec<String>>,
    pub groups: HashMap<String, Vec<String>>,
    /// A user's WebRTC phone: its base settings' and its site's names.
    pub phones: HashMap<String, (String, String)>,
}

impl Holdings {
    /// Records a direct grant of `role` in `division_id` (`*`: all divisions).
    pub fn grant(&mut self, names: &Names, user_id: &str, role: &str, division_id: &str) {
        let role = escape(role, Context::Role);
        let item = if division_id == "*" {
            format!("{role}@*")
        } else if division_id == names.home_division {
            role.into_owned()
        } else {
            let division = names
                .divisions
                .get(division_id)
                .map(String::as_str)
                .unwrap_or(division_id);
            format!("{role}@{}", escape(division, Context::Role))
        };
        self.roles
            .entry(user_id.to_string())
            .or_default()
            .push(item);
    }
}

/// `;`-joined, sorted by name (case-insensitively), without repeats.
pub fn list(items: impl IntoIterator<Item = String>) -> String {
    let mut items: Vec<String> = items.into_iter().collect();
    items.sort_by(|a, b| a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b)));
    items.dedup();
    items.join("; ")
}

/// A skill the catalogue does not name (deleted, or out of sight) is
/// written by the name the user's read gives it, else by its id: never
/// left out, which a later `--exact` would take for a removal (the import
/// then refuses the row, naming it, and removes nothing).
fn rated(items: &[RatedRef], names: &HashMap<String, String>) -> String {
    list(items.iter().map(|item| {
        let name = names
            .get(&item.id)
            .or(item.name.as_ref())
            .unwrap_or(&item.id);
        format!(
            "{}:{}",
            escape(name, Context::Rated),
            rating_text(item.proficiency.unwrap_or(0.0))
        )
    }))
}

fn work_phone(user: &User) -> String {
    user.addresses
        .iter()
        .find(|a| a["mediaType"] == "PHONE" && a["type"] == "WORK")
        .and_then(|a| a["address"].as_str())
        .unwrap_or("")
        .to_string()
}

/// The row of one user. `emails` finds a manager's email by id (a manager
/// not read is written by id, which the import also takes).
pub fn user_row(
    user: &User,
    names: &Names,
    held: &Holdings,
    emails: &HashMap<String, String>,
) -> Vec<String> {
    let value = |v: &str| escape(v, Context::Value).into_owned();
    let text = |v: &Option<String>| value(v.as_deref().unwrap_or_default());
    let names_of = |map: &HashMap<String, Vec<String>>| {
        map.get(&user.id)
            .map(|v| list(v.iter().map(|n| escape(n, Context::Item).into_owned())))
            .unwrap_or_default()
    };
    let division = user
        .division_id()
        .map(|id| value(names.divisions.get(id).map_or(id, String::as_str)))
        .unwrap_or_default();
    let manager = user
        .manager
        .as_ref()
        .map(|m| emails.get(&m.id).cloned().unwrap_or_else(|| m.id.clone()))
        .unwrap_or_default();
    let location = user
        .location_ids()
        .first()
        .and_then(|id| names.locations.get(*id).map(|l| value(l)))
        .unwrap_or_default();
    let employer = |field: &str| value(user.employer(field).unwrap_or(""));
    Column::exported()
        .map(|column| match column {
            Column::Email => text(&user.email),
            Column::Name => text(&user.name),
            Column::Division => division.clone(),
            Column::Department => text(&user.department),
            Column::Title => text(&user.title),
            Column::Phone => work_phone(user),
            Column::State => user.state.clone().unwrap_or_else(|| "active".into()),
            Column::Manager => manager.clone(),
            Column::Roles => held
                .roles
                .get(&user.id)
                .map(|v| list(v.iter().cloned()))
                .unwrap_or_default(),
            Column::Skills => rated(&user.skills, &names.skills),
            Column::Languages => rated(&user.languages, &names.languages),
            Column::Queues => names_of(&held.queues),
            Column::Groups => names_of(&held.groups),
            Column::Location => location.clone(),
            Column::EmployeeId => employer("employeeId"),
            Column::EmployeeType => employer("employeeType"),
            Column::HireDate => employer("dateHire"),
            Column::WebrtcPhone => held
                .phones
                .get(&user.id)
                .map(|(base, _)| value(base))
                .unwrap_or_default(),
            Column::Site => held
                .phones
                .get(&user.id)
                .map(|(_, site)| value(site))
                .unwrap_or_default(),
            // Never read back from Genesys.
            Column::Password | Column::Invite => String::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ratings_lists_and_role_scopes() {
        assert_eq!(rating_text(4.0), "4");
        assert_eq!(rating_text(2.5), "2.5");
        assert_eq!(rating_text(0.0), "0");
        assert_eq!(
            list(["b".to_string(), "A".into(), "c".into(), "b".into()]),
            "A; b; c"
        );
        let names = Names {
            divisions: HashMap::from([("d2".to_string(), "Sales".to_string())]),
            home_division: "d1".into(),
            ..Names::default()
        };
        let mut held = Holdings::default();
        held.grant(&names, "u", "Agent", "d1");
        held.grant(&names, "u", "Supervisor", "d2");
        held.grant(&names, "u", "Admin", "*");
        assert_eq!(
            list(held.roles["u"].clone()),
            "Admin@*; Agent; Supervisor@Sales"
        );
    }

    #[test]
    fn a_user_becomes_its_row() {
        let user: User = serde_json::from_value(json!({
            "id": "u1", "name": "Ana", "email": "ana@example.com", "state": "inactive",
            "division": {"id": "d2"}, "title": "Agent", "manager": {"id": "m1"},
            "addresses": [{"address": "+13175550123", "mediaType": "PHONE", "type": "WORK"}],
            "skills": [{"id": "s2", "proficiency": 2.5}, {"id": "s1", "proficiency": 4.0}],
            "locations": [{"locationDefinition": {"id": "c1"}}],
            "employerInfo": {"employeeId": "E-1", "dateHire": "2026-12-01"}
        }))
        .unwrap();
        let names = Names {
            divisions: HashMap::from([("d2".to_string(), "Sales".to_string())]),
            skills: HashMap::from([
                ("s1".to_string(), "Sales".to_string()),
                ("s2".to_string(), "Billing".to_string()),
            ]),
            locations: HashMap::from([("c1".to_string(), "Lisbon Office".to_string())]),
            ..Names::default()
        };
        let emails = HashMap::from([("m1".to_string(), "boss@example.com".to_string())]);
        let held = Holdings {
            phones: HashMap::from([(
                "u1".to_string(),
                ("WebRTC; Agents".to_string(), "Lisbon".to_string()),
            )]),
            ..Holdings::default()
        };
        let row = user_row(&user, &names, &held, &emails);
        assert_eq!(
            row,
            [
                "ana@example.com",
                "Ana",
                "Sales",
                "",
                "Agent",
                "+13175550123",
                "inactive",
                "boss@example.com",
                "",
                "Billing:2.5; Sales:4",
                "",
                "",
                "",
                "Lisbon Office",
                "E-1",
                "",
                "2026-12-01",
                "WebRTC; Agents",
                "Lisbon"
            ]
        );
    }
}
