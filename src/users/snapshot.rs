//! Why this exists: a row works on ONE snapshot of its user, read expanded
//! once. Genesys answers a write with the user without its expand-only
//! fields (employerInfo, locations, skills, groups, authorization...), so
//! an answer is merged into the snapshot, never put in its place: a field
//! the answer holds overwrites, a field it lacks is kept. Whole objects a
//! later PATCH writes back (`addresses`, `employerInfo`, `locations`) are
//! then written from what the user really has.

use serde_json::{Map, Value};

use crate::genesys::users::User;

/// Merges a write's answer (a user object, possibly partial) into `user`.
/// An answer that is not a user object changes only the version (+1 when
/// `bumped`, as a successful write does).
pub fn merge_answer(user: &mut User, answer: &[u8], bumped: bool) {
    let fields: Option<Map<String, Value>> = serde_json::from_slice(answer).ok();
    let parsed = fields
        .as_ref()
        .and_then(|f| serde_json::from_value::<User>(Value::Object(f.clone())).ok());
    let (Some(fields), Some(fresh)) = (fields, parsed) else {
        if bumped {
            user.version = user.version.map(|v| v + 1);
        }
        return;
    };
    let has = |key: &str| fields.get(key).is_some_and(|v| !v.is_null());
    macro_rules! take {
        ($($key:literal => $field:ident),* $(,)?) => {
            $(if has($key) { user.$field = fresh.$field.clone(); })*
        };
    }
    take!(
        "name" => name,
        "email" => email,
        "state" => state,
        "title" => title,
        "department" => department,
        "addresses" => addresses,
        "division" => division,
        "employerInfo" => employer_info,
        "manager" => manager,
        "locations" => locations,
        "skills" => skills,
        "languages" => languages,
        "groups" => groups,
        "authorization" => authorization,
        "dateWelcomeSent" => date_welcome_sent,
    );
    match fresh.version {
        Some(version) if has("version") => user.version = Some(version),
        _ if bumped => user.version = user.version.map(|v| v + 1),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_without_expand_only_fields_keeps_them() {
        let mut user: User = serde_json::from_value(json!({
            "id": "u1", "state": "active", "version": 3, "title": "Agent",
            "employerInfo": {"officialName": "Ana Q. Souza", "employeeId": "E-1"},
            "locations": [{"notes": "desk 4", "locationDefinition": {"id": "lisbon"}}],
            "groups": [{"id": "g1"}]
        }))
        .unwrap();
        let answer = json!({"id": "u1", "state": "inactive", "version": 4, "title": "Lead"});
        merge_answer(&mut user, answer.to_string().as_bytes(), true);
        assert_eq!(user.state.as_deref(), Some("inactive"));
        assert_eq!(user.title.as_deref(), Some("Lead"));
        assert_eq!(user.version, Some(4));
        assert_eq!(user.employer("officialName"), Some("Ana Q. Souza"));
        assert_eq!(user.location_ids(), ["lisbon"]);
        assert_eq!(user.groups.len(), 1);
    }

    #[test]
    fn an_empty_answer_bumps_the_version() {
        let mut user = User {
            id: "u1".into(),
            version: Some(3),
            ..User::default()
        };
        merge_answer(&mut user, b"", true);
        assert_eq!(user.version, Some(4));
    }
}
