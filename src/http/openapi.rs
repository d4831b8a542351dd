//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Momentum admin API", description = "Programs, participants and completed sessions. Tokens are per organisation, with scope `admin` or `sessions:write`, for the whole organisation or some programs (`momentum token create --programs`)."),
    paths(
        super::api::list_programs,
        super::api::apply_program,
        super::api::get_program,
        super::api::list_participants,
        super::api::delivery,
        super::api::aggregates,
        super::api::record_session,
        super::api::erase,
        super::api::audit_log,
        super::api::list_org_admins,
        super::api::grant_org_admin,
        super::api::record_group_session,
        super::api::own_schedule,
        super::api::set_own_schedule,
        super::api::import_schedule,
        super::api::import_bookings,
        super::api::revoke_org_admin,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
