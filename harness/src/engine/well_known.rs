//! The task's well-known ports (`smtp.example.com:587`, IMAPS on 993) and the stand-ins
//! that serve them, or a port a client hard-codes, in the scenario's small internet.

use super::*;

/// The well-known ports of protocols that start with a TLS handshake: SMTP submission
/// (RFC 8314), FTPS (RFC 4217 §1: the port implicit FTPS clients use), IMAPS and POP3S.
const IMPLICIT_TLS_PORTS: [u16; 4] = [465, 990, 993, 995];

impl Run<'_> {
    /// A client `name` that hard-codes port `fixed` finds the harness listening there,
    /// passing everything on to `target` at `address` (see `crate::peers::stand_in`). With
    /// network namespaces it gets one of its own, so `fixed` is free there even when the
    /// submission's server holds it in the scenario's; the task's well-known ports and the
    /// harness's DNS are served there too. Returns the namespace to run it in.
    ///
    /// Without `fixed` (the client is told where to connect), only the well-known ports are
    /// served, in the scenario's own namespace, once per scenario.
    pub(super) fn stand_in(
        &mut self,
        name: &str,
        target: &str,
        fixed: Option<u16>,
        (host, port): (&str, u16),
    ) -> StepResult<Option<Arc<Namespace>>> {
        let address: std::net::SocketAddr = (
            host.parse::<std::net::IpAddr>()
                .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()),
            port,
        )
            .into();
        let own_namespace = fixed.is_some() && self.settings.namespace_per_scenario();
        let mut routes: Vec<(u16, std::net::SocketAddr)> =
            fixed.into_iter().map(|fixed| (fixed, address)).collect();
        let well_known: Vec<(u16, std::net::SocketAddr)> = self
            .well_known_ports_to_serve(target, port)
            .into_iter()
            .filter(|(known, _)| Some(*known) != fixed && *known != port)
            .map(|(known, to)| (known, std::net::SocketAddr::new(address.ip(), to)))
            .collect();
        for (known, to) in well_known {
            match self.internet.well_known_served.get(&known) {
                // In the scenario's namespace, each port once: it leads to the peer of
                // the latest client (a second run pointed at another peer).
                Some(&index) if !own_namespace && fixed.is_none() => {
                    self.retarget_stand_in((index, known), to, (name, target));
                }
                Some(_) if !own_namespace => {}
                _ if own_namespace || fixed.is_none() => routes.push((known, to)),
                _ => {}
            }
        }
        if routes.is_empty() {
            return Ok(None);
        }
        let ports: Vec<u16> = routes.iter().map(|(known, _)| *known).collect();
        let shown = ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let stand_in = StandIn::start(&routes, own_namespace).map_err(|error| {
            StepFailure {
                status: Status::Error,
                expected: match fixed {
                    Some(fixed) => format!(
                        "the harness to listen on port {fixed}, which {name} hard-codes (submission.toml)"
                    ),
                    None => format!("the harness to listen on the task's well-known ports ({shown})"),
                },
                seen: if own_namespace || fixed.is_none() {
                    format!("it could not: {error}")
                } else {
                    format!(
                        "it could not: {error} (without network namespaces the client shares this machine's loopback, where something already holds port {shown}, such as the submission's own server)"
                    )
                },
                diff: None,
            }
        })?;
        let namespace = stand_in.namespace.clone();
        match fixed {
            Some(fixed) => {
                let also = match &ports[1..] {
                    [] => String::new(),
                    known => format!(
                        "; and on the task's well-known ports ({})",
                        known
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.note(format!(
                    "{name} hard-codes port {fixed}: the harness listens there for it{} and passes everything on to {target}{also}",
                    if own_namespace {
                        " (in a network namespace of the client's own, with the harness's DNS)"
                    } else {
                        ""
                    }
                ))
            }
            None => {
                let index = self.stand_ins.len();
                self.internet
                    .well_known_served
                    .extend(ports.iter().map(|port| (*port, index)));
                self.note(format!(
                    "the harness listens on the task's well-known ports ({shown}) and passes everything on to {target}"
                ));
            }
        }
        if let Some(namespace) = &namespace {
            self.start_dns(Some(namespace));
        }
        self.name_stand_in(name, target, fixed.is_some());
        self.stand_ins.push(stand_in);
        Ok(namespace)
    }

    /// The task's well-known ports a client pointed at `target` may use instead, each with
    /// the peer's port it leads to (see [`Run::well_known_ports_of`]), where this run
    /// serves them (its scenarios have network namespaces of their own); none without a
    /// small internet.
    pub(super) fn well_known_ports_to_serve(&self, target: &str, port: u16) -> Vec<(u16, u16)> {
        if !self.has_own_internet() {
            return Vec::new();
        }
        self.well_known_ports_of(target, port)
    }

    /// The task's well-known ports for a client pointed at `target`, each with the port of
    /// the peer it leads to, whether or not this run has a small internet: those of
    /// implicit TLS (465, 990, 993, 995) lead to the peer's port of TLS from the first byte (its
    /// own, or the second one it opens: `ProtocolScript::tls_port_too`), so a client that
    /// always speaks TLS there meets TLS in every scenario; the others to its own port when
    /// it speaks in clear or offers STARTTLS. (A peer in clear could answer a handshake
    /// only with nonsense, and a client in clear would get a handshake from a peer of TLS.)
    /// `port`: where `target` is reached (a relay or a program: the scenario's bytes,
    /// in clear).
    pub(super) fn well_known_ports_of(&self, target: &str, port: u16) -> Vec<(u16, u16)> {
        let peer = self.servers.get(target);
        let tls_first = peer.is_some_and(|peer| peer.tls_from_first_byte);
        let tls_port = peer.and_then(|peer| peer.tls_port);
        self.scenario
            .well_known_ports
            .iter()
            .filter_map(|known| {
                let to = match (IMPLICIT_TLS_PORTS.contains(known), tls_first) {
                    (true, true) | (false, false) => Some(port),
                    (true, false) => tls_port,
                    (false, true) => None,
                };
                Some((*known, to?))
            })
            .collect()
    }
}
