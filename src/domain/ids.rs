//! The ids the parts of the service hand each other. Each is its own type, so
//! an organisation's id cannot be passed where a program's is wanted.

use serde::Serialize;

/// An organisation's id. Queries take it first, so none can forget it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct OrgId(pub i64);

impl std::fmt::Display for OrgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
