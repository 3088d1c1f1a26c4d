//! The toy pack: a protocol made up for a test, to prove that a pack is one folder and one
//! line of the registry (`super::REGISTRY`), with nothing outside its folder naming it.
//!
//! Its protocol, over UDP: a client sends `HELLO <name>` in one datagram, the server
//! answers `HI <NAME>` (the name in capitals). The pack brings each part a pack can:
//!
//! - the server peer a submitted client greets (`greet = {}` on a `listen` step), which
//!   remembers the names it was given;
//! - the judge of that record, `greeted = { name = "ada" }` on an `expect_received` step
//!   ([`expectations`]);
//! - the check of a submitted server, `check = "greet-back"` ([`greet_back`]).
//!
//! [`tests`] writes a kit with a task of this protocol and grades programs of it, right and
//! wrong, through the whole harness. The pack exists only in the harness's own tests.

mod expectations;
mod greet_back;

use std::any::Any;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::{ListenShape, Loaded, OptionsInput, Pack, ServerOptions};
use crate::peers::{DatagramAnswer, ProtocolRecord, ProtocolScript, ProtocolServer, Transport};
use crate::transcript::Direction;

/// The pack, for the registry.
pub(super) const PACK: Pack = Pack {
    key: "greet",
    server: Some(ServerOptions {
        key: "greet",
        load,
        schema: |generator| generator.subschema_for::<GreetScript>(),
        keeps_clear_text: false,
    }),
    expectations: &[expectations::GREETED],
    checks: &[greet_back::KIND],
    client: None,
    setting: None,
    login: None,
};

/// `greet = {}`: the greeting server takes no options.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct GreetScript {}

fn load(input: OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>> {
    let script = GreetScript::deserialize(input.value)?;
    if input.step.transport != Transport::Udp || input.step.reply {
        return Err(
            "`greet` plays a UDP greeting server: `transport = \"udp\"`, no `reply`".into(),
        );
    }
    Ok(Arc::new(script))
}

impl ProtocolScript for GreetScript {
    fn describe(&self) -> String {
        "playing a greeting server that answers `HELLO <name>` with `HI <NAME>`".to_owned()
    }

    fn start(&self, _settings: &crate::settings::RunSettings) -> Arc<dyn ProtocolServer> {
        Arc::new(GreetServer::default())
    }
}

/// The names a greeting server was given, in order.
#[derive(Debug, Default)]
struct Names(Mutex<Vec<String>>);

impl Names {
    fn copy(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl ProtocolRecord for Names {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One running greeting server.
#[derive(Debug, Default)]
struct GreetServer {
    names: Names,
}

impl ProtocolServer for GreetServer {
    fn record(&self) -> &dyn ProtocolRecord {
        &self.names
    }

    fn datagram(&self, datagram: &[u8], answer: &mut DatagramAnswer<'_>) {
        let Some(name) = greeting(datagram) else {
            answer.note(Direction::FromProgram, "not `HELLO <name>`: ignored");
            return;
        };
        self.names
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(name.clone());
        let reply = format!("HI {}", name.to_uppercase()).into_bytes();
        answer.send_after(
            std::time::Duration::ZERO,
            reply,
            "end of datagram".into(),
            |_| {},
        );
    }
}

/// The name of a greeting `HELLO <name>` (a line end after it allowed).
fn greeting(datagram: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(datagram).ok()?.trim_end();
    let name = text.strip_prefix("HELLO ")?;
    (!name.is_empty() && !name.contains(char::is_whitespace)).then(|| name.to_owned())
}

#[cfg(test)]
mod tests;
