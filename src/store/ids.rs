//! The domain's ids as database values: each binds and reads as the integer
//! it wraps, so a query takes `ProgramId` where it means a program.

use crate::domain::ids::{JobId, OrgId, ParticipantId, PersonId, ProgramId};
use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Any, Database, Decode, Encode, Type};

macro_rules! integer_id {
    ($($id:ident),*) => {$(
        impl Type<Any> for $id {
            fn type_info() -> AnyTypeInfo {
                <i64 as Type<Any>>::type_info()
            }
            fn compatible(ty: &AnyTypeInfo) -> bool {
                <i64 as Type<Any>>::compatible(ty)
            }
        }

        impl<'q> Encode<'q, Any> for $id {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                <i64 as Encode<'q, Any>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> Decode<'r, Any> for $id {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(Self(<i64 as Decode<'r, Any>>::decode(value)?))
            }
        }
    )*};
}

integer_id!(OrgId, ProgramId, ParticipantId, PersonId, JobId);
