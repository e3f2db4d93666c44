//! Why this exists: the queues resource owns its columns once. `COLUMNS` is
//! the one table of a queues file's columns (name, the aliases the reader
//! accepts, whether the export writes it, where it lives in a queue body)
//! that the reader, `--map`, `changes` and the export all use.

/// A column of a queues file, in the documented order (docs/queues.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueColumn {
    Name,
    Division,
    Description,
    SkillEvaluation,
    Acw,
    AcwTimeout,
    AlertingTimeout,
    WrapupCodes,
    CopyFrom,
    CallingPartyName,
    CallingPartyNumber,
}

/// What the table says of one column.
#[derive(Debug)]
pub struct QueueColumnSpec {
    pub column: QueueColumn,
    /// The documented name, written by the export and in `changes`.
    pub name: &'static str,
    /// Other header names the reader takes for it.
    pub aliases: &'static [&'static str],
    /// Whether `genimport export queues` writes it (a queue that exists was
    /// not copied from anything the export can tell).
    pub exported: bool,
    /// Where a plain setting lives in a queue body (JSON pointer).
    pub pointer: Option<&'static str>,
}

const fn spec(
    column: QueueColumn,
    name: &'static str,
    aliases: &'static [&'static str],
    exported: bool,
    pointer: Option<&'static str>,
) -> QueueColumnSpec {
    QueueColumnSpec {
        column,
        name,
        aliases,
        exported,
        pointer,
    }
}

/// Every queues column, in `QueueColumn`'s order (a test checks it).
pub const COLUMNS: [QueueColumnSpec; 11] = [
    spec(
        QueueColumn::Name,
        "name",
        &["queue", "queue_name"],
        true,
        None,
    ),
    spec(
        QueueColumn::Division,
        "division",
        &["division_id", "divisionid"],
        true,
        None,
    ),
    spec(
        QueueColumn::Description,
        "description",
        &[],
        true,
        Some("/description"),
    ),
    spec(
        QueueColumn::SkillEvaluation,
        "skill_evaluation",
        &[],
        true,
        Some("/skillEvaluationMethod"),
    ),
    spec(
        QueueColumn::Acw,
        "acw",
        &[],
        true,
        Some("/acwSettings/wrapupPrompt"),
    ),
    spec(
        QueueColumn::AcwTimeout,
        "acw_timeout_s",
        &[],
        true,
        Some("/acwSettings/timeoutMs"),
    ),
    spec(
        QueueColumn::AlertingTimeout,
        "alerting_timeout_s",
        &[],
        true,
        Some("/mediaSettings/call/alertingTimeoutSeconds"),
    ),
    spec(
        QueueColumn::WrapupCodes,
        "wrapup_codes",
        &["wrapup_code"],
        true,
        None,
    ),
    spec(QueueColumn::CopyFrom, "copy_from", &[], false, None),
    spec(
        QueueColumn::CallingPartyName,
        "calling_party_name",
        &[],
        true,
        Some("/callingPartyName"),
    ),
    spec(
        QueueColumn::CallingPartyNumber,
        "calling_party_number",
        &[],
        true,
        Some("/callingPartyNumber"),
    ),
];

/// How many queues columns there are (for per-column arrays).
pub const QUEUE_COLUMN_COUNT: usize = COLUMNS.len();

impl QueueColumn {
    fn spec(self) -> &'static QueueColumnSpec {
        &COLUMNS[self as usize]
    }

    /// The documented name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The column a (lower-cased, trimmed) header names, by name or alias.
    pub fn from_header(header: &str) -> Option<QueueColumn> {
        COLUMNS
            .iter()
            .find(|c| c.name == header || c.aliases.contains(&header))
            .map(|c| c.column)
    }
}

/// Where the column named `column` lives in a queue body, if it is a plain
/// setting.
pub fn pointer_of(column: &str) -> Option<&'static str> {
    COLUMNS
        .iter()
        .find(|c| c.name == column)
        .and_then(|c| c.pointer)
}

/// The export's header: the columns it writes, in the documented order (docs/queues.md).
pub fn exported_columns() -> Vec<&'static str> {
    COLUMNS
        .iter()
        .filter(|c| c.exported)
        .map(|c| c.name)
        .collect()
}

/// The documented order of queue columns, for `changes`.
pub fn column_rank(column: &str) -> u8 {
    COLUMNS
        .iter()
        .position(|c| c.name == column)
        .unwrap_or(COLUMNS.len()) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_enums_order() {
        for (index, spec) in COLUMNS.iter().enumerate() {
            assert_eq!(spec.column as usize, index, "{}", spec.name);
            assert_eq!(QueueColumn::from_header(spec.name), Some(spec.column));
            for alias in spec.aliases {
                assert_eq!(QueueColumn::from_header(alias), Some(spec.column));
            }
        }
    }
}
