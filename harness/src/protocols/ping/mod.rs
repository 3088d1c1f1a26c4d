//! The ping pack: the harness as a UDP ping server that a submitted ping client talks to,
//! dropping and delaying pings on a script, and the judge of the client's report against
//! what it did.
//!
//! - [`server`]: the peer, which answers each ping uppercased, unless the script drops it,
//!   and remembers each ping's fate;
//! - [`expectations`] and [`report`]: `ping_report = { server, count }` on a ping
//!   client's `expect_stdout`;
//! - [`loss_check`]: the `ping-loss` check, the harness as the client of a submitted ping
//!   server;
//! - [`line`]: the lab's ping datagram, which the server and the check both read.
//!
//! ```toml
//! [[step]]
//! listen = "pinger"
//! transport = "udp"
//! ping = { drop = [3], delay = [{ ping = 5, ms = 300 }] }
//! ```

mod expectations;
mod line;
mod loss_check;
mod report;
mod server;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{ListenShape, Loaded, OptionsInput, Pack, ServerOptions};
use crate::peers::{ProtocolScript, ProtocolServer, Transport};

/// The pack, for the registry (`super::REGISTRY`).
pub(super) const PACK: Pack = Pack {
    key: "ping",
    server: Some(ServerOptions {
        key: "ping",
        load,
        schema: |generator| generator.subschema_for::<PingScript>(),
        keeps_clear_text: false,
    }),
    expectations: &[expectations::PING_REPORT],
    checks: &[loss_check::KIND],
    client: None,
    setting: None,
    login: None,
};

/// How a scripted ping server treats the pings (`Ping <seq> <time>`) it receives: it
/// answers each with the ping uppercased, except the ones it drops, and some late.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PingScript {
    /// Sequence numbers never answered.
    #[serde(default)]
    pub drop: Vec<u64>,
    /// Sequence numbers answered after a delay.
    #[serde(default)]
    pub delay: Vec<PingDelay>,
}

/// One delayed answer.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PingDelay {
    /// The ping's sequence number.
    pub ping: u64,
    /// How long after the ping the answer leaves.
    pub ms: u64,
}

impl PingScript {
    /// What happens to ping `seq`: `None` if dropped, else the delay of its answer.
    pub(super) fn fate(&self, seq: u64) -> Option<Duration> {
        if self.drop.contains(&seq) {
            return None;
        }
        let delay = self.delay.iter().find(|delay| delay.ping == seq);
        Some(Duration::from_millis(delay.map_or(0, |delay| delay.ms)))
    }
}

/// Checks that a ping server goes with the rest of its `listen` step.
fn load(input: OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>> {
    let script = PingScript::deserialize(input.value)?;
    if input.step.transport != Transport::Udp || input.step.reply {
        return Err(
            "`ping` scripts a UDP ping server: it needs `transport = \"udp\"` and no `reply`"
                .into(),
        );
    }
    Ok(Arc::new(script))
}

impl ProtocolScript for PingScript {
    fn describe(&self) -> String {
        let mut parts = vec!["playing a ping server that answers pings uppercased".to_owned()];
        if !self.drop.is_empty() {
            let dropped: Vec<String> = self.drop.iter().map(u64::to_string).collect();
            parts.push(format!("drops {}", dropped.join(", ")));
        }
        for delay in &self.delay {
            parts.push(format!("answers {} after {} ms", delay.ping, delay.ms));
        }
        parts.join("; ")
    }

    fn start(&self, _settings: &crate::settings::RunSettings) -> Arc<dyn ProtocolServer> {
        Arc::new(server::PingServer::new(self.clone()))
    }
}
