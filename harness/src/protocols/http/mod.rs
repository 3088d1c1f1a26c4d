//! The HTTP pack: the harness as an HTTP origin behind a submitted proxy, and the judge of
//! HTTP responses a submitted web server or proxy sends the harness's connections.
//!
//! - [`origin`]: the origin peer (`origin = { ... }` on `listen`);
//! - [`expectations`] and [`response`]: `http = { status, content_type, body, ... }` on
//!   `expect_received` of a connection.

mod expectations;
mod origin;
mod response;

use super::{Pack, ServerOptions};

/// The pack, for the registry (`super::REGISTRY`).
pub(super) const PACK: Pack = Pack {
    key: "http",
    server: Some(ServerOptions {
        key: "origin",
        load: origin::load,
        schema: |generator| generator.subschema_for::<origin::RawOrigin>(),
        keeps_clear_text: false,
    }),
    expectations: &[expectations::HTTP],
    checks: &[],
    client: None,
    setting: None,
    login: None,
};
