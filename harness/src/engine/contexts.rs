//! What steps, checks and judges see of a running scenario: the engine's [`Run`] behind
//! the small traits they are written against (`crate::steps::StepContext` and the
//! capabilities it is made of, `Programs`, `Peers`, `Streams`;
//! `crate::protocols::checks::CheckContext`, `crate::judge::output::Facts`). Each method hands the
//! work to the engine.

use std::time::Duration;

use super::*;

impl crate::waiting::Stillness for Run<'_> {
    fn blocked_for_good(&self) -> Option<String> {
        Run::blocked_for_good(self)
    }

    fn processor_waits(&self) -> crate::world::real::processor_wait::ProcessorWaits {
        Run::processor_waits(self)
    }

    fn endings(&self) -> Option<crate::world::real::endings::Endings> {
        self.endings_to_wait_on()
    }
}

impl crate::steps::Streams for Run<'_> {
    fn read_stream(&self, name: &str, offset: u64, limit: usize) -> crate::steps::StreamView {
        let watched = if self.programs.contains_key(name) {
            Watched::Output {
                name,
                stream: OutputStream::Stdout,
            }
        } else {
            Watched::Received { name }
        };
        let (capture, ended) = self.watched_bytes(watched);
        let available = capture.len().saturating_sub(offset).min(limit as u64) as usize;
        let mut bytes = vec![0; available];
        let filled = capture.read_at(offset, &mut bytes).unwrap_or(0);
        bytes.truncate(filled);
        let still = ended.is_none().then(|| self.blocked_for_good()).flatten();
        crate::steps::StreamView {
            bytes,
            ended,
            still,
        }
    }

    fn cursor(&mut self, name: &str) -> &mut u64 {
        self.cursors.entry(name.to_owned()).or_default()
    }

    fn expect_output<'s>(
        &'s mut self,
        watched: Watched<'s>,
        expectation: &'s OutputExpectation,
        within: Duration,
        since: Option<&'s str>,
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(async move {
            let Some(since) = since else {
                self.expect_bytes(watched, expectation, within).await?;
                if let Watched::Output {
                    name,
                    stream: OutputStream::Stdout,
                } = watched
                {
                    // Stdout is data: judged again once the steps are over.
                    self.last_stdout
                        .insert(name.to_owned(), (self.step_number, expectation.clone()));
                }
                return Ok(());
            };
            // What is left of a deadline that started with `since`'s connection.
            let spent = self.peers[since].connected_at().elapsed();
            let left = within.saturating_sub(spent);
            self.expect_bytes(watched, expectation, left)
                .await
                .map_err(|mut failure| {
                    failure.expected += &format!(
                        ", {} ms at most after {since} connected",
                        within.as_millis()
                    );
                    failure
                })
        })
    }
}

impl crate::steps::Programs for Run<'_> {
    fn address(&self, name: &str) -> StepResult<(String, u16)> {
        self.endpoint_address(name)
    }

    fn wait_listening<'s>(
        &'s mut self,
        name: &'s str,
        within: Duration,
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(Run::wait_listening(self, name, within))
    }

    fn stop<'s>(&'s mut self, name: &'s str) -> crate::steps::StepFuture<'s> {
        Box::pin(async move { Run::stop(self, name).await.map(|_| ()) })
    }

    fn expect_exit<'s>(
        &'s mut self,
        name: &'s str,
        expected: ExitExpectation,
        within: Duration,
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(async move {
            Run::expect_exit(self, name, expected, within)
                .await
                .map(|_| ())
        })
    }

    fn refuse_crash<'s>(&'s mut self, name: &'s str) -> crate::steps::StepFuture<'s> {
        Box::pin(Run::refuse_crash(self, name))
    }

    fn folder(&self, name: &str) -> Option<std::path::PathBuf> {
        let program = self.programs.get(name)?;
        program.handle.folder().map(std::path::Path::to_owned)
    }

    fn connect_attempts(&self, name: &str) -> Option<u64> {
        self.programs.get(name)?.handle.connect_attempts()
    }

    fn has_exited(&self, name: &str) -> bool {
        self.programs
            .get(name)
            .is_some_and(|program| program.handle.exit_info().is_some())
    }

    fn ending(&self, name: &str) -> Option<String> {
        let program = self.programs.get(name)?;
        let info = program.handle.exit_info()?;
        let stderr_end = program.handle.stderr().tail(super::cause::STDERR_END);
        let words = match super::cause::last_words(&stderr_end) {
            Some(words) => format!("its stderr ends with: {words}"),
            None => "nothing on stderr".to_owned(),
        };
        Some(format!(
            "{} after {}s; {words}",
            info.kind,
            crate::encoding::decimal_seconds(info.after, 2)
        ))
    }

    fn close_stdin(&mut self, name: &str) {
        if let Some(program) = self.programs.get(name) {
            program.handle.close_stdin();
        }
    }

    fn peak_memory(&self, name: &str) -> Option<u64> {
        self.programs.get(name)?.handle.peak_memory()
    }

    fn memory_marks(&mut self) -> &mut BTreeMap<String, u64> {
        &mut self.memory_marks
    }

    fn start_program<'s>(&'s mut self, request: StartRequest<'s>) -> crate::steps::StepFuture<'s> {
        Box::pin(Run::start_program(self, request))
    }
}

impl crate::steps::Peers for Run<'_> {
    fn net(&self) -> crate::world::sockets::PeerNet {
        self.peer_net()
    }

    fn progress(&self, server: &str) -> Option<crate::peers::Progress> {
        self.servers
            .get(server)
            .and_then(ServerPeer::record)
            .and_then(|record| record.progress())
    }

    fn connect<'s>(
        &'s mut self,
        endpoint: &'s str,
        plan: &'s ClientPlan,
        family: Family,
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(Run::connect_peer(self, endpoint, plan, family))
    }

    fn close_peer<'s>(&'s mut self, name: &'s str, how: CloseHow) -> crate::steps::StepFuture<'s> {
        Box::pin(Run::close_peer(self, name, how))
    }

    fn wait_sent<'s>(
        &'s mut self,
        name: &'s str,
        within: Duration,
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(Run::wait_peer(self, name, within))
    }

    fn wait_read_by_program<'s>(
        &'s mut self,
        name: &'s str,
        within: Duration,
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(Run::wait_read_by_program(self, name, within))
    }

    fn start_relay<'s>(
        &'s mut self,
        name: &'s str,
        endpoint: &'s str,
        slicing: (SlicePlan, SlicePlan),
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(Run::start_relay(self, name, endpoint, slicing))
    }

    fn send_datagram<'s>(
        &'s mut self,
        name: &'s str,
        endpoint: &'s str,
        payload: &'s Payload,
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(Run::send_datagram(self, name, endpoint, payload))
    }

    fn partition<'s>(
        &'s mut self,
        hosts: &'s [String; 2],
        repair: bool,
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(std::future::ready(Run::partition(self, hosts, repair)))
    }

    fn listen<'s>(
        &'s mut self,
        name: &'s str,
        plan: &'s crate::peers::ServerPlan,
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(async move {
            let net = self.world.peer_net();
            let transcript = self.transcript.clone();
            let settings = self.settings;
            let server =
                ServerPeer::start(&net, name, plan.clone(), self.seed, transcript, settings)
                    .await
                    .map_err(|error| {
                        harness_trouble(format!("cannot start server peer {name}: {error}"))
                    })?;
            self.note(format!("{name} listens on port {}", server.port));
            self.servers.insert(name.to_owned(), server);
            Ok(())
        })
    }

    fn send_on<'s>(
        &'s mut self,
        name: &'s str,
        payload: &'s Payload,
        slices: &'s crate::faults::SlicePlan,
    ) -> crate::steps::StepFuture<'s> {
        Box::pin(async move {
            let count = self.sends_later.entry(name.to_owned()).or_default();
            *count += 1;
            let label = format!("{name}/say{count}");
            let peer = &self.peers[name];
            peer.send_more(payload, slices, self.seed, &label)
                .await
                .map_err(|error| {
                    StepFailure::fail(
                        format!("{name} to send {}", payload.describe()),
                        format!("sending failed: {error}"),
                    )
                })
        })
    }
}

impl crate::steps::StepContext for Run<'_> {
    fn note(&mut self, text: String) {
        Run::note(self, text);
    }

    fn site_folder(&self) -> Option<std::path::PathBuf> {
        self.site.as_ref().map(crate::site::Site::root)
    }

    fn own_network(&self) -> bool {
        matches!(self.world, World::Real(_)) && self.settings.namespace_per_scenario()
    }

    fn checks(&mut self) -> &mut dyn crate::protocols::checks::CheckContext {
        self
    }
}

impl crate::protocols::checks::CheckContext for Run<'_> {
    fn note(&mut self, text: String) {
        Run::note(self, text);
    }

    fn settings(&self) -> &crate::settings::RunSettings {
        self.settings
    }

    fn kit_root(&self) -> &std::path::Path {
        Run::kit_root(self)
    }

    fn peer_net(&self) -> crate::world::sockets::PeerNet {
        Run::peer_net(self)
    }

    fn transcript(&self) -> Transcript {
        Run::transcript(self)
    }

    fn elapsed(&self) -> Duration {
        Run::elapsed(self)
    }

    fn endpoint_address(&self, name: &str) -> StepResult<(String, u16)> {
        Run::endpoint_address(self, name)
    }

    fn start_program<'a>(
        &'a mut self,
        request: StartRequest<'a>,
    ) -> crate::steps::checks::CheckFuture<'a> {
        Box::pin(Run::start_program(self, request))
    }

    fn wait_listening<'a>(
        &'a mut self,
        name: &'a str,
        within: Duration,
    ) -> crate::steps::checks::CheckFuture<'a> {
        Box::pin(Run::wait_listening(self, name, within))
    }

    fn expect_exit<'a>(
        &'a mut self,
        name: &'a str,
        expected: ExitExpectation,
        within: Duration,
    ) -> crate::steps::checks::CheckFuture<'a, ExitInfo> {
        Box::pin(Run::expect_exit(self, name, expected, within))
    }

    fn expect_bytes<'a>(
        &'a mut self,
        watched: Watched<'a>,
        expectation: &'a OutputExpectation,
        within: Duration,
    ) -> crate::steps::checks::CheckFuture<'a> {
        Box::pin(Run::expect_bytes(self, watched, expectation, within))
    }

    fn stop<'a>(&'a mut self, name: &'a str) -> crate::steps::checks::CheckFuture<'a, ExitInfo> {
        Box::pin(Run::stop(self, name))
    }

    fn whole_memory(&self, name: &str) -> crate::steps::checks::WholeMemory {
        let Some(program) = self.programs.get(name) else {
            return Default::default();
        };
        crate::steps::checks::WholeMemory {
            cgroup_peak: program.handle.memory_peak(),
            largest_process_kib: program.handle.largest_process_kib(),
        }
    }
}

impl crate::judge::output::Facts for Run<'_> {
    /// What the named connections sent, in order, and whether they have all finished.
    ///
    /// A connection whose sending failed (the program reset or closed it) cannot stand for
    /// "what was sent": the program refused part of it, and the expectation fails saying so,
    /// rather than shrinking to the bytes that got through.
    fn sent_by(&self, names: &[String]) -> StepResult<(Concatenation, bool)> {
        for name in names {
            let peer = &self.peers[name];
            if let Some(error) = peer.send_error() {
                return Err(StepFailure::fail(
                    format!(
                        "{name} to deliver its {} bytes to the program",
                        peer.plan.send.len()
                    ),
                    format!(
                        "sending failed after {} bytes: {error}{}",
                        peer.sent(),
                        self.programs
                            .keys()
                            .map(|program| self.exit_note(program))
                            .collect::<String>()
                    ),
                ));
            }
        }
        let all_sent = names.iter().all(|name| self.peers[name].is_finished());
        let parts = names
            .iter()
            .map(|name| self.peers[name].sent_payload())
            .collect();
        Ok((Concatenation::new(parts), all_sent))
    }

    fn sent_payload(&self, name: &str) -> Payload {
        self.peers[name].sent_payload()
    }

    fn record(&self, server: &str) -> Option<&dyn crate::peers::ProtocolRecord> {
        self.servers.get(server).and_then(ServerPeer::record)
    }

    fn connections_accepted(&self, server: &str) -> u64 {
        self.servers[server].requests()
    }

    fn printed_on_stdout(&self, program: &str) -> bool {
        self.programs
            .get(program)
            .is_some_and(|program| !program.handle.stdout().is_empty())
    }

    /// The password of the login a program of the scenario hard-codes, if one does.
    fn password_in_use(&self, scenario: &str) -> String {
        self.scenario
            .roles()
            .iter()
            .find_map(|role| self.roles.get(*role)?.login.password.clone())
            .unwrap_or_else(|| scenario.to_owned())
    }
}
