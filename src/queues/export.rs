//! Why this exists: one whole Genesys queue becomes one row in the queues
//! file's columns (all but `copy_from`), so `genimport queues FILE
//! --update` reads it back to the same queue. Pure: no I/O.

use std::collections::HashMap;

use serde_json::Value;

use crate::users::export::list;

/// The export's columns: the queues file's, without `copy_from` (a queue
/// that exists was not copied from anything the export can tell).
pub fn columns() -> Vec<&'static str> {
    super::columns::exported_columns()
}

/// The after-call-work kinds that take a timeout.
const TIMED_ACW: [&str; 3] = [
    "MANDATORY_TIMEOUT",
    "MANDATORY_FORCED_TIMEOUT",
    "AGENT_REQUESTED",
];

/// The row of one queue; `wrapups` are the names of its wrap-up codes.
pub fn queue_row(
    queue: &Value,
    divisions: &HashMap<String, String>,
    wrapups: &[String],
) -> Vec<String> {
    let text = |pointer: &str| match queue.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let division_id = text("/division/id");
    let division = divisions.get(&division_id).cloned().unwrap_or(division_id);
    let acw = text("/acwSettings/wrapupPrompt");
    let acw_timeout = match queue
        .pointer("/acwSettings/timeoutMs")
        .and_then(Value::as_u64)
    {
        Some(ms) if TIMED_ACW.contains(&acw.as_str()) => (ms / 1000).to_string(),
        _ => String::new(),
    };
    vec![
        text("/name"),
        division,
        text("/description"),
        text("/skillEvaluationMethod"),
        acw,
        acw_timeout,
        text("/mediaSettings/call/alertingTimeoutSeconds"),
        list(wrapups.iter().cloned()),
        text("/callingPartyName"),
        text("/callingPartyNumber"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_queue_becomes_its_row() {
        let queue = json!({
            "id": "q1", "name": "Support", "division": {"id": "d1"}, "description": "=tier 1",
            "skillEvaluationMethod": "BEST",
            "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000},
            "mediaSettings": {"call": {"alertingTimeoutSeconds": 8}}
        });
        let divisions = HashMap::from([("d1".to_string(), "Home".to_string())]);
        let row = queue_row(&queue, &divisions, &["Sale".into(), "Callback".into()]);
        assert_eq!(
            row,
            [
                "Support",
                "Home",
                "=tier 1",
                "BEST",
                "MANDATORY_TIMEOUT",
                "30",
                "8",
                "Callback; Sale",
                "",
                ""
            ]
        );
    }
}
