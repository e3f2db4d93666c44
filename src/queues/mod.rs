//! Why this exists: the queues resource kind owns its columns once: the
//! create body a row becomes, how a row's cells are written into a whole
//! queue (Genesys replaces a queue on PUT, so a sparse body would wipe its
//! settings), and the contract's column order for `changes`.

pub mod export;

use serde_json::{json, Map, Value};

use crate::input::queues::QueueRow;

/// The `CreateQueueRequest` of a row.
pub fn create_body(row: &QueueRow, division_id: Option<&str>, copy_from: Option<&str>) -> Value {
    let mut body = Value::Object(Map::new());
    body["name"] = json!(row.name);
    if let Some(id) = division_id {
        body["division"] = json!({"id": id});
    }
    if let Some(source) = copy_from {
        body["sourceQueueId"] = json!(source);
    }
    apply_row(row, &mut body);
    body
}

/// Writes the row's non-blank cells into a queue body; the columns whose
/// value changed. Everything else in the body is kept as it is.
pub fn apply_row(row: &QueueRow, queue: &mut Value) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let mut set = |pointer: &str, value: Value, column: &'static str| {
        if queue.pointer(pointer) != Some(&value) {
            ensure_path(queue, pointer);
            if let Some(slot) = queue.pointer_mut(pointer) {
                *slot = value;
            }
            if !changed.contains(&column) {
                changed.push(column);
            }
        }
    };
    if let Some(v) = &row.description {
        set("/description", json!(v), "description");
    }
    if let Some(v) = &row.skill_evaluation {
        set("/skillEvaluationMethod", json!(v), "skill_evaluation");
    }
    if let Some(v) = &row.acw {
        set("/acwSettings/wrapupPrompt", json!(v), "acw");
    }
    if let Some(s) = row.acw_timeout_s {
        set(
            "/acwSettings/timeoutMs",
            json!(u64::from(s) * 1000),
            "acw_timeout_s",
        );
    }
    if let Some(s) = row.alerting_timeout_s {
        set(
            "/mediaSettings/call/alertingTimeoutSeconds",
            json!(s),
            "alerting_timeout_s",
        );
    }
    if let Some(v) = &row.calling_party_name {
        set("/callingPartyName", json!(v), "calling_party_name");
    }
    if let Some(v) = &row.calling_party_number {
        set("/callingPartyNumber", json!(v), "calling_party_number");
    }
    changed
}

/// Creates the objects along a JSON pointer (the leaf as null) so it can be set.
fn ensure_path(value: &mut Value, pointer: &str) {
    let mut at = value;
    for part in pointer.trim_start_matches('/').split('/') {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(map) = at else { return };
        at = map.entry(part.to_string()).or_insert(Value::Null);
    }
}

/// The contract's order of queue columns, for `changes`.
pub fn column_rank(column: &str) -> u8 {
    const ORDER: [&str; 8] = [
        "division",
        "description",
        "skill_evaluation",
        "acw",
        "acw_timeout_s",
        "alerting_timeout_s",
        "calling_party_name",
        "calling_party_number",
    ];
    ORDER
        .iter()
        .position(|c| *c == column)
        .unwrap_or(ORDER.len()) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_changes_only_its_cells_and_keeps_the_rest() {
        let row = QueueRow {
            name: "Support".into(),
            description: Some("Tier 1".into()),
            acw: Some("MANDATORY_TIMEOUT".into()),
            acw_timeout_s: Some(30),
            alerting_timeout_s: Some(8),
            ..QueueRow::default()
        };
        let mut queue = json!({
            "id": "q1", "name": "Support", "description": "Tier 1",
            "acwSettings": {"wrapupPrompt": "OPTIONAL"},
            "mediaSettings": {"call": {"alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8}}},
            "bullseye": {"rings": [{"expansionTimeoutSeconds": 15}]}
        });
        let changed = apply_row(&row, &mut queue);
        assert_eq!(changed, ["acw", "acw_timeout_s"]);
        assert_eq!(
            queue["acwSettings"],
            json!({"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000})
        );
        assert_eq!(queue["bullseye"]["rings"][0]["expansionTimeoutSeconds"], 15);
        assert_eq!(
            queue["mediaSettings"]["call"]["serviceLevel"]["percentage"],
            0.8
        );
        assert!(
            apply_row(&row, &mut queue).is_empty(),
            "applied: nothing more to change"
        );
    }
}
