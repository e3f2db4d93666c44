//! Why this exists: the users resource owns its columns once: the profile
//! columns as `Field` (the `changes` names, in docs/results.md's order) and how
//! a rating is written, for the reader, the diff, the plans and export.

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
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Email => "email",
            Field::Title => "title",
            Field::Department => "department",
            Field::Phone => "phone",
            Field::State => "state",
            Field::Division => "division",
            Field::Manager => "manager",
            Field::Location => "location",
            Field::EmployeeId => "employee_id",
            Field::EmployeeType => "employee_type",
            Field::HireDate => "hire_date",
        }
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
