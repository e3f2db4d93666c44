//! Faults and fidelity for the write-safety tests (tests/integration/write_safety.rs):
//! a member id that poisons every batch holding it, searches that miss,
//! creates answered without an id, PATCHes answered 408 after they were
//! applied, PATCH answers without expand-only fields (as Genesys answers),
//! user placements with their details, and `dateWelcomeSent`.

use serde_json::{json, Map, Value};

/// Knobs of the write-safety faults (all off by default).
#[derive(Debug, Default, Clone)]
pub struct WriteFaults {
    /// A role grant, queue add, group add or role removal
    /// (`roles/{id}/users/remove`) whose batch holds one of these user ids
    /// is refused whole with 400 (like one bad member does).
    pub poison_members: Vec<String>,
    /// The next this-many user searches find nothing (search lag).
    pub blind_searches: u32,
    /// The next this-many creates answer 200 with no `id` in the body.
    pub creates_without_id: u32,
    /// The next this-many user PATCHes are applied, then answered 408.
    pub patch_timeouts: u32,
    /// API writes let through, by method (POST, PATCH, PUT, DELETE);
    /// searches (`POST …/search`) are reads and not counted.
    pub writes_by_method: std::collections::BTreeMap<String, u64>,
}

/// POSTs that only read (a search, the licence inference).
const READING_POSTS: [&str; 2] = ["/search", "/api/v2/license/infer"];

/// Counts a request that reached the API, if it is a write.
pub fn count_write(faults: &mut WriteFaults, method: &str, path: &str) {
    let path = path.trim_end_matches('/');
    if method != "GET" && !READING_POSTS.iter().any(|p| path.ends_with(p)) {
        *faults
            .writes_by_method
            .entry(method.to_string())
            .or_default() += 1;
    }
}

/// Fields a user has only when a read expands them: the PATCH answer
/// leaves them out (as the real API does).
pub const EXPAND_ONLY: [&str; 7] = [
    "employerInfo",
    "locations",
    "skills",
    "languages",
    "groups",
    "authorization",
    "dateWelcomeSent",
];

/// A PATCH answer: the user without its expand-only fields.
pub fn patch_answer(mut user: Value) -> Value {
    if let Value::Object(fields) = &mut user {
        for key in EXPAND_ONLY {
            fields.remove(key);
        }
    }
    user
}

/// A search result: `dateWelcomeSent` only when the search expands it.
pub fn search_result(mut user: Value, request: &Value) -> Value {
    let expanded = request["expand"]
        .as_array()
        .is_some_and(|e| e.iter().any(|x| x == "dateWelcomeSent"));
    if let (false, Value::Object(fields)) = (expanded, &mut user) {
        fields.remove("dateWelcomeSent");
    }
    user
}

/// `UpdateUser.locations` as stored and read back: each placement keeps
/// what was sent (notes, coordinates, floor plan) and names its location
/// in `locationDefinition`.
pub fn placements(value: &Value) -> Value {
    let list = value
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| {
                    let mut placement: Map<String, Value> =
                        l.as_object().cloned().unwrap_or_default();
                    let id = l["locationDefinition"]["id"]
                        .as_str()
                        .or(l["id"].as_str())
                        .unwrap_or("")
                        .to_string();
                    placement.insert("locationDefinition".into(), json!({"id": id}));
                    Value::Object(placement)
                })
                .collect()
        })
        .unwrap_or_default();
    Value::Array(list)
}

/// The poisoned member of `ids`, if any.
pub fn poisoned(faults: &WriteFaults, ids: &[String]) -> Option<String> {
    ids.iter()
        .find(|id| faults.poison_members.contains(id))
        .cloned()
}
