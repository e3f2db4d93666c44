//! Why this exists: the queues resource kind owns its columns once: the
//! create body a row becomes, how a row's cells are written into a whole
//! queue (Genesys replaces a queue on PUT, so a sparse body would wipe its
//! settings), and the documented column order for `changes`.

pub mod columns;
pub mod export;

use serde_json::{json, Map, Value};

use crate::input::queues::QueueRow;
use columns::pointer_of;

pub use columns::column_rank;

/// A cell that clears its field (docs/queues.md): never written as text.
const CLEAR: &str = "-";

/// The row's non-blank cells: (column, value), `None` for a cell that clears.
fn cells(row: &QueueRow) -> Vec<(&'static str, Option<Value>)> {
    let text = |v: &Option<String>| v.as_ref().map(|v| (v.trim() != CLEAR).then(|| json!(v)));
    let mut cells = Vec::new();
    let mut push = |column, value: Option<Option<Value>>| {
        if let Some(value) = value {
            cells.push((column, value));
        }
    };
    push("description", text(&row.description));
    push(
        "skill_evaluation",
        row.skill_evaluation.as_ref().map(|v| Some(json!(v))),
    );
    push("acw", row.acw.as_ref().map(|v| Some(json!(v))));
    push(
        "acw_timeout_s",
        row.acw_timeout_s.map(|s| Some(json!(u64::from(s) * 1000))),
    );
    push(
        "alerting_timeout_s",
        row.alerting_timeout_s.map(|s| Some(json!(s))),
    );
    push("calling_party_name", text(&row.calling_party_name));
    push("calling_party_number", text(&row.calling_party_number));
    cells
}

/// The `CreateQueueRequest` of a row; a clearing cell is left out.
pub fn create_body(row: &QueueRow, division_id: Option<&str>, copy_from: Option<&str>) -> Value {
    let mut body = Value::Object(Map::new());
    body["name"] = json!(row.name);
    if let Some(id) = division_id {
        body["division"] = json!({"id": id});
    }
    if let Some(source) = copy_from {
        body["sourceQueueId"] = json!(source);
    }
    for (column, value) in cells(row) {
        if let (Some(value), Some(pointer)) = (value, pointer_of(column)) {
            set(&mut body, pointer, value);
        }
    }
    body
}

/// Writes the row's non-blank cells into a queue body (a `-` removes the
/// field: the whole body is sent, so what it lacks is cleared); the columns
/// whose value changed. Everything else in the body is kept as it is.
pub fn apply_row(row: &QueueRow, queue: &mut Value) -> Vec<&'static str> {
    let mut changed = Vec::new();
    for (column, value) in cells(row) {
        let Some(pointer) = pointer_of(column) else {
            continue;
        };
        if write(queue, pointer, value) {
            changed.push(column);
        }
    }
    changed
}

/// Writes the planned value of each `changed` column (as it stands in
/// `planned`, the body the preflight built; absent: cleared) into `fresh`,
/// the queue as read just before the PUT; the columns that still differ.
/// Everything else keeps the fresh value, so a setting someone changed
/// during the run is not overwritten.
pub fn reapply(planned: &Value, changed: &[&'static str], fresh: &mut Value) -> Vec<&'static str> {
    let mut still = Vec::new();
    for column in changed {
        let Some(pointer) = pointer_of(column) else {
            continue;
        };
        let value = planned.pointer(pointer).filter(|v| !is_clear(v)).cloned();
        if write(fresh, pointer, value) {
            still.push(*column);
        }
    }
    still
}

/// Sets (`Some`) or removes (`None`) the field at `pointer`; whether the
/// body changed. A field that is absent, null or empty counts as cleared.
fn write(queue: &mut Value, pointer: &str, value: Option<Value>) -> bool {
    match value {
        Some(value) if queue.pointer(pointer) != Some(&value) => {
            set(queue, pointer, value);
            true
        }
        Some(_) => false,
        None if queue.pointer(pointer).is_some_and(|v| !is_clear(v)) => {
            remove(queue, pointer);
            true
        }
        None => false,
    }
}

fn is_clear(value: &Value) -> bool {
    value.is_null() || value.as_str() == Some("")
}

fn set(queue: &mut Value, pointer: &str, value: Value) {
    ensure_path(queue, pointer);
    if let Some(slot) = queue.pointer_mut(pointer) {
        *slot = value;
    }
}

/// Removes the field at a JSON pointer, if it is there.
fn remove(queue: &mut Value, pointer: &str) {
    let Some((parent, leaf)) = pointer.rsplit_once('/') else {
        return;
    };
    let parent = if parent.is_empty() {
        Some(queue)
    } else {
        queue.pointer_mut(parent)
    };
    if let Some(Value::Object(map)) = parent {
        map.remove(leaf);
    }
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

    #[test]
    fn a_dash_removes_the_field_and_is_left_out_of_a_create() {
        let row = QueueRow {
            name: "Support".into(),
            description: Some("-".into()),
            calling_party_number: Some("-".into()),
            ..QueueRow::default()
        };
        assert_eq!(create_body(&row, None, None), json!({"name": "Support"}));
        let mut queue = json!({"description": "Old", "callingPartyNumber": "", "x": 1});
        assert_eq!(apply_row(&row, &mut queue), ["description"]);
        assert_eq!(queue, json!({"callingPartyNumber": "", "x": 1}));
    }

    #[test]
    fn reapply_writes_only_the_changed_columns_into_the_fresh_queue() {
        let planned = json!({"description": "New", "enableTranscription": true,
            "acwSettings": {"wrapupPrompt": "OPTIONAL"}});
        let mut fresh = json!({"description": "Old", "enableTranscription": false,
            "acwSettings": {"wrapupPrompt": "MANDATORY"}, "callingPartyName": "Acme"});
        let changed = reapply(&planned, &["description", "calling_party_name"], &mut fresh);
        assert_eq!(changed, ["description", "calling_party_name"]);
        assert_eq!(
            fresh,
            json!({"description": "New", "enableTranscription": false,
                "acwSettings": {"wrapupPrompt": "MANDATORY"}})
        );
    }
}
