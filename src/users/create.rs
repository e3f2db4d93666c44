//! Why this exists: the one place that knows the `POST /api/v2/users` body
//! (`CreateUser` in the Genesys spec). Pure: a validated row and a resolved
//! division id in, a serialisable body out.

use serde::Serialize;

use crate::input::UserRow;
use crate::users::Field;

/// The `CreateUser` request body. Empty optional fields are left out.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CreateUser<'a> {
    pub name: &'a str,
    pub email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub division_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Contact<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<&'a str>,
}

/// A `Contact` entry of `addresses`.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Contact<'a> {
    pub address: &'a str,
    pub media_type: &'static str,
    #[serde(rename = "type")]
    pub contact_type: &'static str,
}

/// Builds the body for one row. `division_id` is the resolved id (the row's
/// own, the `--division` default, or the home division).
pub fn create_user_body<'a>(row: &'a UserRow, division_id: Option<&'a str>) -> CreateUser<'a> {
    CreateUser {
        name: &row.name,
        email: &row.email,
        division_id,
        department: row.department.value().map(String::as_str),
        title: row.title.value().map(String::as_str),
        addresses: row
            .phone
            .value()
            .map(|phone| Contact {
                address: phone,
                media_type: "PHONE",
                contact_type: "WORK",
            })
            .into_iter()
            .collect(),
        state: row.state.map(|s| s.as_api_str()),
        password: row.password.as_ref().map(|p| p.expose()),
    }
}

/// Fields a new user gets in a PATCH after its create (`CreateUser` has no
/// `employerInfo`).
/// An iterator, so the offline path (once a row) allocates nothing.
pub fn follow_up_fields(user: &UserRow) -> impl Iterator<Item = Field> {
    [
        (user.employee_id.value().is_some(), Field::EmployeeId),
        (user.employee_type.value().is_some(), Field::EmployeeType),
        (user.hire_date.value().is_some(), Field::HireDate),
    ]
    .into_iter()
    .filter_map(|(set, field)| set.then_some(field))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Cell, DivisionRef, UserState};
    use serde_json::{json, Value};

    fn schema() -> Value {
        serde_json::from_str(include_str!("../../tests/data/create-user-schema.json")).unwrap()
    }

    fn full_row() -> UserRow {
        UserRow {
            email: "zoë+new@example.com".into(),
            name: "Zoë Ålund".into(),
            division: Some(DivisionRef::Name("Sales".into())),
            department: Cell::Set("Support".into()),
            title: Cell::Set("Agent".into()),
            phone: Cell::Set("+13175550123".into()),
            state: Some(UserState::Inactive),
            password: None,
            employee_id: Cell::Set("E-1".into()),
            employee_type: Cell::Blank,
            hire_date: Cell::Blank,
            ..UserRow::default()
        }
    }

    #[test]
    fn full_row_maps_to_spec_field_names() {
        let row = full_row();
        let body = serde_json::to_value(create_user_body(&row, Some("div-1"))).unwrap();
        assert_eq!(
            body,
            json!({
                "name": "Zoë Ålund",
                "email": "zoë+new@example.com",
                "divisionId": "div-1",
                "department": "Support",
                "title": "Agent",
                "addresses": [{"address": "+13175550123", "mediaType": "PHONE", "type": "WORK"}],
                "state": "inactive"
            })
        );
        let schema = schema();
        let create_user = &schema["CreateUser"]["properties"];
        for key in body.as_object().unwrap().keys() {
            assert!(
                create_user.get(key).is_some(),
                "`{key}` is not a CreateUser field"
            );
        }
        for required in schema["CreateUser"]["required"].as_array().unwrap() {
            assert!(
                body.get(required.as_str().unwrap()).is_some(),
                "missing {required}"
            );
        }
        let contact = &schema["Contact"]["properties"];
        for (key, value) in body["addresses"][0].as_object().unwrap() {
            let field = &contact[key];
            assert!(!field.is_null(), "`{key}` is not a Contact field");
            if let Some(allowed) = field.get("enum") {
                assert!(allowed.as_array().unwrap().contains(value), "{key}={value}");
            }
        }
        let states = create_user["state"]["enum"].as_array().unwrap();
        assert!(states.contains(&body["state"]));
    }

    #[test]
    fn empty_cells_are_omitted() {
        let row = UserRow {
            email: "a@x.com".into(),
            name: "A".into(),
            division: None,
            department: Cell::Clear,
            title: Cell::Blank,
            phone: Cell::Clear,
            state: None,
            password: None,
            employee_id: Cell::Blank,
            employee_type: Cell::Blank,
            hire_date: Cell::Blank,
            ..UserRow::default()
        };
        let body = serde_json::to_value(create_user_body(&row, None)).unwrap();
        assert_eq!(body, json!({"name": "A", "email": "a@x.com"}));
    }
}
