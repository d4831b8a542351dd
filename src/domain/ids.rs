//! The ids the parts of the service hand each other. Each is its own type, so
//! a program's id cannot be passed where a participant's is wanted: a
//! swapped argument does not compile. They serialise as the number they wrap.

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        /// From the number in a path, a form or a button's value.
        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    };
}

id!(
    /// An organisation's id. Queries take it first, so none can forget it.
    OrgId
);
id!(
    /// A program's id (programs are named by their key outside).
    ProgramId
);
id!(
    /// A participant's id: one person's enrolment in one program.
    ParticipantId
);
id!(
    /// A person's id in an organisation (participant, manager, sponsor).
    PersonId
);
id!(
    /// A planned message's id.
    JobId
);
