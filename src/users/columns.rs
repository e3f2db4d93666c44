//! Why this exists: the users resource owns its columns once. `COLUMNS` is
//! the one table of a users file's columns (name, the aliases the reader
//! accepts, whether the export writes it) that the reader, `--map`, the
//! diff's `changes` names and the export all use; `Field` is a profile
//! column in docs/results.md's order for `changes`.

/// A column of a users file. Declared in the export's order; the columns the
/// export does not write come last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Email,
    Name,
    Division,
    Department,
    Title,
    Phone,
    State,
    Manager,
    Roles,
    Skills,
    Languages,
    Queues,
    Groups,
    Location,
    EmployeeId,
    EmployeeType,
    HireDate,
    WebrtcPhone,
    Site,
    Password,
    Invite,
}

/// What the table says of one column.
#[derive(Debug)]
pub struct ColumnSpec {
    pub column: Column,
    /// The documented name, written by the export and in messages.
    pub name: &'static str,
    /// Other header names the reader takes for it.
    pub aliases: &'static [&'static str],
    /// Whether `genimport export users` writes it.
    pub exported: bool,
}

const fn spec(
    column: Column,
    name: &'static str,
    aliases: &'static [&'static str],
    exported: bool,
) -> ColumnSpec {
    ColumnSpec {
        column,
        name,
        aliases,
        exported,
    }
}

/// Every users column, in `Column`'s order (a test checks it).
pub const COLUMNS: [ColumnSpec; 21] = [
    spec(Column::Email, "email", &[], true),
    spec(Column::Name, "name", &[], true),
    spec(
        Column::Division,
        "division",
        &["division_id", "divisionid"],
        true,
    ),
    spec(Column::Department, "department", &[], true),
    spec(Column::Title, "title", &[], true),
    spec(Column::Phone, "phone", &["phone_work"], true),
    spec(Column::State, "state", &[], true),
    spec(Column::Manager, "manager", &["manager_email"], true),
    spec(Column::Roles, "roles", &["role"], true),
    spec(Column::Skills, "skills", &["skill"], true),
    spec(Column::Languages, "languages", &["language"], true),
    spec(Column::Queues, "queues", &["queue"], true),
    spec(Column::Groups, "groups", &["group"], true),
    spec(Column::Location, "location", &[], true),
    spec(Column::EmployeeId, "employee_id", &["employeeid"], true),
    spec(
        Column::EmployeeType,
        "employee_type",
        &["employeetype"],
        true,
    ),
    spec(
        Column::HireDate,
        "hire_date",
        &["hiredate", "date_hire"],
        true,
    ),
    spec(Column::WebrtcPhone, "webrtc_phone", &["webrtcphone"], true),
    spec(Column::Site, "site", &[], true),
    spec(Column::Password, "password", &[], false),
    spec(Column::Invite, "invite", &[], false),
];

/// How many users columns there are (for per-column arrays).
pub const COLUMN_COUNT: usize = COLUMNS.len();

impl Column {
    fn spec(self) -> &'static ColumnSpec {
        &COLUMNS[self as usize]
    }

    /// The documented name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The column a (lower-cased, trimmed) header names, by name or alias.
    pub fn from_header(header: &str) -> Option<Column> {
        COLUMNS
            .iter()
            .find(|c| c.name == header || c.aliases.contains(&header))
            .map(|c| c.column)
    }

    /// The columns the export writes, in its order.
    pub fn exported() -> impl Iterator<Item = Column> {
        COLUMNS.iter().filter(|c| c.exported).map(|c| c.column)
    }
}

/// Every users column's name, `, `-joined (for messages such as `--map`'s).
pub fn column_names() -> String {
    COLUMNS
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A profile column, in the documented order for `changes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Name,
    Email,
    Title,
    Department,
    Phone,
    State,
    Division,
    Manager,
    Location,
    EmployeeId,
    EmployeeType,
    HireDate,
}

impl Field {
    /// The column this profile field is read from.
    pub fn column(self) -> Column {
        match self {
            Field::Name => Column::Name,
            Field::Email => Column::Email,
            Field::Title => Column::Title,
            Field::Department => Column::Department,
            Field::Phone => Column::Phone,
            Field::State => Column::State,
            Field::Division => Column::Division,
            Field::Manager => Column::Manager,
            Field::Location => Column::Location,
            Field::EmployeeId => Column::EmployeeId,
            Field::EmployeeType => Column::EmployeeType,
            Field::HireDate => Column::HireDate,
        }
    }

    /// Its name in `changes`: the column's name.
    pub fn as_str(self) -> &'static str {
        self.column().name()
    }
}

/// A rating as docs/provisioning.md writes it: `4`, `2.5`.
pub fn rating_text(rating: f64) -> String {
    if rating.fract() == 0.0 {
        format!("{}", rating as i64)
    } else {
        format!("{rating}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_enums_order_and_names_are_unique() {
        for (index, spec) in COLUMNS.iter().enumerate() {
            assert_eq!(spec.column as usize, index, "{}", spec.name);
            assert_eq!(Column::from_header(spec.name), Some(spec.column));
            for alias in spec.aliases {
                assert_eq!(Column::from_header(alias), Some(spec.column));
            }
        }
        let mut names: Vec<&str> = COLUMNS
            .iter()
            .flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied()))
            .collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "a header names one column");
    }

    #[test]
    fn the_export_writes_the_documented_columns_in_order() {
        let exported: Vec<&str> = Column::exported().map(Column::name).collect();
        assert_eq!(
            exported,
            [
                "email",
                "name",
                "division",
                "department",
                "title",
                "phone",
                "state",
                "manager",
                "roles",
                "skills",
                "languages",
                "queues",
                "groups",
                "location",
                "employee_id",
                "employee_type",
                "hire_date",
                "webrtc_phone",
                "site",
            ]
        );
    }
}
