//! The scenario's small internet, from the engine's side (see
//! `crate::world::real::internet`): the DNS pack started in every network namespace of the
//! scenario, and what reached the harness by a name or an address a program hard-codes
//! (the names it looked up, the addresses it connected to) shown in the step log.

use super::*;
use crate::peers::dns::{DNS_PORT, DnsServer, QueryLog, Zone};

/// The DNS servers of one scenario and what they and the stand-ins saw.
pub(super) struct Internet {
    /// What every server of the scenario answers.
    zone: Arc<Zone>,
    /// Every question, from every namespace of the scenario.
    queries: QueryLog,
    servers: Vec<DnsServer>,
    /// For each stand-in of the run (in order): whom it serves.
    stand_ins: Vec<StandInFor>,
    /// The task's well-known ports served in the scenario's own namespace so far, each
    /// with the stand-in that holds it (its index): it leads to the peer of the latest
    /// client pointed at a peer that speaks its way.
    pub(super) well_known_served: BTreeMap<u16, usize>,
    /// On a shared loopback, for a scenario whose programs ask the system's resolver: the
    /// port the DNS listens on, where the interposed library sends what they send to 53.
    pub(super) moved_dns_port: Option<u16>,
    /// Why the scenario's DNS could not listen, if it could not: a failure of the scenario
    /// is then the harness's, names not resolving (see `Run::dns_trouble`).
    trouble: Option<String>,
}

/// Whom a stand-in serves, for the step log.
#[derive(Debug)]
struct StandInFor {
    /// The client it was started for.
    client: String,
    /// Where it passes connections on.
    target: String,
    /// The client hard-codes its port (else it serves only well-known ports).
    fixed_port: bool,
    /// Its well-known ports that lead elsewhere since: for which client, to which target.
    retargeted: BTreeMap<u16, (String, String)>,
}

impl Internet {
    /// The small internet of `scenario`: its DNS knows the standard zone and the master
    /// files the scenario names (read when it was loaded).
    pub(super) fn new(scenario: &Scenario) -> Internet {
        Internet {
            zone: scenario
                .zone
                .clone()
                .unwrap_or_else(|| Arc::new(Zone::standard())),
            queries: QueryLog::default(),
            servers: Vec::new(),
            stand_ins: Vec::new(),
            well_known_served: Default::default(),
            moved_dns_port: None,
            trouble: None,
        }
    }
}

impl Run<'_> {
    /// Whether this run has a small internet of its own: real processes, each scenario in
    /// its own network namespace. On a shared loopback, port 53 and the well-known ports
    /// are the machine's, and the harness leaves them alone.
    pub(super) fn has_own_internet(&self) -> bool {
        matches!(self.world, World::Real(_)) && self.settings.namespace_per_scenario()
    }

    /// Starts the DNS in the scenario's namespace (the calling thread's), when it has one;
    /// on a shared loopback, for a scenario whose programs ask the system's resolver, on a
    /// fresh port, to which the interposed library moves their queries to port 53 (see
    /// `Run::start_program`).
    pub(super) fn start_internet(&mut self) {
        if self.has_own_internet() {
            self.start_dns(None);
        } else if matches!(self.world, World::Real(_)) && self.scenario.zone.is_some() {
            let zone = Arc::clone(&self.internet.zone);
            let started = self
                .fresh_port()
                .map_err(|failure| failure.seen)
                .and_then(|port| {
                    DnsServer::start(port, None, zone, self.internet.queries.clone())
                        .map(|server| (port, server))
                        .map_err(|error| error.to_string())
                });
            match started {
                Ok((port, server)) => {
                    self.internet.servers.push(server);
                    self.internet.moved_dns_port = Some(port);
                }
                Err(error) => {
                    self.dns_failed(format!("the harness's DNS could not listen: {error}"))
                }
            }
        }
    }

    /// Starts a DNS server in `namespace` (`None`: the scenario's), sharing the scenario's
    /// zone and record of queries. A failure is noted: a program that looks nothing up
    /// does not need it.
    pub(super) fn start_dns(&mut self, namespace: Option<&Namespace>) {
        let zone = Arc::clone(&self.internet.zone);
        match DnsServer::start(DNS_PORT, namespace, zone, self.internet.queries.clone()) {
            Ok(server) => self.internet.servers.push(server),
            Err(error) => self.dns_failed(format!(
                "the harness's DNS could not listen on port {DNS_PORT}: {error}"
            )),
        }
    }

    /// The scenario's DNS could not listen (`why`): noted, and kept, since a program that
    /// looks a name up then fails for the harness's want, not its own.
    fn dns_failed(&mut self, why: String) {
        self.note(format!("{why} (names will not resolve)"));
        self.internet.trouble.get_or_insert(why);
    }

    /// Why the scenario's DNS could not listen, if it could not.
    pub(super) fn dns_trouble(&self) -> Option<String> {
        self.internet.trouble.clone()
    }

    /// Remembers who the stand-in pushed next on `self.stand_ins` serves, for the log.
    pub(super) fn name_stand_in(&mut self, client: &str, target: &str, fixed_port: bool) {
        self.internet.stand_ins.push(StandInFor {
            client: client.to_owned(),
            target: target.to_owned(),
            fixed_port,
            retargeted: BTreeMap::new(),
        });
    }

    /// Makes the well-known `port`, held by the stand-in `index`, lead to `to` (a port of
    /// `target`, for `client`) from now on; the step log says so.
    pub(super) fn retarget_stand_in(
        &mut self,
        (index, port): (usize, u16),
        to: std::net::SocketAddr,
        (client, target): (&str, &str),
    ) {
        if self.stand_ins[index].route(port) == Some(to) {
            return;
        }
        // What came before goes in the log under the names it came with.
        self.note_the_internet(false);
        self.stand_ins[index].retarget(port, to);
        self.internet.stand_ins[index]
            .retargeted
            .insert(port, (client.to_owned(), target.to_owned()));
        self.note(format!(
            "port {port} of the task's well-known ports now leads to {target}, for {client}"
        ));
    }

    /// Whether a stand-in may be passing something on, which the harness cannot see from
    /// the programs' sockets: one at a hard-coded port always may; one serving only the
    /// well-known ports, once a client has come to it.
    pub(super) fn stand_ins_in_use(&self) -> bool {
        self.stand_ins
            .iter()
            .zip(&self.internet.stand_ins)
            .any(|(stand_in, serves)| serves.fixed_port || stand_in.passed_on() > 0)
    }

    /// Adds the names looked up and the arrivals at stand-ins since the last call to the
    /// step log, each at the time it happened; `at_the_end`, also how many questions were
    /// not kept.
    pub(super) fn note_the_internet(&mut self, at_the_end: bool) {
        let mut lines: Vec<(Instant, String)> = self
            .internet
            .queries
            .take_new()
            .into_iter()
            .map(|query| (query.at, format!("DNS: {}", query.describe())))
            .collect();
        for (stand_in, serves) in self.stand_ins.iter().zip(&self.internet.stand_ins) {
            for arrival in stand_in.take_arrivals() {
                let (client, target) = serves
                    .retargeted
                    .get(&arrival.asked.port())
                    .map_or((&serves.client, &serves.target), |(client, target)| {
                        (client, target)
                    });
                let what = if arrival.tcp {
                    "connected to"
                } else {
                    "sent a datagram to"
                };
                lines.push((
                    arrival.at,
                    // Not the client's own port: it changes from run to run, and the
                    // report should not.
                    format!(
                        "{client} {what} {}: the harness passed it on to {target}",
                        arrival.asked
                    ),
                ));
            }
        }
        for (at, text) in lines {
            let at = at.saturating_duration_since(self.started);
            // In time order among the step's own notes.
            let index = self.log.partition_point(|line| line.at <= at);
            self.log.insert(index, LogLine { at, text });
        }
        let dropped = self.internet.queries.dropped();
        if at_the_end && dropped > 0 {
            self.note(format!(
                "DNS: {dropped} more questions answered but not kept (the first {} are)",
                crate::peers::dns::record::KEPT
            ));
        }
    }
}
