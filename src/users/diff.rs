//! Why this exists: `--update` sends only what differs. This compares a
//! valid row with the user Genesys holds and builds the PATCH bodies: the
//! state on its own (Genesys requires it alone), and the profile fields in
//! one body, with `addresses` and `employerInfo` merged into what the user
//! already has and written back whole. Pure: no I/O, unit-tested here.

use serde_json::{json, Map, Value};

use crate::genesys::users::User;
use crate::input::{normalise_e164, Cell, MatchKey, UserRow, UserState};
use crate::users::columns::Column;
use crate::users::Field;

/// A PATCH body without `version`, and the fields it changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Patch {
    pub body: Map<String, Value>,
    pub fields: Vec<Field>,
}

impl Patch {
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn set(&mut self, field: Field, key: &str, value: Value) {
        self.body.insert(key.to_string(), value);
        self.fields.push(field);
    }
}

/// `{state}` when the row asks for another state than the user's.
pub fn state_patch(row: &UserRow, user: &User) -> Patch {
    let mut patch = Patch::default();
    // A deletion is its own request (engine::removals), never a PATCH.
    if let Some(wanted) = row.state.filter(|s| *s != UserState::Deleted) {
        let current = user.state.as_deref().unwrap_or("active");
        if current != wanted.as_api_str() {
            patch.set(Field::State, "state", json!(wanted.as_api_str()));
        }
    }
    patch
}

/// The state a restored user gets: the row's, else active.
pub fn restore_patch(row: &UserRow) -> Map<String, Value> {
    let state = row.state.unwrap_or(UserState::Active).as_api_str();
    let mut body = Map::new();
    body.insert("state".into(), json!(state));
    body
}

/// Every other profile field the row changes. A blank cell leaves the
/// field as it is; `-` clears it.
pub fn profile_patch(row: &UserRow, user: &User, key: MatchKey) -> Patch {
    let mut patch = Patch::default();
    // A blank name (movers and leavers files) leaves the name as it is.
    if !row.name.is_empty() && user.name.as_deref() != Some(&*row.name) {
        patch.set(Field::Name, "name", json!(&*row.name));
    }
    if key == MatchKey::EmployeeId
        && !user
            .email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(&row.email))
    {
        patch.set(Field::Email, "email", json!(&*row.email));
    }
    text(
        &mut patch,
        Field::Title,
        "title",
        &row.title,
        user.title.as_deref(),
    );
    text(
        &mut patch,
        Field::Department,
        "department",
        &row.department,
        user.department.as_deref(),
    );
    if let Some(addresses) = merged_addresses(&row.phone, &user.addresses) {
        patch.set(Field::Phone, "addresses", Value::Array(addresses));
    }
    employer_info(&mut patch, row, user);
    patch
}

/// What a new user gets after its create: the fields `CreateUser` lacks.
pub fn follow_up_patch(row: &UserRow, user: &User) -> Patch {
    let mut patch = Patch::default();
    employer_info(&mut patch, row, user);
    patch
}

fn text(patch: &mut Patch, field: Field, key: &str, cell: &Cell<String>, current: Option<&str>) {
    let current = current.unwrap_or("");
    match cell {
        Cell::Set(value) if value != current => patch.set(field, key, json!(value)),
        // An empty string clears (docs/genesys-api.md#updating-users).
        Cell::Clear if !current.is_empty() => patch.set(field, key, json!("")),
        _ => {}
    }
}

/// Why the row is refused when a value it takes only as an org may hold
/// it (`UserRow::unchecked`) is not what `user` holds (`None`: a new user):
/// genimport writes no value it would refuse; it only gives one back.
pub fn unchecked_change(row: &UserRow, user: Option<&User>) -> Option<String> {
    row.unchecked.iter().find_map(|(column, why)| {
        let (held, wanted) = match column {
            Column::EmployeeType => (
                user.and_then(|u| u.employer("employeeType")),
                &row.employee_type,
            ),
            Column::HireDate => (user.and_then(|u| u.employer("dateHire")), &row.hire_date),
            Column::Phone => (
                user.and_then(|u| {
                    u.addresses
                        .iter()
                        .find(|c| is_work_phone(c))
                        .and_then(|c| c["address"].as_str())
                }),
                &row.phone,
            ),
            _ => return None,
        };
        (held != wanted.value().map(String::as_str)).then(|| {
            format!(
                "{}: {why} (a value the user already holds is taken as it is)",
                column.name()
            )
        })
    })
}

fn is_work_phone(contact: &Value) -> bool {
    contact["mediaType"] == "PHONE" && contact["type"] == "WORK"
}

/// The user's addresses with the row's work phone merged in, or `None`
/// when nothing changes. Everything else the user has is kept; PRIMARY
/// entries are Genesys' own and the read-only `display` is dropped.
fn merged_addresses(phone: &Cell<String>, current: &[Value]) -> Option<Vec<Value>> {
    let existing = current.iter().find(|c| is_work_phone(c));
    let same = |c: &Value| {
        c["address"].as_str().is_some_and(|a| {
            Some(a) == phone.value().map(String::as_str)
                || normalise_e164(a).as_ref() == phone.value()
        })
    };
    let changed = match (phone, existing) {
        (Cell::Blank, _) | (Cell::Clear, None) => false,
        (Cell::Set(_), Some(c)) => !same(c),
        (Cell::Set(_), None) | (Cell::Clear, Some(_)) => true,
    };
    if !changed {
        return None;
    }
    let mut merged: Vec<Value> = current
        .iter()
        .filter(|c| c["type"] != "PRIMARY" && !is_work_phone(c))
        .map(|c| {
            let mut c = c.clone();
            if let Value::Object(fields) = &mut c {
                fields.remove("display");
            }
            c
        })
        .collect();
    if let Cell::Set(number) = phone {
        merged.push(json!({"address": number, "mediaType": "PHONE", "type": "WORK"}));
    }
    Some(merged)
}

/// `employerInfo` is one object: send it whole, with the row's fields
/// merged into what the user has (`officialName` and the rest are kept).
fn employer_info(patch: &mut Patch, row: &UserRow, user: &User) {
    let mut info = user.employer_info.clone().unwrap_or_default();
    let mut changed = Vec::new();
    for (field, key, cell) in [
        (Field::EmployeeId, "employeeId", &row.employee_id),
        (Field::EmployeeType, "employeeType", &row.employee_type),
        (Field::HireDate, "dateHire", &row.hire_date),
    ] {
        let current = info
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        // The employee type is read case-insensitively (`full-time` is
        // `Full-time`): a case-only difference is the same value, as held.
        let same = |v: &str| match field {
            Field::EmployeeType => v.eq_ignore_ascii_case(&current),
            _ => v == current,
        };
        let wanted = match cell {
            Cell::Set(v) if !same(v) => v.clone(),
            Cell::Clear if !current.is_empty() => String::new(),
            _ => continue,
        };
        info.insert(key.to_string(), json!(wanted));
        changed.push(field);
    }
    if !changed.is_empty() {
        patch
            .body
            .insert("employerInfo".into(), Value::Object(info));
        patch.fields.extend(changed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> UserRow {
        UserRow {
            email: "ana@example.com".into(),
            name: "Ana".into(),
            division: None,
            department: Cell::Blank,
            title: Cell::Blank,
            phone: Cell::Blank,
            state: None,
            password: None,
            employee_id: Cell::Blank,
            employee_type: Cell::Blank,
            hire_date: Cell::Blank,
            ..UserRow::default()
        }
    }

    fn user() -> User {
        serde_json::from_value(json!({
            "id": "u1", "name": "Ana", "email": "ana@example.com", "state": "active", "version": 4,
            "title": "Agent", "department": "Support",
            "addresses": [
                {"address": "+1 317 555 0123", "display": "+1 317-555-0123", "mediaType": "PHONE", "type": "WORK"},
                {"address": "+13175550999", "mediaType": "PHONE", "type": "MOBILE"}
            ],
            "employerInfo": {"officialName": "Ana Q. Souza", "employeeId": "E-1"}
        }))
        .unwrap()
    }

    #[test]
    fn blank_cells_and_equal_values_change_nothing() {
        let mut r = row();
        r.title = Cell::Set("Agent".into());
        r.phone = Cell::Set("+13175550123".into());
        r.employee_id = Cell::Set("E-1".into());
        r.state = Some(UserState::Active);
        assert!(profile_patch(&r, &user(), MatchKey::Email).is_empty());
        assert!(state_patch(&r, &user()).is_empty());
    }

    #[test]
    fn dash_clears_and_values_replace() {
        let mut r = row();
        r.title = Cell::Clear;
        r.department = Cell::Set("Sales".into());
        let patch = profile_patch(&r, &user(), MatchKey::Email);
        assert_eq!(patch.fields, [Field::Title, Field::Department]);
        assert_eq!(
            Value::Object(patch.body),
            json!({"title": "", "department": "Sales"})
        );
    }

    #[test]
    fn the_work_phone_is_merged_and_other_contacts_kept() {
        let mut r = row();
        r.phone = Cell::Set("+442079460958".into());
        let patch = profile_patch(&r, &user(), MatchKey::Email);
        assert_eq!(patch.fields, [Field::Phone]);
        assert_eq!(
            patch.body["addresses"],
            json!([
                {"address": "+13175550999", "mediaType": "PHONE", "type": "MOBILE"},
                {"address": "+442079460958", "mediaType": "PHONE", "type": "WORK"}
            ])
        );
        r.phone = Cell::Clear;
        let patch = profile_patch(&r, &user(), MatchKey::Email);
        assert_eq!(
            patch.body["addresses"],
            json!([{"address": "+13175550999", "mediaType": "PHONE", "type": "MOBILE"}])
        );
    }

    #[test]
    fn employer_info_is_merged_whole() {
        let mut r = row();
        r.hire_date = Cell::Set("2026-12-01".into());
        r.employee_id = Cell::Clear;
        let patch = profile_patch(&r, &user(), MatchKey::Email);
        assert_eq!(patch.fields, [Field::EmployeeId, Field::HireDate]);
        assert_eq!(
            patch.body["employerInfo"],
            json!({"officialName": "Ana Q. Souza", "employeeId": "", "dateHire": "2026-12-01"})
        );
    }

    #[test]
    fn email_changes_only_when_matching_by_employee_id() {
        let mut r = row();
        r.email = "ana.new@example.com".into();
        assert!(profile_patch(&r, &user(), MatchKey::Email).is_empty());
        let patch = profile_patch(&r, &user(), MatchKey::EmployeeId);
        assert_eq!(patch.fields, [Field::Email]);
        r.email = "ANA@example.com".into();
        assert!(profile_patch(&r, &user(), MatchKey::EmployeeId).is_empty());
    }

    #[test]
    fn state_goes_alone() {
        let mut r = row();
        r.state = Some(UserState::Inactive);
        r.title = Cell::Set("Lead".into());
        let state = state_patch(&r, &user());
        assert_eq!(Value::Object(state.body), json!({"state": "inactive"}));
        assert!(!profile_patch(&r, &user(), MatchKey::Email)
            .body
            .contains_key("state"));
    }
}
