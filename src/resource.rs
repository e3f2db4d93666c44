//! Why this exists: what a file (or an export) holds, users or queues; one
//! value that the reader, the results writer, the summary and the commands
//! match on (a `bool` stood here before).

/// The kind of object a file's rows describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resource {
    #[default]
    Users,
    Queues,
}

impl Resource {
    /// The plural noun, as the summary and the logs say it.
    pub fn noun(self) -> &'static str {
        match self {
            Resource::Users => "users",
            Resource::Queues => "queues",
        }
    }
}
