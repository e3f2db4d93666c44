//! Why this exists: the users resource kind: its columns, the create body
//! a row becomes, and the diff of a row against the user Genesys holds.

pub mod columns;
pub mod create;
pub mod diff;
pub mod export;
pub mod snapshot;

pub use columns::{rating_text, Column, Field};
pub use create::{create_user_body, follow_up_fields};
